"""Request ids and WebSocket masking keys without a system call each.

``uuid.uuid4()`` and ``os.urandom(4)`` each make a ``getrandom`` system call, which
also hands the GIL to another thread: two per request, the busiest path there is.
Ids come from a generator seeded from the OS (and re-seeded in a forked child, so
parent and child never repeat each other); they are UUID v4 strings with 122 random
bits, as RELAY expects, but not secrets. Masking keys keep the strong source RFC 6455
asks for: they are cut from one ``os.urandom`` read of :data:`POOL_KEYS` keys.
"""

from __future__ import annotations

import os
import random
import threading

POOL_KEYS = 1024

_ids = random.Random(os.urandom(32))
_VERSION = 0x4000 << 64  # version nibble 4 in bits 76-79
_VARIANT = 0x8000 << 48  # variant bits 10 in bits 62-63
_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))


def new_id() -> str:
    """A fresh UUID v4 string (random; thread-safe: one C call under the GIL)."""
    bits = (_ids.getrandbits(128) & _CLEAR) | _VERSION | _VARIANT
    h = f"{bits:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class _KeyPool:
    """4-byte masking keys cut from one OS random read at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool = b""
        self._next = 0

    def take(self, count: int = 1) -> bytes:
        """``count`` fresh keys, concatenated (never handed out twice)."""
        size = 4 * count
        with self._lock:
            if self._next + size > len(self._pool):
                self._pool = os.urandom(max(4 * POOL_KEYS, size))
                self._next = 0
            start = self._next
            self._next = start + size
            return self._pool[start : start + size]

    def reseed(self) -> None:
        """Forget the pool (a forked child must not reuse its parent's keys)."""
        self._lock = threading.Lock()
        self._pool, self._next = b"", 0


keys = _KeyPool()


def _forked() -> None:
    _ids.seed(os.urandom(32))
    keys.reseed()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forked)


__all__ = ["POOL_KEYS", "keys", "new_id"]
