"""Call methods that move the call: SIP REFER, connect, disconnect, transfer.

Each wrapper passes its arguments straight on (``locals()``) to the runner, which
checks them against the method's declaration in :mod:`relaysync.operations`.
"""

from __future__ import annotations

from typing import Any, Dict, List, Literal, Mapping, Optional, Union, overload

from . import operations as ops
from ._entropy import new_id
from ._log import logger
from ._validate import check_line, check_timeout
from .actions import ConnectAction, ReferAction
from .call_operations import Completion, Extra, Operations
from .devices import normalize_devices, normalize_refer_device, phone_device, sip_device
from .results import ConnectResult, ReferResult
from .shapes import named

Device = Union[str, Mapping[str, Any]]
DevicePlan = Union[Mapping[str, Any], List[Any]]


class CallControlMixin:
    """REFER, connect, disconnect and transfer; mixed into :class:`~relaysync.call.Call`."""

    operations: Operations
    call_id: str
    peer: Any

    @overload
    def refer(
        self,
        device: Device,
        *,
        status_url: Optional[str] = ...,
        wait: Literal[True] = ...,
        timeout: Optional[float] = ...,
        on_completed: Completion = ...,
        extra_params: Extra = ...,
    ) -> ReferResult: ...

    @overload
    def refer(
        self,
        device: Device,
        *,
        status_url: Optional[str] = ...,
        wait: Literal[False],
        timeout: Optional[float] = ...,
        on_completed: Completion = ...,
        extra_params: Extra = ...,
    ) -> ReferAction: ...

    def refer(
        self,
        device: Device,
        *,
        status_url: Optional[str] = None,
        wait: bool = True,
        timeout: Optional[float] = 60.0,
        on_completed: Completion = None,
        extra_params: Extra = None,
    ) -> Union[ReferResult, ReferAction]:
        """Transfer the call with a SIP REFER and (by default) block for the outcome.

        Args:
            device: a SIP URI (``"sip:support@example.com"``), or a device
                ``{"type": "sip", "params": {"to": uri, "username"?, "password"?}}``;
                ``params.uri`` is accepted as the spelling of ``to``.
            status_url: optional URL for the server's status callbacks.
            wait: ``False`` returns the :class:`ReferAction` once the server accepted it.
            timeout: seconds for the whole operation (request and outcome).
            on_completed: ``callback(action)`` run on a worker thread when it settles.
            extra_params: params sent as given, unchecked.

        Returns:
            :class:`ReferResult` with the final state (success, busy, noAnswer, cancel,
            error) and the SIP codes; or the action when ``wait=False``. Outcome events
            are matched by ``sip_refer_to``, so the outcome of an earlier REFER (to
            another target) never settles this one.

        Raises:
            ValueError: the device is not a SIP target, the target holds CR/LF, or a
                bad ``timeout`` (nothing is sent).
            RelayError: the server rejected the request.
            CallEndedError: the call ended before the REFER had a final state.
            RelayTimeoutError: no final state within ``timeout``.
        """
        device, used_uri = named("Call.refer()", normalize_refer_device, device)
        target = named("Call.refer()", check_line, "refer target", device["params"]["to"])
        if used_uri:
            logger.debug("relaysync: refer device params.uri sent as params.to")
        if not wait:
            timeout = named("Call.refer()", check_timeout, "timeout", timeout)
            request_timeout = (
                None if timeout is None else min(timeout, self.operations.request_timeout)
            )
            return self.operations.start(
                ops.REFER, ReferAction, "refer", locals(), correlation=target
            )
        result: ReferResult = self.operations.run(
            ops.REFER,
            ReferAction,
            "refer",
            locals(),
            timeout=timeout,
            what=f"refer on call {self.call_id}",
            correlation=target,
        )
        return result

    def connect(
        self,
        devices: DevicePlan,
        *,
        ringback: Optional[Any] = None,
        tag: Optional[str] = None,
        max_duration: Optional[int] = None,
        max_price_per_minute: Optional[float] = None,
        status_url: Optional[str] = None,
        timeout: Optional[float] = 60.0,
        extra_params: Extra = None,
    ) -> ConnectResult:
        """Bridge this call to another party and block until connected or failed.

        Args:
            devices: a device, a list of devices (tried in turn), or a dial plan
                (list of lists: outer tried in series, inner rung in parallel).
            ringback: media the caller hears while the peer rings.
            tag: client tag for the peer legs (generated if omitted).
            max_duration, max_price_per_minute, status_url: passed to RELAY.
            timeout: seconds for the whole operation (request and outcome).
            extra_params: params sent as given, unchecked.

        Returns:
            :class:`ConnectResult`; on success ``peer`` is the connected :class:`Call`.

        Raises:
            ValueError: malformed devices or ringback, or a bad ``timeout``.
            TypeError: an unknown key in a device or a media item.
            CallEndedError: this call ended first.
            RelayTimeoutError: no outcome within ``timeout``.
        """
        devices = named("Call.connect()", normalize_devices, devices)
        return self._connect("connect", locals())

    def connect_phone(
        self,
        to: str,
        from_: str,
        *,
        timeout: Optional[float] = 60.0,
        ring_timeout: Optional[int] = None,
        ringback: Optional[Any] = None,
        tag: Optional[str] = None,
        max_duration: Optional[int] = None,
        max_price_per_minute: Optional[float] = None,
        status_url: Optional[str] = None,
        extra_params: Extra = None,
    ) -> ConnectResult:
        """Connect to a phone number (``ring_timeout``: seconds it may ring). See
        :meth:`connect` for the other keyword arguments."""
        devices = [[named("Call.connect_phone()", phone_device, to, from_, timeout=ring_timeout)]]
        return self._connect("connect_phone", locals())

    def connect_sip(
        self,
        to: str,
        from_: str,
        *,
        headers: Optional[Any] = None,
        timeout: Optional[float] = 60.0,
        ringback: Optional[Any] = None,
        tag: Optional[str] = None,
        max_duration: Optional[int] = None,
        max_price_per_minute: Optional[float] = None,
        status_url: Optional[str] = None,
        extra_params: Extra = None,
    ) -> ConnectResult:
        """Connect to a SIP URI (with SIP ``headers``). See :meth:`connect` for the other
        keyword arguments."""
        devices = [[named("Call.connect_sip()", sip_device, to, from_, headers=headers)]]
        return self._connect("connect_sip", locals())

    def _connect(self, api: str, args: Mapping[str, Any]) -> ConnectResult:
        """Run ``calling.connect`` with a wrapper's arguments; adopt the peer."""
        tag = args["tag"] or new_id()
        args = {**args, "tag": tag}
        registry = self.operations.host.registry
        registry.watch_tag(tag)
        try:
            result: ConnectResult = self.operations.run(
                ops.CONNECT,
                ConnectAction,
                api,
                args,
                timeout=args["timeout"],
                what=f"connect on call {self.call_id}",
                adopt_peer=registry.adopt_peer,
            )
        finally:
            registry.unwatch_tag(tag)
        peer = result.peer
        if peer is not None:
            with self.operations.cond:
                self.peer = peer
            peer.peer = self
        return result

    def disconnect(self, timeout: Optional[float] = None, *, extra_params: Extra = None) -> None:
        """Break the bridge made by :meth:`connect` (``calling.disconnect``).

        Raises:
            ValueError: a bad ``timeout``.
            CallEndedError: the call is gone.
        """
        self.operations.invoke(ops.DISCONNECT, "disconnect", locals())

    def transfer(
        self, dest: str, timeout: Optional[float] = None, *, extra_params: Extra = None
    ) -> Dict[str, Any]:
        """Hand the call to another application: an https URL, SWML, or ``context:<app>``.

        Returns:
            The server's result object.

        Raises:
            ValueError: ``dest`` is empty, or a bad ``timeout`` (nothing is sent).
        """
        return self.operations.invoke(ops.TRANSFER, "transfer", locals())
