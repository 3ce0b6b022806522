"""Call: a call leg and every method RELAY offers on it."""

from __future__ import annotations

from .call_control import CallControlMixin
from .call_media import CallMediaMixin


class Call(CallControlMixin, CallMediaMixin):
    """A call leg controlled through RELAY.

    Attributes:
        call_id, node_id: the server's identifiers of the leg.
        tag: the client tag it was dialled with (outbound), if any.
        direction: ``inbound`` or ``outbound``.
        device: the wire device ``{type, params}`` of the far end.
        context: the context an inbound call arrived on.
        from_number, to_number: the numbers (or SIP URIs) of the device.
        state, end_reason: the latest call state and, once ended, why.
        peer: the bridged :class:`Call` after a successful ``connect``.

    Lifecycle and waiting: :meth:`answer`, :meth:`hangup`, :meth:`pass_`,
    :meth:`wait_for`, :meth:`on`, :meth:`events`. Control: :meth:`refer`,
    :meth:`connect`, :meth:`disconnect`, :meth:`transfer`. Media: :meth:`play` and its
    shorthands.
    """


__all__ = ["Call"]
