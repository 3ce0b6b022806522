"""``dial``, ``dial_phone`` and ``dial_sip`` of :class:`~relaysync.RelayClient`."""

from __future__ import annotations

import time
from typing import Any, Dict, List, Mapping, Optional, Union

from . import operations as ops
from ._entropy import new_id
from ._fork import ForkGuard
from ._validate import check_timeout, require_timeout
from .call import Call
from .devices import normalize_devices, phone_device, sip_device
from .dispatch import CallRegistry
from .errors import RelayConnectionError, RelayTimeoutError
from .shapes import named

Extra = Optional[Mapping[str, Any]]


class DialMixin:
    """Outbound calls: the dial methods of :class:`~relaysync.RelayClient`."""

    _fork_guard: ForkGuard
    _registry: CallRegistry
    request_timeout: float

    def execute(
        self, method: str, params: Mapping[str, Any], timeout: Optional[float] = None
    ) -> Dict[str, Any]:
        """Send one request (provided by :class:`~relaysync.RelayClient`)."""
        raise NotImplementedError

    def dial(
        self,
        devices: Union[Mapping[str, Any], List[Any]],
        *,
        tag: Optional[str] = None,
        region: Optional[str] = None,
        max_price_per_minute: Optional[float] = None,
        max_duration: Optional[int] = None,
        timeout: float = 120.0,
        extra_params: Extra = None,
    ) -> Call:
        """Place an outbound call and block until a leg answers.

        Args:
            devices: a device, a list of devices (tried one after another), or a dial
                plan (list of lists: outer tried in series, inner rung in parallel).
            tag: correlation tag (generated if omitted).
            region, max_price_per_minute, max_duration: passed to RELAY.
            timeout: seconds to wait for an answer. A dial given up on keeps listening
                for its tag and hangs up a call that is answered afterwards.
            extra_params: params RELAY takes that this release does not know, merged
                into the request as given, unchecked.

        Returns:
            The answered :class:`Call`.

        Raises:
            ValueError, TypeError: malformed devices, a tag already in use, or a
                ``timeout`` that is not a positive, finite number.
            DialError: no device answered.
            RelayTimeoutError: no outcome within ``timeout``.
        """
        devices = named("RelayClient.dial()", normalize_devices, devices)
        return self._dial("dial", locals())

    def dial_phone(
        self,
        to: str,
        from_: str,
        *,
        timeout: float = 30.0,
        dial_timeout: Optional[float] = None,
        tag: Optional[str] = None,
        region: Optional[str] = None,
        max_price_per_minute: Optional[float] = None,
        max_duration: Optional[int] = None,
        extra_params: Extra = None,
    ) -> Call:
        """Dial a phone number.

        Args:
            to, from_: E.164 numbers.
            timeout: how long the phone may ring, in seconds (sent to RELAY).
            dial_timeout: how long to wait for the outcome (default ``timeout + 10``).
            tag, region, max_price_per_minute, max_duration, extra_params: as for
                :meth:`dial`.

        Raises:
            ValueError, TypeError: a number that does not look like E.164, or a
                ``timeout``/``dial_timeout`` that is not a positive, finite number.
            DialError, RelayTimeoutError: as for :meth:`dial`.
        """
        ring = require_timeout("timeout", timeout)
        dial_timeout = check_timeout("dial_timeout", dial_timeout)
        device = named(
            "RelayClient.dial_phone()", phone_device, to, from_, timeout=max(1, int(ring))
        )
        devices = [[device]]
        timeout = ring + 10.0 if dial_timeout is None else dial_timeout
        return self._dial("dial_phone", locals())

    def dial_sip(
        self,
        to: str,
        from_: str,
        *,
        headers: Optional[Any] = None,
        tag: Optional[str] = None,
        region: Optional[str] = None,
        max_price_per_minute: Optional[float] = None,
        max_duration: Optional[int] = None,
        timeout: float = 120.0,
        extra_params: Extra = None,
    ) -> Call:
        """Dial a SIP URI, optionally with SIP ``headers``. See :meth:`dial`.

        Raises:
            ValueError, TypeError: a bad URI or header, or a bad ``timeout`` (as for
                :meth:`dial`), before anything is sent.
        """
        devices = [[named("RelayClient.dial_sip()", sip_device, to, from_, headers=headers)]]
        return self._dial("dial_sip", locals())

    def _dial(self, api: str, args: Mapping[str, Any]) -> Call:
        """Send ``calling.dial`` with a wrapper's arguments and wait for the answer."""
        timeout = require_timeout("timeout", args["timeout"])
        self._fork_guard.check("dial")
        tag = args["tag"] or new_id()
        params = ops.DIAL.request(f"RelayClient.{api}()", {**args, "tag": tag})
        deadline = time.monotonic() + timeout
        waiter = self._registry.start_dial(tag)
        try:
            self.execute("calling.dial", params, timeout=min(self.request_timeout, timeout))
        except (RelayTimeoutError, RelayConnectionError) as exc:
            if getattr(exc, "request_sent", True):
                # The dial may have started anyway: keep listening, hang up a late answer.
                waiter.abandon()
            else:
                self._registry.end_dial(tag)
            raise
        except BaseException:
            self._registry.end_dial(tag)
            raise
        return waiter.wait(max(0.0, deadline - time.monotonic()), f"dial {tag}")
