"""How often and on what to retry a connection (tenacity), apart from how it connects."""

from __future__ import annotations

import threading
from typing import Any, Callable, List, Optional, Tuple, Type

import tenacity


def backoff_policy(
    *,
    retry_on: Tuple[Type[BaseException], ...],
    fatal: Tuple[Type[BaseException], ...] = (),
    closing: threading.Event,
    initial: float,
    maximum: float,
    deadline: Optional[float],
    give_up: Callable[[], bool],
    before_sleep: Callable[[tenacity.RetryCallState], None],
) -> tenacity.Retrying:
    """Build the retry policy for one series of connection attempts.

    Exponential backoff from ``initial`` to ``maximum`` seconds with up to ``initial``
    seconds of jitter; the sleep is cut short and retrying stops when ``closing`` is set.

    Args:
        retry_on: exception types that are worth another attempt.
        fatal: subtypes of those that are not (raised at once).
        closing: set by ``close()``.
        initial, maximum: backoff bounds in seconds.
        deadline: stop after this many seconds (the first connect), or ``None``.
        give_up: checked after each failure; True stops retrying (e.g. too many
            authentication rejections).
        before_sleep: logging hook.
    """
    stops: List[Any] = [tenacity.stop_when_event_set(closing), lambda retry_state: give_up()]
    if deadline is not None:
        stops.append(tenacity.stop_after_delay(deadline))
    return tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(retry_on)
        & tenacity.retry_if_not_exception_type(fatal),
        wait=tenacity.wait_exponential(multiplier=initial, max=maximum)
        + tenacity.wait_random(0, initial),
        stop=tenacity.stop_any(*stops),
        sleep=tenacity.nap.sleep_using_event(closing),
        before_sleep=before_sleep,
        reraise=True,
    )
