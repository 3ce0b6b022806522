"""Outbound calls: what :meth:`~relaysync.RelayClient.dial`, ``dial_phone`` and
``dial_sip`` do once their arguments are in.

:class:`Dialer` is handed the client's :class:`~relaysync.host.CallHost` (to send
``calling.dial``) and its :class:`~relaysync.dispatch.CallRegistry` (which waits for the
answered leg). Each method takes ``args``, the public wrapper's arguments as a mapping
(its ``locals()``).
"""

from __future__ import annotations

from typing import Any, Mapping

from . import operations as ops
from ._entropy import new_id
from ._validate import check_timeout, require_timeout
from .call import Call
from .devices import normalize_devices, phone_device, sip_device
from .dispatch import CallRegistry
from .errors import RelayConnectionError, RelayTimeoutError
from .host import CallHost
from .shapes import named
from .waiting import Deadline


class Dialer:
    """Places outbound calls and waits for a leg to answer.

    Args:
        host: sends the requests; its ``request_timeout`` bounds the dial request and
            its ``fork_guard`` refuses a forked child.
        registry: the client's calls; it creates the answered call and waits for it.
    """

    def __init__(self, host: CallHost, registry: CallRegistry) -> None:
        self._host = host
        self._registry = registry

    def dial(self, args: Mapping[str, Any]) -> Call:
        """:meth:`RelayClient.dial <relaysync.RelayClient.dial>` (see its docstring)."""
        devices = named("RelayClient.dial()", normalize_devices, args["devices"])
        return self._place("dial", {**args, "devices": devices})

    def dial_phone(self, args: Mapping[str, Any]) -> Call:
        """:meth:`RelayClient.dial_phone <relaysync.RelayClient.dial_phone>`."""
        ring = require_timeout("timeout", args["timeout"])
        dial_timeout = check_timeout("dial_timeout", args["dial_timeout"])
        device = named(
            "RelayClient.dial_phone()",
            phone_device,
            args["to"],
            args["from_"],
            timeout=max(1, int(ring)),
        )
        timeout = ring + 10.0 if dial_timeout is None else dial_timeout
        return self._place("dial_phone", {**args, "devices": [[device]], "timeout": timeout})

    def dial_sip(self, args: Mapping[str, Any]) -> Call:
        """:meth:`RelayClient.dial_sip <relaysync.RelayClient.dial_sip>`."""
        device = named(
            "RelayClient.dial_sip()", sip_device, args["to"], args["from_"], headers=args["headers"]
        )
        return self._place("dial_sip", {**args, "devices": [[device]]})

    def _place(self, api: str, args: Mapping[str, Any]) -> Call:
        """Send ``calling.dial`` with a wrapper's arguments and wait for the answer."""
        timeout = require_timeout("timeout", args["timeout"])
        self._host.fork_guard.check("dial")
        tag = args["tag"] or new_id()
        params = ops.DIAL.request(f"RelayClient.{api}()", {**args, "tag": tag})
        deadline = Deadline(timeout)
        waiter = self._registry.start_dial(tag)
        try:
            self._host.execute("calling.dial", params, deadline.cap(self._host.request_timeout))
        except BaseException as exc:
            lost = isinstance(exc, (RelayTimeoutError, RelayConnectionError))
            if lost and getattr(exc, "request_sent", True):
                # The dial may have started anyway: keep listening, hang up a late answer.
                waiter.abandon()
            else:
                self._registry.end_dial(tag)
            raise
        return waiter.wait(deadline.remaining(), f"dial {tag}")


__all__ = ["Dialer"]
