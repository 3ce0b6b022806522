"""Call methods that join the call to others or change how it sounds: conferences,
rooms, queues, hold, denoise, echo, digit bindings, live transcription, user events."""

from __future__ import annotations

from .runner import Operations


class CallRoomsMixin:
    """Conferences, rooms, queues and the other one-shot methods."""

    operations: Operations


__all__ = ["CallRoomsMixin"]
