"""SMS segment counting as carriers do it: GSM-7 when every character fits, else UCS-2.

A single SMS holds 160 GSM-7 septets or 70 UCS-2 code units. A longer text is sent
concatenated: each part loses room to the concatenation header and holds 153 septets
or 67 code units. A GSM-7 extension character (``^{}\\[~]|€`` and form feed) takes two
septets, and neither it nor a UTF-16 surrogate pair is split between two parts.
"""

from __future__ import annotations

from typing import Iterable

#: The GSM 03.38 basic character set (without the escape character).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
#: Characters of the GSM 03.38 extension table (two septets each).
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

SINGLE_GSM7 = 160
PART_GSM7 = 153
SINGLE_UCS2 = 70
PART_UCS2 = 67


def is_gsm7(text: str) -> bool:
    """Whether every character of ``text`` can be sent in the GSM-7 alphabet."""
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def _parts(sizes: Iterable[int], single: int, part: int) -> int:
    """Count parts for characters of the given sizes, never splitting a character."""
    sizes = list(sizes)
    if sum(sizes) <= single:
        return 1 if sizes else 0
    count, used = 1, 0
    for size in sizes:
        if used + size > part:
            count, used = count + 1, 0
        used += size
    return count


def count_segments(text: str) -> int:
    """Return how many SMS segments ``text`` needs (``0`` for an empty text).

    Examples: 160 plain characters are 1 segment, 161 are 2 (153 + 8); one emoji makes
    the text UCS-2, so 71 characters are 2 segments (67 + 4).
    """
    if is_gsm7(text):
        return _parts((2 if ch in GSM7_EXTENSION else 1 for ch in text), SINGLE_GSM7, PART_GSM7)
    return _parts((2 if ord(ch) > 0xFFFF else 1 for ch in text), SINGLE_UCS2, PART_UCS2)


__all__ = ["GSM7_BASIC", "GSM7_EXTENSION", "count_segments", "is_gsm7"]
