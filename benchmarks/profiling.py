"""cProfile for the threads a benchmark starts (the reader thread, the workers ...).

``cProfile`` profiles the thread that enables it. :func:`profile_new_threads` installs
a ``threading.setprofile`` hook that enables one profiler in each thread started inside
the block; :func:`report` merges those of a group of threads into one table. The
profiler's own overhead inflates Python-heavy code: read the tables for where the time
goes, not for absolute speed.
"""

from __future__ import annotations

import contextlib
import cProfile
import io
import pstats
import sys
import threading
from types import FrameType
from typing import Any, Iterator, List, Optional, Tuple

Profiles = List[Tuple[str, cProfile.Profile]]


@contextlib.contextmanager
def profile_new_threads() -> Iterator[Profiles]:
    """Profile every thread started inside the block (not the calling thread).

    Yields:
        The list of ``(thread name, profiler)`` pairs, filled as threads start.
    """
    profiles: Profiles = []
    lock = threading.Lock()

    def start(frame: FrameType, event: str, arg: Any) -> None:
        sys.setprofile(None)
        profiler = cProfile.Profile()
        with lock:
            profiles.append((threading.current_thread().name, profiler))
        profiler.enable()

    threading.setprofile(start)
    try:
        yield profiles
    finally:
        threading.setprofile(None)


def report(
    profiles: Profiles,
    prefix: str = "",
    limit: int = 25,
    sort: str = "tottime",
    title: Optional[str] = None,
) -> str:
    """Merged statistics of the threads whose name starts with ``prefix``.

    Args:
        profiles: what :func:`profile_new_threads` collected.
        prefix: thread-name prefix (``"relaysync-io"``: the reader thread).
        limit: how many functions to list.
        sort: a ``pstats`` sort key.
        title: a heading line.

    Returns:
        The table as text.
    """
    out = io.StringIO()
    if title:
        out.write(f"{title}\n")
    chosen = [profiler for name, profiler in profiles if name.startswith(prefix)]
    if not chosen:
        out.write("(no thread was profiled)\n")
        return out.getvalue()
    stats = pstats.Stats(chosen[0], stream=out)
    for profiler in chosen[1:]:
        stats.add(profiler)
    stats.strip_dirs().sort_stats(sort).print_stats(limit)
    return out.getvalue()
