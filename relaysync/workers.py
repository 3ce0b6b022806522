"""Worker threads that run user code (handlers and callbacks), never on the reader thread."""

from __future__ import annotations

import collections
import contextlib
import itertools
import logging
import threading
from typing import Any, Callable, Deque, Iterator, List, Optional, Set

from ._log import LimitedLog, logger
from ._threads import WORKER_STACK_SIZE, start_thread
from .signals import HeldSignals

Task = Callable[[], Any]
MAX_SERIAL_TASKS = 10_000
#: Default cap on worker threads: every inbound call of a busy line gets its own
#: handler thread at once, up to this many at a time.
DEFAULT_MAX_WORKERS = 1_000
#: Seconds a worker waits for a task before it ends (the pool starts one again on demand).
IDLE_SECONDS = 30.0
_full_log = LimitedLog()


class QueueFullError(RuntimeError):
    """The worker queue is full; the task was not accepted."""


class WorkerPool:
    """A pool of named daemon threads fed from one FIFO queue, growing with demand.

    A task that finds no idle worker starts a new one, up to ``max_workers``; beyond that
    it waits in the queue for the next free worker. A worker that finds no task for
    ``idle_timeout`` seconds ends. ``shutdown()`` joins every thread (except the calling
    thread, if it is one of them). A task's exception is logged with its label. Inside
    :meth:`deferred`, the tasks one thread submits are queued at once but wake the
    workers only when the block ends (one wake-up per burst of events).

    Args:
        max_workers: the most threads at once.
        max_queue: the most tasks waiting for a worker.
        name: prefix of the threads' names.
        idle_timeout: seconds an idle worker waits for a task before it ends.
        stack_size: bytes of stack of each worker thread.

    Raises:
        ValueError: ``max_workers`` below 1 or ``idle_timeout`` not positive.
    """

    def __init__(
        self,
        max_workers: int,
        *,
        max_queue: int = 100_000,
        name: str = "relaysync-worker",
        idle_timeout: float = IDLE_SECONDS,
        stack_size: int = WORKER_STACK_SIZE,
    ) -> None:
        if max_workers < 1:
            raise ValueError(f"max_workers must be at least 1, got {max_workers!r}")
        if not idle_timeout > 0:
            raise ValueError(f"idle_timeout must be positive, got {idle_timeout!r}")
        self.max_workers = max_workers
        self._max_queue = max_queue
        self._name = name
        self._idle_timeout = idle_timeout
        self._stack_size = stack_size
        self._numbers = itertools.count(1)
        self._cond = threading.Condition()
        self._queue: Deque[tuple[Task, str]] = collections.deque()
        self._threads: Set[threading.Thread] = set()  # live workers
        self._retired: List[threading.Thread] = []  # ended workers, maybe still exiting
        self._idle = 0
        self._busy = 0
        self._stopping = False
        self._deferring: Optional[int] = None  # ident of the thread inside deferred()
        self._held = 0  # tasks queued inside deferred() whose wake-up is held
        self._dropped = 0  # callbacks dropped by full queues (SerialQueue reports them)

    @property
    def busy(self) -> int:
        """How many workers are running a task right now."""
        with self._cond:
            return self._busy

    @property
    def size(self) -> int:
        """How many workers exist right now (busy or idle)."""
        with self._cond:
            return len(self._threads)

    @property
    def queued(self) -> int:
        """How many tasks wait for a worker."""
        with self._cond:
            return len(self._queue)

    @property
    def dropped(self) -> int:
        """How many callbacks were dropped because a queue was full."""
        with self._cond:
            return self._dropped

    def count_dropped(self, count: int = 1) -> None:
        """Add ``count`` to :attr:`dropped` (a callback queue refused tasks)."""
        with self._cond:
            self._dropped += count

    def saturated(self) -> bool:
        """True when every worker is busy (or will be, given the queued tasks)."""
        with self._cond:
            return self._busy + len(self._queue) >= self.max_workers

    def submit(self, task: Task, label: str = "task") -> None:
        """Queue ``task``; raises :class:`QueueFullError` when the queue is full.

        Tasks submitted after shutdown are dropped with a log line.
        """
        if threading.current_thread() is not threading.main_thread():
            self._enqueue(task, label)
            return
        # a Ctrl-C in Thread.start() must not leave a worker out of self._threads: the
        # signals are held while it starts and handled once the lock is let go
        held = HeldSignals()
        try:
            with held:
                self._enqueue(task, label)
        finally:
            held.deliver()

    def _enqueue(self, task: Task, label: str) -> None:
        """:meth:`submit`'s work, under the lock."""
        with self._cond:
            if self._stopping:
                logger.debug("worker pool closed; dropping %s", label)
                return
            if len(self._queue) >= self._max_queue:
                raise QueueFullError(f"worker queue is full ({self._max_queue}); {label} rejected")
            self._queue.append((task, label))
            if self._deferring is not None and self._deferring == threading.get_ident():
                self._held += 1
                return
            self._wake_locked(1)

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        """Hold the wake-ups of the tasks this thread submits until the block ends.

        The tasks are queued (and refused when the queue is full) as usual; only the
        notify or thread start is done once, for all of them, when the block exits.
        One thread at a time (the reader) may use it; it does not nest.
        """
        with self._cond:
            self._deferring = threading.get_ident()
        try:
            yield
        finally:
            with self._cond:
                self._deferring = None
                held, self._held = self._held, 0
                if held and not self._stopping:
                    self._wake_locked(held)

    def _wake_locked(self, count: int) -> None:
        """Find workers for the last ``count`` queued tasks (lock held)."""
        # Idle workers already woken for earlier tasks are not free for these ones.
        free = max(0, self._idle - (len(self._queue) - count))
        notify = min(count, free)
        if notify < count:
            self._start_workers_locked(count - notify, notify)
        elif notify:
            self._cond.notify(notify)

    def _start_workers_locked(self, count: int, notify: int) -> None:
        """Start up to ``count`` workers, then wake ``notify`` idle ones plus one per
        worker the cap prevented (lock held)."""
        started = 0
        for _ in range(count):
            if len(self._threads) >= self.max_workers:
                notify += 1
                continue
            if not started:
                self._retired = [t for t in self._retired if t.is_alive()]
            started += 1
            try:
                thread = start_thread(
                    self._run, f"{self._name}-{next(self._numbers)}", self._stack_size
                )
            except RuntimeError as exc:  # the system refuses more threads (ulimit, pids)
                _full_log.log(
                    logging.ERROR,
                    "thread-start-failed",
                    "relaysync: could not start a worker thread (%s); %d running, "
                    "the task waits for a free one",
                    exc,
                    len(self._threads),
                )
                break  # the rest wait in the queue for a worker to finish its task
            self._threads.add(thread)
        if notify:
            self._cond.notify(notify)

    def _run(self) -> None:
        """Worker thread body: take tasks until shutdown, or until idle for too long."""
        while True:
            with self._cond:
                self._idle += 1
                self._cond.wait_for(lambda: self._queue or self._stopping, self._idle_timeout)
                self._idle -= 1
                if not self._queue:
                    # shutdown, or idle for idle_timeout: shutdown() still joins it
                    me = threading.current_thread()
                    self._threads.discard(me)
                    self._retired.append(me)
                    return
                task, label = self._queue.popleft()
                self._busy += 1
            try:
                task()
            except BaseException:  # user code: log, never let it kill the worker
                logger.exception("error in %s", label)
            finally:
                del task  # an idle worker must not keep its last task's call alive
                with self._cond:
                    self._busy -= 1

    def shutdown(self, timeout: Optional[float] = 5.0) -> bool:
        """Stop accepting tasks, let queued ones finish, and join the threads.

        Returns:
            True if every thread (other than the caller) ended within ``timeout``.
        """
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            threads = [*self._threads, *self._retired]
        current = threading.current_thread()
        ok = True
        for thread in threads:
            if thread is not current:
                thread.join(timeout)
                ok = ok and not thread.is_alive()
        return ok


class SerialQueue:
    """Runs tasks for one key (one call) in order, one at a time, on a shared pool.

    At most ``max_tasks`` wait at once: when callbacks fall that far behind, new ones
    are dropped and reported (rate-limited, with a count), never queued without bound.
    """

    # one per call: slots keep it about 150 bytes smaller than an instance dict
    __slots__ = ("_label", "_lock", "_max_tasks", "_pool", "_scheduled", "_tasks", "dropped")

    def __init__(self, pool: WorkerPool, label: str, *, max_tasks: int = MAX_SERIAL_TASKS) -> None:
        self._pool = pool
        self._label = label
        self._max_tasks = max_tasks
        self._lock = threading.Lock()
        # made on the first task and let go of when drained: a deque costs about 600
        # bytes, and most serial queues (one per call) never run a task
        self._tasks: Optional[Deque[Task]] = None
        self._scheduled = False
        self.dropped = 0

    def __len__(self) -> int:
        """How many tasks wait."""
        with self._lock:
            return len(self._tasks) if self._tasks is not None else 0

    def submit(self, task: Task) -> bool:
        """Append ``task``; schedule a drain on the pool if none is running.

        Returns:
            False if the task was dropped because the queue is full.
        """
        with self._lock:
            tasks = self._tasks
            if tasks is None:
                tasks = self._tasks = collections.deque()
            full = len(tasks) >= self._max_tasks
            if full:
                self.dropped += 1
                dropped = self.dropped
            else:
                tasks.append(task)
                if self._scheduled:
                    return True
                self._scheduled = True
        if full:
            self._pool.count_dropped()
            _full_log.log(
                logging.ERROR,
                "serial-queue-full",
                "relaysync: %d callbacks waiting for %s; callback dropped (%d so far)",
                self._max_tasks,
                self._label,
                dropped,
            )
            return False
        try:
            self._pool.submit(self._drain, self._label)
        except QueueFullError:
            with self._lock:
                self._scheduled = False
                lost = len(self._tasks) if self._tasks is not None else 0
                self._tasks = None
            self._pool.count_dropped(lost)
            logger.error("worker queue full: callbacks for %s dropped", self._label)
            return False
        return True

    def _drain(self) -> None:
        """Run queued tasks until empty (on a worker thread)."""
        while True:
            with self._lock:
                if not self._tasks:
                    self._scheduled = False
                    self._tasks = None
                    return
                task = self._tasks.popleft()
            try:
                task()
            except BaseException:
                logger.exception("error in callback for %s", self._label)
