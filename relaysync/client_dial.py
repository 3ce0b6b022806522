"""``dial``, ``dial_phone`` and ``dial_sip`` of :class:`~relaysync.RelayClient`."""

from __future__ import annotations

import time
from typing import Any, Dict, List, Mapping, Optional, Union

from ._entropy import new_id
from ._fork import ForkGuard
from ._util import compact
from ._validate import check_timeout, require_timeout
from .call import Call
from .devices import normalize_devices, phone_device, sip_device
from .dispatch import CallRegistry
from .errors import RelayConnectionError, RelayTimeoutError


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
    ) -> Call:
        """Place an outbound call and block until a leg answers.

        Args:
            devices: a device, a list of devices (tried one after another), or a dial
                plan (list of lists: outer tried in series, inner rung in parallel).
            tag: correlation tag (generated if omitted).
            region, max_price_per_minute, max_duration: passed to RELAY.
            timeout: seconds to wait for an answer. A dial given up on keeps listening
                for its tag and hangs up a call that is answered afterwards.

        Returns:
            The answered :class:`Call`.

        Raises:
            ValueError, TypeError: malformed devices, a tag already in use, or a
                ``timeout`` that is not a positive, finite number.
            DialError: no device answered.
            RelayTimeoutError: no outcome within ``timeout``.
        """
        timeout = require_timeout("timeout", timeout)
        plan = normalize_devices(devices)
        self._fork_guard.check("dial")
        tag = tag or new_id()
        deadline = time.monotonic() + timeout
        waiter = self._registry.start_dial(tag)
        try:
            self.execute(
                "calling.dial",
                compact(
                    {
                        "tag": tag,
                        "devices": plan,
                        "region": region,
                        "max_price_per_minute": max_price_per_minute,
                        "max_duration": max_duration,
                    }
                ),
                timeout=min(self.request_timeout, timeout),
            )
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

    def dial_phone(
        self,
        to: str,
        from_: str,
        *,
        timeout: float = 30.0,
        dial_timeout: Optional[float] = None,
        **kwargs: Any,
    ) -> Call:
        """Dial a phone number.

        Args:
            to, from_: E.164 numbers.
            timeout: how long the phone may ring, in seconds (sent to RELAY).
            dial_timeout: how long to wait for the outcome (default ``timeout + 10``).
            kwargs: as for :meth:`dial`.

        Raises:
            ValueError, TypeError: a number that does not look like E.164, or a
                ``timeout``/``dial_timeout`` that is not a positive, finite number.
            DialError, RelayTimeoutError: as for :meth:`dial`.
        """
        timeout = require_timeout("timeout", timeout)
        dial_timeout = check_timeout("dial_timeout", dial_timeout)
        device = phone_device(to, from_, timeout=max(1, int(timeout)))
        wait = timeout + 10.0 if dial_timeout is None else dial_timeout
        return self.dial(device, timeout=wait, **kwargs)

    def dial_sip(
        self, to: str, from_: str, *, headers: Optional[Any] = None, **kwargs: Any
    ) -> Call:
        """Dial a SIP URI, optionally with SIP headers. See :meth:`dial`.

        Raises:
            ValueError, TypeError: a bad URI or header, or a bad ``timeout`` (as for
                :meth:`dial`), before anything is sent.
        """
        if "timeout" in kwargs:
            kwargs["timeout"] = require_timeout("timeout", kwargs["timeout"])
        return self.dial(sip_device(to, from_, headers=headers), **kwargs)
