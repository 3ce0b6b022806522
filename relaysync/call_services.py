"""Call methods for fax, payments and AI agents.

Each wrapper passes its arguments straight on (``locals()``) to the runner, which
checks them against the method's declaration in :mod:`relaysync.operations`.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from . import operations as ops
from .actions import AIAction, FaxAction, PayAction
from .call_operations import Completion, Extra, Operations


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
        extra_params: Extra = None,
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
        return self.operations.start(ops.SEND_FAX, FaxAction, "send_fax", locals())

    def receive_fax(
        self,
        *,
        status_url: Optional[str] = None,
        on_completed: Completion = None,
        request_timeout: Optional[float] = None,
        extra_params: Extra = None,
    ) -> FaxAction:
        """Receive a fax on the call (``calling.receive_fax``). See :meth:`send_fax`."""
        return self.operations.start(ops.RECEIVE_FAX, FaxAction, "receive_fax", locals())

    def pay(
        self,
        payment_connector_url: str,
        *,
        input: Optional[str] = None,
        status_url: Optional[str] = None,
        payment_method: Optional[str] = None,
        timeout: Optional[Union[str, int, float]] = None,
        max_attempts: Optional[Union[str, int]] = None,
        security_code: Optional[Union[bool, str]] = None,
        postal_code: Optional[Union[bool, str]] = None,
        min_postal_code_length: Optional[Union[str, int]] = None,
        token_type: Optional[str] = None,
        charge_amount: Optional[Union[str, int, float]] = None,
        currency: Optional[str] = None,
        language: Optional[str] = None,
        voice: Optional[str] = None,
        description: Optional[str] = None,
        valid_card_types: Optional[str] = None,
        parameters: Optional[Sequence[Mapping[str, Any]]] = None,
        prompts: Optional[Sequence[Mapping[str, Any]]] = None,
        bank_account_type: Optional[str] = None,
        on_completed: Completion = None,
        request_timeout: Optional[float] = None,
        extra_params: Extra = None,
    ) -> PayAction:
        """Collect a card payment from the caller (``calling.pay``).

        Args:
            payment_connector_url: the payment connector that charges the card.
            timeout: the wire's own option: seconds the caller has for each input.
            max_attempts: tries before it gives up.
            token_type: ``one-time`` or ``reusable``.
            charge_amount: the amount, as a string (``"9.99"``).
            parameters: ``[{"name", "value"}]`` passed to the connector.
            input, payment_method, security_code, postal_code: passed to RELAY.
            min_postal_code_length, currency, language, voice: passed to RELAY.
            description, valid_card_types, prompts, bank_account_type: passed to
                RELAY as named.
            status_url, on_completed, request_timeout: as for every action.
            extra_params: params sent as given, unchecked.

        The server types ``timeout``, ``max_attempts``, ``min_postal_code_length``
        and ``charge_amount`` as strings, and ``security_code`` and ``postal_code``
        too: a number is sent as its ``str``, ``True``/``False`` as ``"true"``/
        ``"false"``.

        Returns:
            A :class:`PayAction`; ``wait()`` gives a
            :class:`~relaysync.results.PayResult` whose verdict is the event's
            ``result`` (``success``, ``too-many-failed-attempts``, ...).

        Raises:
            ValueError: no connector URL, or an option of the wrong type or not
                allowed (nothing is sent).
            TypeError: an unknown key in ``parameters``.
        """
        return self.operations.start(ops.PAY, PayAction, "pay", locals())

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
        extra_params: Extra = None,
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
        return self.operations.start(ops.AI, AIAction, "ai", locals())

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
        extra_params: Extra = None,
    ) -> Dict[str, Any]:
        """Start an Amazon Bedrock agent on the call (``calling.amazon_bedrock``).

        Returns:
            The server's result.

        Raises:
            ValueError: a bad ``request_timeout``.
            RelayError: the server refused it.
        """
        return self.operations.invoke(ops.AMAZON_BEDROCK, "amazon_bedrock", locals())

    def ai_message(
        self,
        message_text: Optional[str] = None,
        *,
        role: Optional[str] = None,
        reset: Optional[Mapping[str, Any]] = None,
        global_data: Optional[Mapping[str, Any]] = None,
        request_timeout: Optional[float] = None,
        extra_params: Extra = None,
    ) -> Dict[str, Any]:
        """Send a message into the running AI session (``calling.ai_message``).

        Args:
            message_text: the text.
            role: who speaks, e.g. ``system``, ``user`` or ``assistant``.
            reset: ``{"full_reset"?, "user_prompt"?, "system_prompt"?}``.
            global_data: data merged into the session's globals.

        Raises:
            TypeError: an unknown key in ``reset``.
            ValueError: a wrong type, or a bad ``request_timeout``.
        """
        return self.operations.invoke(ops.AI_MESSAGE, "ai_message", locals())

    def ai_hold(
        self,
        *,
        timeout: Optional[Union[str, int, float]] = None,
        prompt: Optional[str] = None,
        request_timeout: Optional[float] = None,
        extra_params: Extra = None,
    ) -> Dict[str, Any]:
        """Put the AI session on hold (``calling.ai_hold``).

        Args:
            timeout: the wire's own option: seconds before the hold ends by itself
                (a string on the wire; a number is sent as its ``str``).
            prompt: what the agent says as it holds.

        Raises:
            ValueError: a bad ``timeout`` or ``request_timeout``.
        """
        return self.operations.invoke(ops.AI_HOLD, "ai_hold", locals())

    def ai_unhold(
        self,
        *,
        prompt: Optional[str] = None,
        request_timeout: Optional[float] = None,
        extra_params: Extra = None,
    ) -> Dict[str, Any]:
        """Take the AI session off hold (``calling.ai_unhold``).

        Raises:
            ValueError: a bad ``request_timeout``.
        """
        return self.operations.invoke(ops.AI_UNHOLD, "ai_unhold", locals())


__all__ = ["CallServicesMixin"]
