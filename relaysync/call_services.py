"""Call methods for fax, payments and AI agents."""

from __future__ import annotations

from .runner import Operations


class CallServicesMixin:
    """send_fax, receive_fax, pay, ai and the AI one-shots."""

    operations: Operations


__all__ = ["CallServicesMixin"]
