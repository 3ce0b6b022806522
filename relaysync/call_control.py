"""Call methods that move the call: SIP REFER, connect, disconnect, transfer."""

from __future__ import annotations

import time
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Dict,
    List,
    Literal,
    Mapping,
    Optional,
    Union,
    cast,
    overload,
)

from . import constants as C
from ._log import logger
from .actions import ReferAction
from .call_base import CallBase
from .devices import (
    normalize_devices,
    normalize_media,
    normalize_refer_device,
    phone_device,
    sip_device,
)
from .errors import CallEndedError, timeout_error
from .events import ConnectEvent, RelayEvent
from .results import ConnectResult, ReferResult
from .rpc import new_id

if TYPE_CHECKING:
    from .call import Call

Device = Union[str, Mapping[str, Any]]
DevicePlan = Union[Mapping[str, Any], List[Any]]


class CallControlMixin(CallBase):
    """REFER, connect, disconnect and transfer; mixed into :class:`~relaysync.call.Call`."""

    @overload
    def refer(
        self,
        device: Device,
        *,
        status_url: Optional[str] = ...,
        wait: Literal[True] = ...,
        timeout: Optional[float] = ...,
        on_completed: Optional[Callable[[Any], Any]] = ...,
    ) -> ReferResult: ...

    @overload
    def refer(
        self,
        device: Device,
        *,
        status_url: Optional[str] = ...,
        wait: Literal[False],
        timeout: Optional[float] = ...,
        on_completed: Optional[Callable[[Any], Any]] = ...,
    ) -> ReferAction: ...

    def refer(
        self,
        device: Device,
        *,
        status_url: Optional[str] = None,
        wait: bool = True,
        timeout: Optional[float] = 60.0,
        on_completed: Optional[Callable[[Any], Any]] = None,
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

        Returns:
            :class:`ReferResult` with the final state (success, busy, noAnswer, cancel,
            error) and the SIP codes; or the action when ``wait=False``.

        Raises:
            ValueError: the device is not a SIP target (nothing is sent).
            RelayError: the server rejected the request.
            CallEndedError: the call ended before the REFER had a final state.
            RelayTimeoutError: no final state within ``timeout``.
        """
        wire, used_uri = normalize_refer_device(device)
        if used_uri:
            logger.debug("relaysync: refer device params.uri sent as params.to")
        deadline = None if timeout is None else time.monotonic() + timeout
        action = self._start(
            ReferAction,
            {"device": wire, "status_url": status_url},
            on_completed=on_completed,
            timeout=self._rpc_timeout(timeout),
        )
        if not wait:
            return action
        try:
            return action.wait(None if deadline is None else max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            raise timeout_error(f"refer on call {self.call_id}", timeout) from None

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
    ) -> ConnectResult:
        """Bridge this call to another party and block until connected or failed.

        Args:
            devices: a device, a list of devices (tried in turn), or a dial plan
                (list of lists: outer tried in series, inner rung in parallel).
            ringback: media the caller hears while the peer rings.
            tag: client tag for the peer legs (generated if omitted).
            max_duration, max_price_per_minute, status_url: passed to RELAY.
            timeout: seconds to wait for the outcome.

        Returns:
            :class:`ConnectResult`; on success ``peer`` is the connected :class:`Call`.

        Raises:
            ValueError: malformed devices or ringback.
            CallEndedError: this call ended first.
            RelayTimeoutError: no outcome within ``timeout``.
        """
        plan = normalize_devices(devices)
        media = normalize_media(ringback) if ringback is not None else None
        tag = tag or new_id()
        deadline = None if timeout is None else time.monotonic() + timeout
        outcome: List[ConnectEvent] = []
        peers: List[Optional[Call]] = []
        client = self._client

        def settles(event: RelayEvent) -> bool:
            # Runs on the reader, in event order: the peer is adopted before any later
            # event (such as its hang-up) can be applied.
            if isinstance(event, ConnectEvent) and event.connect_state in (
                C.CONNECT_CONNECTED,
                C.CONNECT_FAILED,
            ):
                if event.connect_state == C.CONNECT_CONNECTED and isinstance(event.peer, dict):
                    peers.append(client._registry.adopt_peer(event.peer))
                outcome.append(event)
                return True
            return False

        client._registry.watch_tag(tag)
        remove = self._add_waiter(settles)
        try:
            self._execute(
                "calling.connect",
                {
                    "devices": plan,
                    "ringback": media,
                    "tag": tag,
                    "max_duration": max_duration,
                    "max_price_per_minute": max_price_per_minute,
                    "status_url": status_url,
                },
                timeout=self._rpc_timeout(timeout),
            )
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            with self._cond:
                ok = self._cond.wait_for(
                    lambda: (
                        bool(outcome) or self._state == C.CALL_ENDED or self._detached is not None
                    ),
                    remaining,
                )
                detached = self._detached
            if not outcome:
                if detached is not None:
                    raise detached
                if not ok:
                    raise timeout_error(f"connect on call {self.call_id}", timeout)
                raise CallEndedError(-1, f"call {self.call_id} ended before connect finished")
            peer = peers[0] if peers else None
            if peer is not None:
                with self._cond:
                    self.peer = peer
                peer.peer = cast("Call", self)
            return ConnectResult.from_event(outcome[0], peer)
        finally:
            remove()
            client._registry.unwatch_tag(tag)

    def connect_phone(
        self,
        to: str,
        from_: str,
        *,
        timeout: Optional[float] = 60.0,
        ring_timeout: Optional[int] = None,
        **kwargs: Any,
    ) -> ConnectResult:
        """Connect to a phone number. See :meth:`connect` for the keyword arguments."""
        return self.connect(
            phone_device(to, from_, timeout=ring_timeout), timeout=timeout, **kwargs
        )

    def connect_sip(
        self,
        to: str,
        from_: str,
        *,
        headers: Optional[Any] = None,
        timeout: Optional[float] = 60.0,
        **kwargs: Any,
    ) -> ConnectResult:
        """Connect to a SIP URI. See :meth:`connect` for the keyword arguments."""
        return self.connect(sip_device(to, from_, headers=headers), timeout=timeout, **kwargs)

    def disconnect(self, timeout: Optional[float] = None) -> None:
        """Break the bridge made by :meth:`connect` (``calling.disconnect``)."""
        self._execute("calling.disconnect", {}, timeout=timeout)

    def transfer(self, dest: str, timeout: Optional[float] = None) -> Dict[str, Any]:
        """Hand the call to another application: an https URL, SWML, or ``context:<app>``.

        Returns:
            The server's result object.
        """
        if not isinstance(dest, str) or not dest:
            raise ValueError(f"transfer dest must be a non-empty string, got {dest!r}")
        return self._execute("calling.transfer", {"dest": dest}, timeout=timeout)

    def _rpc_timeout(self, timeout: Optional[float]) -> float:
        """The timeout of the start request: the request default, capped by ``timeout``."""
        default = self._client.request_timeout
        return default if timeout is None else min(default, timeout)
