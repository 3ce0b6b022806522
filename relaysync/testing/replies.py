"""Method results and JSON-RPC errors shared by the parts of the simulator's call engine."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Dict

from relaysync.testing.sessions import RpcFault

if TYPE_CHECKING:
    from relaysync.testing.callmodel import CallRecord
    from relaysync.testing.sessions import Session

Params = Dict[str, Any]
#: ``handler(session, params) -> result`` as registered with the core.
Handler = Callable[["Session", Params], Params]
#: ``handler(session, call, params) -> result`` for methods acting on one live call.
CallHandler = Callable[["Session", "CallRecord", Params], Params]


def invalid_params(message: str) -> RpcFault:
    """Build the JSON-RPC error for malformed parameters.

    Args:
        message: what is wrong, naming the parameter.

    Returns:
        An :class:`RpcFault` with code ``-32602`` and
        ``data.signalwire_error_code == "INVALID_PARAMS"``, ready to raise.
    """
    return RpcFault(-32602, message, {"signalwire_error_code": "INVALID_PARAMS"})


def as_fault(fn: Callable[[], Any]) -> Any:
    """Run ``fn``; turn its ``TypeError``/``ValueError`` (a bad argument) into an
    ``INVALID_PARAMS`` fault.

    Args:
        fn: the call to make.

    Returns:
        What ``fn`` returned.

    Raises:
        RpcFault: ``-32602`` with the message of ``fn``'s ``TypeError``/``ValueError``.
    """
    try:
        return fn()
    except (TypeError, ValueError) as exc:
        raise invalid_params(str(exc)) from None


def result(code: str, message: str, **extra: Any) -> Params:
    """Build a method result ``{"code": code, "message": message, **extra}``."""
    return {"code": code, "message": message, **extra}


def require_str(params: Params, key: str) -> str:
    """Return ``params[key]`` if it is a non-empty string.

    Raises:
        RpcFault: ``INVALID_PARAMS`` naming ``key`` otherwise.
    """
    value = params.get(key)
    if not isinstance(value, str) or not value:
        raise invalid_params(f"{key} is required (a non-empty string)")
    return value
