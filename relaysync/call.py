"""Call: a call leg and every method RELAY offers on it."""

from __future__ import annotations

from .call_control import CallControlMixin
from .call_media import CallMediaMixin
from .diagram import CallFlow


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

    def timeline(self) -> CallFlow:
        """This call's flow: requests, replies and events with timings, as a ladder diagram.

        The frames are recorded by the client as they pass (a bounded number per call,
        see :mod:`relaysync.flowlog`); an outbound call includes its dial. Print it for
        text, ``.to_svg()``/``.to_html()``/``.save(path)`` for the diagram; in Jupyter it
        shows inline.

        Returns:
            A :class:`~relaysync.diagram.CallFlow` snapshot of the flow so far.
        """
        return self._client.timeline(self.call_id)


__all__ = ["Call"]
