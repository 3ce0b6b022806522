"""Call methods for fax, payments and AI agents."""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Union

from . import operations as ops
from ._validate import check_choice, check_range, check_timeout
from .actions import AIAction, FaxAction, PayAction
from .runner import Operations

Completion = Optional[Callable[[Any], Any]]
TOKEN_TYPES = ("one-time", "reusable")
AI_ROLES = ("system", "user", "assistant")


def _url(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty URL string, got {value!r}")
    return value


class CallServicesMixin:
    """send_fax, receive_fax, pay, ai and the AI one-shots."""

    operations: Operations

    def send_fax(
        self,
        document: str,
        *,
        identity: Optional[str] = None,
        header_info: Optional[str] = None,
        status_url: Optional[str] = None,
        on_completed: Completion = None,
        request_timeout: Optional[float] = None,
    ) -> FaxAction:
        """Send the document at ``document`` (a PDF URL) as a fax (``calling.send_fax``).

        Args:
            document: the document's URL.
            identity: the fax identity to send as (defaults to the caller id).
            header_info: text for the page header.
            status_url, on_completed, request_timeout: as for every action.

        Returns:
            A :class:`FaxAction`; ``wait()`` gives a
            :class:`~relaysync.results.FaxResult` whose verdict comes from
            ``fax.type`` and ``fax.params.success``.

        Raises:
            ValueError: no document, or a bad timeout (nothing is sent).
        """
        return self.operations.start(
            ops.SEND_FAX,
            FaxAction,
            {
                "document": _url("document", document),
                "identity": identity,
                "header_info": header_info,
                "status_url": status_url,
            },
            on_completed=on_completed,
            request_timeout=request_timeout,
        )

    def receive_fax(
        self,
        *,
        status_url: Optional[str] = None,
        on_completed: Completion = None,
        request_timeout: Optional[float] = None,
    ) -> FaxAction:
        """Receive a fax on the call (``calling.receive_fax``). See :meth:`send_fax`."""
        return self.operations.start(
            ops.RECEIVE_FAX,
            FaxAction,
            {"status_url": status_url},
            on_completed=on_completed,
            request_timeout=request_timeout,
        )

    def pay(
        self,
        payment_connector_url: str,
        *,
        input: Optional[str] = None,
        status_url: Optional[str] = None,
        payment_method: Optional[str] = None,
        timeout: Optional[float] = None,
        max_attempts: Optional[int] = None,
        security_code: Optional[bool] = None,
        postal_code: Optional[Any] = None,
        min_postal_code_length: Optional[int] = None,
        token_type: Optional[str] = None,
        charge_amount: Optional[Union[str, int, float]] = None,
        currency: Optional[str] = None,
        language: Optional[str] = None,
        voice: Optional[str] = None,
        description: Optional[str] = None,
        valid_card_types: Optional[str] = None,
        parameters: Optional[Sequence[Mapping[str, Any]]] = None,
        prompts: Optional[Sequence[Mapping[str, Any]]] = None,
        on_completed: Completion = None,
        request_timeout: Optional[float] = None,
    ) -> PayAction:
        """Collect a card payment from the caller (``calling.pay``).

        Args:
            payment_connector_url: the payment connector that charges the card.
            timeout: the wire's own option: seconds the caller has for each input.
            max_attempts: tries before it gives up (1 or more).
            token_type: ``one-time`` or ``reusable``.
            charge_amount: the amount, as a string (``"9.99"``); numbers are sent as
                strings.
            parameters: ``[{"name", "value"}]`` passed to the connector.
            input, payment_method, security_code, postal_code: passed to RELAY.
            min_postal_code_length, currency, language, voice: passed to RELAY.
            description, valid_card_types, prompts: passed to RELAY as named.
            status_url, on_completed, request_timeout: as for every action.

        Returns:
            A :class:`PayAction`; ``wait()`` gives a
            :class:`~relaysync.results.PayResult` whose verdict is the event's
            ``result`` (``success``, ``too-many-failed-attempts``, ...).

        Raises:
            ValueError: no connector URL, or an option out of its range (nothing is
                sent).
        """
        check_timeout("timeout", timeout)
        check_range("max_attempts", max_attempts, 1, 100)
        check_range("min_postal_code_length", min_postal_code_length, 0, 20)
        check_choice("token_type", token_type, TOKEN_TYPES)
        amount = str(charge_amount) if isinstance(charge_amount, (int, float)) else charge_amount
        return self.operations.start(
            ops.PAY,
            PayAction,
            {
                "payment_connector_url": _url("payment_connector_url", payment_connector_url),
                "input": input,
                "status_url": status_url,
                "payment_method": payment_method,
                "timeout": timeout,
                "max_attempts": max_attempts,
                "security_code": security_code,
                "postal_code": postal_code,
                "min_postal_code_length": min_postal_code_length,
                "token_type": token_type,
                "charge_amount": amount,
                "currency": currency,
                "language": language,
                "voice": voice,
                "description": description,
                "valid_card_types": valid_card_types,
                "parameters": list(parameters) if parameters is not None else None,
                "prompts": list(prompts) if prompts is not None else None,
            },
            on_completed=on_completed,
            request_timeout=request_timeout,
        )

    def ai(
        self,
        *,
        prompt: Optional[Mapping[str, Any]] = None,
        agent: Optional[str] = None,
        post_prompt: Optional[Mapping[str, Any]] = None,
        post_prompt_url: Optional[str] = None,
        post_prompt_auth_user: Optional[str] = None,
        post_prompt_auth_password: Optional[str] = None,
        global_data: Optional[Mapping[str, Any]] = None,
        pronounce: Optional[List[Mapping[str, Any]]] = None,
        hints: Optional[List[str]] = None,
        languages: Optional[List[Mapping[str, Any]]] = None,
        SWAIG: Optional[Mapping[str, Any]] = None,
        params: Optional[Mapping[str, Any]] = None,
        on_completed: Completion = None,
        request_timeout: Optional[float] = None,
    ) -> AIAction:
        """Hand the call to an AI agent (``calling.ai``) and return its :class:`AIAction`.

        Args:
            prompt: ``{"text": ...}`` (or an ``agent`` id instead).
            SWAIG: the agent's functions; the other options are passed as named.
            on_completed, request_timeout: as for every action.

        Returns:
            The action: it settles on a final ``calling.call.ai`` event, when
            ``stop()`` is accepted, or when the call ends (``CallEndedError``).

        Raises:
            ValueError: neither ``prompt`` nor ``agent``, or a bad timeout.
        """
        if prompt is None and agent is None:
            raise ValueError("ai needs a prompt (or an agent); neither was given")
        return self.operations.start(
            ops.AI,
            AIAction,
            {
                "prompt": prompt,
                "agent": agent,
                "post_prompt": post_prompt,
                "post_prompt_url": post_prompt_url,
                "post_prompt_auth_user": post_prompt_auth_user,
                "post_prompt_auth_password": post_prompt_auth_password,
                "global_data": global_data,
                "pronounce": pronounce,
                "hints": hints,
                "languages": languages,
                "SWAIG": SWAIG,
                "params": params,
            },
            on_completed=on_completed,
            request_timeout=request_timeout,
        )

    def amazon_bedrock(
        self,
        *,
        prompt: Optional[Mapping[str, Any]] = None,
        SWAIG: Optional[Mapping[str, Any]] = None,
        params: Optional[Mapping[str, Any]] = None,
        global_data: Optional[Mapping[str, Any]] = None,
        post_prompt: Optional[Mapping[str, Any]] = None,
        post_prompt_url: Optional[str] = None,
        request_timeout: Optional[float] = None,
    ) -> Dict[str, Any]:
        """Start an Amazon Bedrock agent on the call (``calling.amazon_bedrock``).

        Returns:
            The server's result.

        Raises:
            ValueError: a bad ``request_timeout``.
            RelayError: the server refused it.
        """
        return self.operations.invoke(
            ops.AMAZON_BEDROCK,
            {
                "prompt": prompt,
                "SWAIG": SWAIG,
                "params": params,
                "global_data": global_data,
                "post_prompt": post_prompt,
                "post_prompt_url": post_prompt_url,
            },
            request_timeout,
        )

    def ai_message(
        self,
        message_text: Optional[str] = None,
        *,
        role: Optional[str] = None,
        reset: Optional[Mapping[str, Any]] = None,
        global_data: Optional[Mapping[str, Any]] = None,
        request_timeout: Optional[float] = None,
    ) -> Dict[str, Any]:
        """Send a message into the running AI session (``calling.ai_message``).

        Args:
            message_text: the text.
            role: ``system``, ``user`` or ``assistant``.
            reset: ``{"full_reset"?, "user_prompt"?, "system_prompt"?}``.
            global_data: data merged into the session's globals.

        Raises:
            ValueError: an unknown role, or a bad ``request_timeout``.
        """
        check_choice("role", role, AI_ROLES)
        return self.operations.invoke(
            ops.AI_MESSAGE,
            {
                "message_text": message_text,
                "role": role,
                "reset": reset,
                "global_data": global_data,
            },
            request_timeout,
        )

    def ai_hold(
        self,
        *,
        timeout: Optional[float] = None,
        prompt: Optional[str] = None,
        request_timeout: Optional[float] = None,
    ) -> Dict[str, Any]:
        """Put the AI session on hold (``calling.ai_hold``).

        Args:
            timeout: the wire's own option: seconds before the hold ends by itself.
            prompt: what the agent says as it holds.

        Raises:
            ValueError: a bad ``timeout`` or ``request_timeout``.
        """
        check_timeout("timeout", timeout)
        return self.operations.invoke(
            ops.AI_HOLD, {"timeout": timeout, "prompt": prompt}, request_timeout
        )

    def ai_unhold(
        self, *, prompt: Optional[str] = None, request_timeout: Optional[float] = None
    ) -> Dict[str, Any]:
        """Take the AI session off hold (``calling.ai_unhold``).

        Raises:
            ValueError: a bad ``request_timeout``.
        """
        return self.operations.invoke(ops.AI_UNHOLD, {"prompt": prompt}, request_timeout)


__all__ = ["CallServicesMixin"]
