"""Starting relaysync's own threads with a stack size of their own.

``threading.stack_size()`` is process-wide: it is set here only for the moment one of
relaysync's threads is started, under a lock, and put back at once, so that threads the
application starts keep the size it chose (or the platform's default).

Sizes, measured with CPython 3.11 on Linux x86-64 (a thread that recurses up to the
default recursion limit of 1,000 frames, through C code too, must end with
``RecursionError`` and never overflow its stack):

- :data:`WORKER_STACK_SIZE`, 4 MiB, for the threads that run user code (handlers and
  callbacks). The deepest ordinary recursion found, a function calling itself through
  ``sorted(key=...)``, needs between 1.5 and 2 MiB at that limit (``repr()``,
  ``__getattr__``, ``json``, ``pickle`` and ``decimal`` recursion need less than
  1 MiB); 4 MiB is twice that. It is half of glibc's usual 8 MiB, and more than the
  128 KiB that musl gives a thread, so handlers see the same limit everywhere.
- :data:`LIBRARY_STACK_SIZE`, 1 MiB, for relaysync's own threads (the I/O thread and
  the ``run()`` watcher), which run library code and logging handlers only: decoding a
  frame nested up to the recursion limit needs under 256 KiB.

A thread's resident memory does not depend on its stack size (only the pages a thread
touches are resident: about 16 KiB for an idle one, whatever the size); a smaller size
reserves less address space, which is what counts where memory is not overcommitted
(``vm.overcommit_memory=2``, ``ulimit -v``): 1,000 workers reserve 4 GiB of stack
instead of 8 GiB.

Each thread started here is also made lighter, by about 1.2 KiB (1,000 handler threads
at the default ``max_workers``): the Condition of its start ``Event`` keeps its waiters
in a list (see :class:`relaysync.waiting.SlimCondition`), every thread shares one
exception-hook wrapper instead of a closure of its own, and none gets an empty
``kwargs`` dict of its own. It stays a plain ``threading.Thread`` in every other way.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Dict, Optional, Tuple

from .waiting import slim_waiters

WORKER_STACK_SIZE = 4 * 1024 * 1024
LIBRARY_STACK_SIZE = 1024 * 1024

_size_lock = threading.Lock()
_NO_KWARGS: Dict[str, Any] = {}  # shared: Thread only unpacks it
_shared_hook: Optional[Any] = None  # the first thread's exception-hook wrapper


def _lighten(thread: threading.Thread) -> None:
    """Drop the per-thread objects ``thread`` can share (see the module docstring).

    The wrapper a thread calls when its body raises looks up ``threading.excepthook``
    at that moment, so a hook set later (by the application, by pytest) is used; only
    its fallbacks, for a hook set to ``None`` during interpreter shutdown, are the hooks
    in place when the first thread was started here. Python versions that keep these
    objects otherwise are left alone.
    """
    global _shared_hook
    slim_waiters(getattr(getattr(thread, "_started", None), "_cond", None))
    if not hasattr(thread, "_invoke_excepthook"):
        return
    if _shared_hook is None:
        _shared_hook = thread._invoke_excepthook
    else:
        thread._invoke_excepthook = _shared_hook


def start_thread(
    target: Callable[..., Any],
    name: str,
    stack_size: int,
    args: Tuple[Any, ...] = (),
) -> threading.Thread:
    """Start a daemon thread running ``target(*args)`` with a stack of ``stack_size`` bytes.

    Where the platform refuses the size, the thread gets the default stack.

    Args:
        target: the thread body.
        name: the thread's name.
        stack_size: bytes of stack (at least 32 KiB; a multiple of the page size).
        args: positional arguments for ``target``.

    Returns:
        The started thread.

    Raises:
        RuntimeError: the thread could not be started.
    """
    thread = threading.Thread(target=target, args=args, kwargs=_NO_KWARGS, name=name, daemon=True)
    _lighten(thread)
    with _size_lock:
        try:
            previous = threading.stack_size(stack_size)
        except (ValueError, RuntimeError):  # RuntimeError includes threading.ThreadError
            thread.start()
            return thread
        try:
            thread.start()
        finally:
            threading.stack_size(previous)
    return thread


__all__ = ["LIBRARY_STACK_SIZE", "WORKER_STACK_SIZE", "start_thread"]
