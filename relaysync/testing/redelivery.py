"""Redelivery fault: send events again that the client may already have acked.

RELAY redelivers an event whenever it has not seen the ack, and an ack can be lost with
the socket after the client processed the event: the client then gets an event id it
has already handled. :func:`redeliver_recent` reproduces that on a live socket by
writing the last events sent to a session once more, verbatim (same ids). Loop thread
only; the facade marshals it there.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Dict, List, Optional

if TYPE_CHECKING:
    from .core import SimCore

logger = logging.getLogger("relaysync.simulator")

#: How far back in the journal to look for a session's events.
SCAN_ENTRIES = 5_000


def recent_events(core: SimCore, session_id: str, count: int) -> List[Dict[str, Any]]:
    """The last ``count`` distinct ``signalwire.event`` frames sent to ``session_id``.

    Args:
        core: the simulator core (its journal is read).
        session_id: the session whose events to pick.
        count: how many at most.

    Returns:
        Event frames, oldest first.
    """
    picked: Dict[str, Dict[str, Any]] = {}
    for entry in reversed(core.journal.entries[-SCAN_ENTRIES:]):
        frame = entry.frame
        if (
            entry.direction == "out"
            and entry.session_id == session_id
            and isinstance(frame, dict)
            and frame.get("method") == "signalwire.event"
            and isinstance(frame.get("id"), str)
        ):
            picked.setdefault(frame["id"], frame)
            if len(picked) >= count:
                break
    return list(reversed(list(picked.values())))


def redeliver_recent(core: SimCore, count: int = 5, session_id: Optional[str] = None) -> int:
    """Write the last ``count`` events of each targeted session again, with their ids.

    Args:
        core: the simulator core.
        count: events per session (must be at least 1).
        session_id: one session, or every online session when ``None``.

    Returns:
        How many frames were sent again.

    Raises:
        ValueError: ``count`` below 1, or an unknown ``session_id``.
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"count must be an int >= 1, got {count!r}")
    sent = 0
    for conn in core.target_connections(session_id):
        session = conn.session
        if session is None:
            continue
        frames = recent_events(core, session.id, count)
        logger.info("fault: redelivering %d events on socket %d", len(frames), conn.id)
        sent += sum(core.write(conn, frame) for frame in frames)
    return sent


__all__ = ["SCAN_ENTRIES", "recent_events", "redeliver_recent"]
