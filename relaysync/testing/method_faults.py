"""Scripted method faults: per-method delays and failures, applied first-in first-out.

:class:`MethodFaults` is consulted by :mod:`relaysync.testing.frame_dispatch` for every
request; ``RelaySimulator.delay_method``/``fail_method`` add its rules.
"""

from __future__ import annotations

from typing import List, Optional, Tuple

import attrs


@attrs.frozen
class Failure:
    """How to answer a request that a ``fail_method`` rule caught.

    Attributes:
        code: the error code (an int; sent as a string when ``as_result``).
        message: the message.
        as_result: answer a RELAY result ``{"code", "message"}`` instead of a JSON-RPC
            error object.
    """

    code: int
    message: str
    as_result: bool = False


@attrs.define
class _Rule:
    method: str
    remaining: Optional[int]  # None = forever
    delay: float = 0.0
    failure: Optional[Failure] = None


class MethodFaults:
    """Delay and failure rules per method, applied first-in first-out. Loop thread only."""

    def __init__(self) -> None:
        """Start with no rules."""
        self._delays: List[_Rule] = []
        self._failures: List[_Rule] = []

    def delay(self, method: str, seconds: float, times: Optional[int] = None) -> None:
        """Hold the answer to ``method`` for ``seconds`` (the next ``times`` requests,
        or all of them when ``times`` is ``None``)."""
        self._delays.append(_Rule(method, times, delay=seconds))

    def fail(
        self,
        method: str,
        code: int,
        message: str,
        times: Optional[int] = 1,
        as_result: bool = False,
    ) -> None:
        """Answer the next ``times`` requests of ``method`` with a failure (``None`` =
        every one)."""
        self._failures.append(_Rule(method, times, failure=Failure(code, message, as_result)))

    def clear(self) -> None:
        """Remove every rule."""
        self._delays.clear()
        self._failures.clear()

    def take(self, method: str) -> Tuple[float, Optional[Failure]]:
        """Consume the rules that apply to one request of ``method``.

        Returns:
            ``(delay seconds, failure or None)``.
        """
        delay_rule = self._consume(self._delays, method)
        failure_rule = self._consume(self._failures, method)
        return (
            delay_rule.delay if delay_rule else 0.0,
            failure_rule.failure if failure_rule else None,
        )

    @staticmethod
    def _consume(rules: List[_Rule], method: str) -> Optional[_Rule]:
        for rule in rules:
            if rule.method == method:
                if rule.remaining is not None:
                    rule.remaining -= 1
                    if rule.remaining <= 0:
                        rules.remove(rule)
                return rule
        return None


__all__ = ["Failure", "MethodFaults"]
