"""``calling.send_fax``, ``calling.receive_fax`` and ``calling.pay`` with scripted outcomes.

Runs on the simulator loop thread; times are unscaled seconds (times ``time_scale``).
Outcomes are scripted per call (or per number) with ``fax_outcome`` and ``pay_outcome``
(:mod:`~relaysync.testing.caller`).

Fax (``calling.call.fax``, verdict in ``fax``, no top-level state): one ``page`` event
every 2 s (``{direction, number}``), then ``finished`` with ``{direction, identity,
remote_identity, document, pages, success, result, result_text, format: "pdf"}``, or
``{type: "error", params: {description}}`` when scripted with ``error=True``. A stop
ends it ``finished`` with ``success: false``, result 1 ("Cancelled"); the call ending,
with result 2 ("Call hung up").

Pay (``calling.call.pay``, no top-level state): progress events ``{for, error_type,
attempt, payment_method, ...}`` every 2 s through ``payment-card-number``,
``expiration-date``, ``security-code`` and ``postal-code`` (unless turned off with
``security_code``/``postal_code`` ``"false"``) and ``payment-processing``, then the
final event with ``result``:

* ``success``: ``payment-completed`` (§2.5.13), then the result with ``payment_token``,
  ``payment_confirmation_code`` and the masked card;
* ``declined``: ``payment-failed`` with ``error_type: card-declined`` on every attempt
  (``max_attempts``, default 1), then ``payment-connector-error`` (one attempt) or
  ``too-many-failed-attempts``, with ``payment_error``/``connector_error``;
* ``timeout``: ``payment-card-number`` with ``error_type: timeout`` after ``timeout``
  seconds (default 5) on every attempt, then ``too-many-failed-attempts``;
* a stop: ``relay-pay-stop``; the call ending: ``caller-hung-up``.
"""

from __future__ import annotations

import functools
import uuid
from typing import TYPE_CHECKING, Any, Dict, List

from relaysync.constants import EVENT_CALL_FAX, EVENT_CALL_PAY
from relaysync.testing.replies import invalid_params, require_str
from relaysync.testing.running_ops import OperationTable, RunningOperation

if TYPE_CHECKING:
    from relaysync.testing.caller import FaxOutcome
    from relaysync.testing.callmodel import CallRecord
    from relaysync.testing.engine_api import EngineApi
    from relaysync.testing.replies import Handler, Params
    from relaysync.testing.sessions import Session

PAGE_SECONDS = 2.0
STEP_SECONDS = 2.0
RECEIVED_URL = "https://sim.relaysync.invalid/api/v1/faxes/{id}.pdf"
CARD = {"payment_card_number": "************1111", "payment_card_type": "visa"}


def _http_url(params: Params, name: str) -> str:
    value = params.get(name)
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise invalid_params(f"{name} must be an http(s) URL")
    return value


def _truthy(value: Any) -> bool:
    return value not in (False, "false", "False", 0, "0")


def _count(value: Any, name: str, default: int) -> int:
    if value is None:
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise invalid_params(f"{name} must be a whole number, got {value!r}") from None
    if number < 1 or isinstance(value, bool):
        raise invalid_params(f"{name} must be >= 1, got {value!r}")
    return number


class _Fax(RunningOperation):
    def __init__(self, call: CallRecord, control_id: str, direction: str, document: str) -> None:
        super().__init__(call, control_id)
        self.direction = direction
        self.document = document
        self.identity = ""
        self.pages = 0


class _Pay(RunningOperation):
    def __init__(self, call: CallRecord, control_id: str, params: Params) -> None:
        super().__init__(call, control_id)
        self.method = params.get("payment_method", "credit-card")
        self.attempts = _count(params.get("max_attempts"), "max_attempts", 1)
        self.timeout = float(_count(params.get("timeout"), "timeout", 5))
        self.steps = ["payment-card-number", "expiration-date"]
        if _truthy(params.get("security_code", True)):
            self.steps.append("security-code")
        if _truthy(params.get("postal_code", True)):
            self.steps.append("postal-code")
        token_type = params.get("token_type", "one-time")
        if token_type not in ("one-time", "reusable"):
            raise invalid_params("token_type must be one-time or reusable")
        if params.get("input", "dtmf") != "dtmf":
            raise invalid_params("input must be dtmf")
        self.attempt = 1


class FaxAndPay:
    """Handles faxes and payments (loop thread only).

    Args:
        engine: the call engine this belongs to.
    """

    def __init__(self, engine: EngineApi) -> None:
        self._engine = engine
        self.faxes: OperationTable[_Fax] = OperationTable(
            engine, EVENT_CALL_FAX, lambda op: self._fax_end(op, 2, "Call hung up")
        )
        self.pays: OperationTable[_Pay] = OperationTable(
            engine, EVENT_CALL_PAY, lambda op: self._pay_end(op, {"result": "caller-hung-up"})
        )

    def methods(self) -> Dict[str, Handler]:
        """Return the handlers this part implements."""
        wrap = self._engine.call_handler
        stop_fax = self.faxes.command("Stopped", lambda op: self._fax_end(op, 1, "Cancelled"))
        return {
            "calling.send_fax": wrap(self._send_fax),
            "calling.receive_fax": wrap(self._receive_fax),
            "calling.send_fax.stop": wrap(stop_fax),
            "calling.receive_fax.stop": wrap(stop_fax),
            "calling.pay": wrap(self._pay),
            "calling.pay.stop": wrap(
                self.pays.command(
                    "Stopped", lambda op: self._pay_end(op, {"result": "relay-pay-stop"})
                )
            ),
        }

    # -- fax ----------------------------------------------------------------------------

    def _send_fax(self, session: Session, call: CallRecord, params: Params) -> Params:
        op = _Fax(call, require_str(params, "control_id"), "send", _http_url(params, "document"))
        op.identity = params.get("identity") or ""
        return self.faxes.start(op, "Sending fax", lambda: self._fax_pages(op))

    def _receive_fax(self, session: Session, call: CallRecord, params: Params) -> Params:
        document = RECEIVED_URL.format(id=uuid.uuid4())
        op = _Fax(call, require_str(params, "control_id"), "receive", document)
        return self.faxes.start(op, "Receiving fax", lambda: self._fax_pages(op))

    def _fax_pages(self, op: _Fax) -> None:
        outcome: FaxOutcome = self._engine.caller(op.call).fax
        for page in range(1, outcome.pages + 1):
            self.faxes.later(op, PAGE_SECONDS * page, functools.partial(self._page, op, page))
        end = PAGE_SECONDS * (outcome.pages + 1)
        if outcome.error:
            error = {"fax": {"type": "error", "params": {"description": outcome.result_text}}}
            self.faxes.later(op, end, lambda: self._finish_fax(op, error))
        else:
            self.faxes.later(
                op,
                end,
                lambda: self._fax_end(op, outcome.result, outcome.result_text, outcome.success),
            )

    def _page(self, op: _Fax, page: int) -> None:
        op.pages = page
        params = {"direction": op.direction, "number": page}
        self.faxes.emit(op, {"fax": {"type": "page", "params": params}})

    def _finish_fax(self, op: _Fax, body: Params) -> None:
        self.faxes.finish(op, body)

    def _fax_end(self, op: _Fax, code: int, text: str, success: bool = False) -> None:
        remote = op.call.far_end or ""
        params = {
            "direction": op.direction,
            "identity": op.identity,
            "remote_identity": remote,
            "document": op.document,
            "pages": op.pages,
            "success": success,
            "result": code,
            "result_text": text,
            "format": "pdf",
        }
        self.faxes.finish(op, {"fax": {"type": "finished", "params": params}})

    # -- pay ----------------------------------------------------------------------------

    def _pay(self, session: Session, call: CallRecord, params: Params) -> Params:
        _http_url(params, "payment_connector_url")
        op = _Pay(call, require_str(params, "control_id"), params)
        return self.pays.start(op, "Collecting payment", lambda: self._pay_attempt(op))

    def _progress(self, op: _Pay, step: str, error_type: str = "") -> None:
        body = {"for": step, "error_type": error_type, "attempt": op.attempt}
        body["payment_method"] = op.method
        if step not in ("payment-card-number",):
            body.update(CARD)
        self.pays.emit(op, body)

    def _pay_attempt(self, op: _Pay) -> None:
        outcome = self._engine.caller(op.call).pay.outcome
        later = self.pays.later
        if outcome == "timeout":
            later(op, op.timeout, lambda: self._failed(op, "payment-card-number", "timeout"))
            return
        steps = [*op.steps, "payment-processing"]
        for i, step in enumerate(steps):
            later(op, STEP_SECONDS * i, functools.partial(self._progress, op, step))
        done = STEP_SECONDS * len(steps)
        if outcome == "declined":
            later(op, done, lambda: self._failed(op, "payment-failed", "card-declined"))
        else:
            final = {
                "result": "success",
                "payment_token": f"tok_{uuid.uuid4().hex[:16]}",
                "payment_confirmation_code": uuid.uuid4().hex[:8].upper(),
                "payment_card_expiration_date": "1230",
                **CARD,
            }
            later(op, done, functools.partial(self._progress, op, "payment-completed"))
            later(op, done, lambda: self._pay_end(op, final))

    def _failed(self, op: _Pay, step: str, error_type: str) -> None:
        self._progress(op, step, error_type)
        if op.attempt < op.attempts:
            op.attempt += 1
            self._pay_attempt(op)
            return
        final: Params = {"result": "too-many-failed-attempts"}
        if error_type == "card-declined":
            if op.attempts == 1:
                final["result"] = "payment-connector-error"
            final.update(
                payment_error="Card declined",
                payment_error_code="card-declined",
                connector_error={"code": "402", "message": "Card declined"},
            )
        self._pay_end(op, final)

    def _pay_end(self, op: _Pay, body: Params) -> None:
        self.pays.finish(op, {"attempt": op.attempt, "payment_method": op.method, **body})


__all__: List[str] = ["FaxAndPay"]
