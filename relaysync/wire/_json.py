"""The JSON codec of the wire: one compact encoder and one decoder, built once.

``json.dumps``/``json.loads`` with options build an encoder or check their arguments on
every call; these bound methods skip that on the request and frame paths.
"""

from __future__ import annotations

import json
from typing import Any, Union

#: Compact JSON text of a frame (no spaces after separators).
encode = json.JSONEncoder(separators=(",", ":")).encode
_decode = json.JSONDecoder().decode


def parse(data: Union[bytes, str]) -> Any:
    """Parse a frame's JSON text; bytes are read as UTF-8 the way ``json.loads`` reads
    them (lone surrogates let through), minus its per-call checks.

    Raises:
        ValueError: not JSON (``UnicodeDecodeError`` is one).
        RecursionError: nested too deeply.
    """
    return _decode(data.decode("utf-8", "surrogatepass") if isinstance(data, bytes) else data)


__all__ = ["encode", "parse"]
