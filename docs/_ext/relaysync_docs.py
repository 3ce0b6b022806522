"""Local Sphinx extension of the relaysync docs.

- ``.. relaysync-names:: CATEGORY`` documents every public name of one category (the
  actions and their results, the events, the errors, ...), found by walking
  ``relaysync.__all__``, ``relaysync.testing.__all__`` and the event table, so a name
  added to the package appears in the reference without editing these files.
- ``.. relaysync-class:: relaysync.Call`` documents one class with its methods in the
  groups :data:`CLASS_GROUPS` names (mixin methods included), then every other public
  member under "More".
- ``.. relaysync-fixtures::`` lists the pytest fixtures of the ``relaysync`` plugin.
- ``.. relaysync-help:: [SUBCOMMAND]`` shows the ``relaysync`` command's own ``--help``
  text, so the CLI page always matches the code.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import io
import os
import re
from typing import Any, Dict, Iterator, List, Tuple

from docutils import nodes
from docutils.parsers.rst import Directive
from docutils.statemachine import StringList

#: Width the ``--help`` texts are wrapped to (fits the page's code blocks).
HELP_WIDTH = 76
#: ``name, other: text`` at the start of a docstring line (several names, one text).
SHARED_ENTRY = re.compile(r"^(\s+)(\w+(?:, \w+)+): (.*)$")
#: Docstring sections whose entries are names.
NAME_SECTIONS = ("Args:", "Arguments:", "Attributes:", "Parameters:")

#: Public-looking members that are machinery of the library, not part of its API.
INTERNAL_MEMBERS = frozenset(
    {
        "apply_event",
        "detach",
        "wait_for_outcome",
        "cond",
        "copy",
        "apply",
        "listen",
        "unlisten",
        "offer",
        "from_event",
    }
)

#: Classes documented with their members in named groups (every other public member is
#: listed after them, under "More").
CLASS_GROUPS: Dict[str, List[Tuple[str, List[str]]]] = {
    "relaysync.RelayClient": [
        (
            "Connecting and running",
            [
                "connect",
                "run",
                "close",
                "connected",
                "state",
                "session_resumed",
                "protocol",
                "receive",
                "unreceive",
                "on_connection_change",
            ],
        ),
        ("Inbound calls and events", ["on_call", "on_event", "calls"]),
        ("Dialing", ["dial", "dial_phone", "dial_sip"]),
        ("Messaging", ["send_message", "on_message"]),
        ("Diagrams and raw requests", ["timeline", "execute"]),
    ],
    "relaysync.Call": [
        (
            "Answer, state and waits",
            [
                "answer",
                "hangup",
                "pass_",
                "state",
                "ended",
                "end_reason",
                "wait_for",
                "wait_for_answered",
                "wait_for_ended",
            ],
        ),
        ("Events", ["events", "on", "timeline"]),
        (
            "Transfers: REFER, connect, transfer",
            ["refer", "connect", "connect_phone", "connect_sip", "disconnect", "transfer"],
        ),
        ("Playing media", ["play", "play_tts", "play_audio", "play_silence", "play_ringtone"]),
        (
            "Recording, input and detection",
            [
                "record",
                "collect",
                "play_and_collect",
                "prompt_tts",
                "prompt_audio",
                "detect",
                "detect_answering_machine",
                "detect_fax",
                "detect_digit",
                "send_digits",
            ],
        ),
        (
            "Taps, streams and transcription",
            ["tap", "stream", "transcribe", "live_transcribe", "live_translate"],
        ),
        (
            "Fax, payments and AI",
            [
                "send_fax",
                "receive_fax",
                "pay",
                "ai",
                "ai_message",
                "ai_hold",
                "ai_unhold",
                "amazon_bedrock",
            ],
        ),
        (
            "Conferences, rooms, queues and the rest",
            [
                "join_conference",
                "leave_conference",
                "hold",
                "unhold",
                "denoise",
                "denoise_stop",
                "echo",
                "bind_digit",
                "clear_digit_bindings",
                "join_room",
                "leave_room",
                "user_event",
                "queue_enter",
                "queue_leave",
            ],
        ),
    ],
    "relaysync.testing.RelaySimulator": [
        (
            "Starting and sessions",
            [
                "start",
                "stop",
                "url",
                "ca_file",
                "client_ssl_context",
                "sessions",
                "wait_for_sessions",
                "connection_count",
                "authentication_count",
                "wait_until",
            ],
        ),
        (
            "Inbound calls and the caller",
            ["inbound_call", "caller", "calls", "get_call", "wait_for_call"],
        ),
        (
            "Scripting outcomes",
            ["on_dial", "on_refer", "set_media_duration", "conference_participants", "dequeue"],
        ),
        ("Messages", ["inbound_message", "on_message_to", "messages", "wait_for_message"]),
        ("The journal", ["journal"]),
        (
            "Fault injection",
            [
                "drop_connections",
                "send_disconnect",
                "go_silent",
                "wake",
                "delay_method",
                "fail_method",
                "clear_faults",
                "push_event",
                "push_frame",
                "redeliver_events",
            ],
        ),
    ],
}


def is_internal(name: str) -> bool:
    """True for members that stay out of the reference (private or machinery)."""
    return name.startswith("_") or name.endswith("_locked") or name in INTERNAL_MEMBERS


def resolve(dotted: str) -> Any:
    """The object a dotted ``module.Name`` refers to."""
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def public_members(cls: type) -> List[str]:
    """Public members of ``cls`` (inherited ones included, ``object``'s left out)."""
    names = set()
    for klass in cls.__mro__:
        if klass is object or klass.__module__ in ("typing", "builtins"):
            continue
        names.update(n for n in vars(klass) if not is_internal(n))
    return sorted(names)


def member_kind(cls: type, name: str) -> str:
    """The autodoc directive for member ``name`` of ``cls``."""
    for klass in cls.__mro__:
        if name in vars(klass):
            raw = vars(klass)[name]
            if isinstance(raw, property):
                return "autoproperty"
            if callable(raw) or isinstance(raw, (staticmethod, classmethod)):
                return "automethod"
            return "autoattribute"
    return "autoattribute"


def event_table() -> Dict[str, type]:
    """``parse_event``'s map from event type to class."""
    from relaysync.events import EVENT_CLASSES

    return dict(EVENT_CLASSES)


def exported() -> Iterator[Tuple[str, Any]]:
    """``(dotted name, object)`` for every name of both packages' ``__all__``."""
    for package in ("relaysync", "relaysync.testing"):
        module = importlib.import_module(package)
        for name in module.__all__:
            yield f"{package}.{name}", getattr(module, name)


def _category(dotted: str, obj: Any) -> str:
    from relaysync import Action, ActionResult, RelayEvent

    if dotted in CLASS_GROUPS:
        return "class"
    if dotted.startswith("relaysync.testing."):
        return "testing"
    if dotted == "relaysync.Message":
        return "messages"
    if inspect.isclass(obj):
        if issubclass(obj, BaseException):
            return "errors"
        if issubclass(obj, (Action, ActionResult)):
            return "actions"
        if issubclass(obj, RelayEvent):
            return "events"
    if dotted == "relaysync.parse_event":
        return "events"
    return "more"


def names_in(category: str) -> List[str]:
    """Dotted names documented by ``.. relaysync-names:: category``, in page order."""
    from relaysync import Action

    found = [d for d, obj in exported() if _category(d, obj) == category]
    if category == "actions":
        # Each action, then the result its wait() returns; the bases first.
        actions = [d for d in found if issubclass(resolve(d), Action)]
        results = [d for d in found if d not in actions]
        ordered = ["relaysync.Action", "relaysync.ActionResult"]
        for action in sorted(actions):
            if action in ordered:
                continue
            ordered.append(action)
            result = action[: -len("Action")] + "Result"
            if result in results:
                ordered.append(result)
        return ordered + sorted(r for r in results if r not in ordered)
    if category == "events":
        top = {d.rpartition(".")[2] for d in found}
        ordered = ["relaysync.RelayEvent", "relaysync.parse_event"]
        import relaysync.events as events_module

        classes = list(event_table().values()) + [
            getattr(events_module, n) for n in events_module.__all__
        ]
        for cls in classes:
            if not inspect.isclass(cls):
                continue
            name = cls.__name__
            dotted = f"relaysync.{name}" if name in top else f"relaysync.events.{name}"
            if dotted not in ordered:
                ordered.append(dotted)
        return ordered
    return sorted(found)


def autodoc_lines(dotted: str, *, inherited: bool = False) -> List[str]:
    """reST that documents one name with autodoc."""
    obj = resolve(dotted)
    if inspect.isclass(obj):
        lines = [f".. autoclass:: {dotted}", "   :members:"]
        if inherited:
            lines.append("   :inherited-members:")
    elif callable(obj):
        lines = [f".. autofunction:: {dotted}"]
    else:
        lines = [f".. autodata:: {dotted}", "   :annotation:"]
    return [*lines, ""]


class _Generated(Directive):
    """A directive whose output is reST generated at build time."""

    def lines(self) -> List[str]:
        raise NotImplementedError

    def run(self) -> List[nodes.Node]:
        source = self.state.document.current_source or "relaysync_docs"
        content = StringList()
        for line in self.lines():
            content.append(line, source)
        node = nodes.section()
        node.document = self.state.document
        self.state.nested_parse(content, self.content_offset, node, match_titles=True)
        return list(node.children)


class RelaysyncNames(_Generated):
    """``.. relaysync-names:: actions``: every public name of that category."""

    required_arguments = 1

    def lines(self) -> List[str]:
        category = self.arguments[0]
        names = names_in(category)
        if not names and category != "more":
            raise self.error(f"no public names in category {category!r}")
        out: List[str] = []
        for dotted in names:
            out += autodoc_lines(dotted, inherited=category in ("actions", "testing"))
        return out


class RelaysyncClass(_Generated):
    """``.. relaysync-class:: relaysync.Call``: one class, its members in groups."""

    required_arguments = 1

    def lines(self) -> List[str]:
        dotted = self.arguments[0]
        cls = resolve(dotted)
        groups = CLASS_GROUPS.get(dotted, [])
        members = public_members(cls)
        out = [f".. autoclass:: {dotted}", "   :no-members:", ""]
        seen: List[str] = []
        for title, names in [*groups, ("More", [m for m in members])]:
            names = [n for n in names if n not in seen]
            if not names:
                continue
            missing = [n for n in names if n not in members]
            if missing:
                raise self.error(f"{dotted} has no public member(s) {missing}")
            out += [title, "-" * len(title), ""]
            for name in names:
                out += [f".. {member_kind(cls, name)}:: {dotted}.{name}", ""]
            seen += names
        return out


class RelaysyncFixtures(_Generated):
    """``.. relaysync-fixtures::``: the fixtures of the ``relaysync`` pytest plugin."""

    def lines(self) -> List[str]:
        plugin = importlib.import_module("relaysync.testing.plugin")
        out: List[str] = []
        for name, value in sorted(vars(plugin).items()):
            wrapped = getattr(value, "__wrapped__", None)
            if wrapped is None or type(value).__name__ != "FixtureFunctionDefinition":
                continue
            doc = inspect.cleandoc(wrapped.__doc__ or "")
            out += [f".. py:function:: {name}()", "   :module: relaysync.testing.plugin", ""]
            out += ["   " + line if line else "" for line in doc.splitlines()] + [""]
        if not out:
            raise self.error("no fixtures found in relaysync.testing.plugin")
        return out


class RelaysyncEventTable(_Generated):
    """``.. relaysync-event-table::``: the event types and the class each becomes."""

    def lines(self) -> List[str]:
        out = [".. list-table::", "   :header-rows: 1", "", "   * - Event type", "     - Class"]
        top = set(importlib.import_module("relaysync").__all__)
        for event_type, cls in event_table().items():
            where = "relaysync" if cls.__name__ in top else "relaysync.events"
            out += [f"   * - ``{event_type}``", f"     - :class:`~{where}.{cls.__name__}`"]
        return [*out, ""]


class RelaysyncHelp(Directive):
    """``.. relaysync-help:: demo``: the ``--help`` output of ``relaysync demo``."""

    optional_arguments = 1

    def run(self) -> List[nodes.Node]:
        from relaysync.cli import build_parser

        parser = build_parser()
        args = [*self.arguments, "--help"]
        out = io.StringIO()
        saved = os.environ.get("COLUMNS")
        os.environ["COLUMNS"] = str(HELP_WIDTH)  # argparse wraps to the terminal width
        try:
            with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
                parser.parse_args(args)
        finally:
            if saved is None:
                del os.environ["COLUMNS"]
            else:
                os.environ["COLUMNS"] = saved
        text = out.getvalue().rstrip()
        if not text:
            raise self.error(f"relaysync {' '.join(self.arguments)} --help printed nothing")
        block = nodes.literal_block(text, text)
        block["language"] = "text"
        return [block]


def split_shared_entries(
    app: Any, what: str, name: str, obj: Any, options: Any, lines: List[str]
) -> None:
    """Give each name of ``a, b: text`` in Args/Attributes its own entry.

    The docstrings group related names on one line; napoleon reads only one name per
    entry. Runs before napoleon (``autodoc-process-docstring``, lower priority number).
    """
    section = False
    out: List[str] = []
    for line in lines:
        stripped = line.strip()
        if stripped.endswith(":") and " " not in stripped:
            section = stripped in NAME_SECTIONS
        match = SHARED_ENTRY.match(line) if section else None
        if match is None:
            out.append(line)
            continue
        indent, names, text = match.groups()
        out.extend(f"{indent}{each}: {text}" for each in names.split(", "))
    lines[:] = out


def skip_internal(app: Any, what: str, name: str, obj: Any, skip: bool, options: Any) -> Any:
    """Keep machinery members (``Action.offer_locked``, ...) out of the reference."""
    if what == "class" and is_internal(name):
        return True
    return None


#: Where the reference documents names, tried in order for a reference that spells a
#: name by its defining module (type hints do: ``relaysync.call.Call``).
PUBLIC_HOMES = ("relaysync", "relaysync.events", "relaysync.testing", "relaysync.testing.remote")


def resolve_public_alias(app: Any, env: Any, node: Any, contnode: Any) -> Any:
    """Resolve ``relaysync.<module>.<Name>[.<member>]`` to where the reference has it."""
    if node.get("refdomain") != "py":
        return None
    parts = str(node.get("reftarget", "")).split(".")
    if parts[0] != "relaysync":
        return None
    first = next((i for i, part in enumerate(parts) if part[:1].isupper()), None)
    if first is None:
        return None
    domain = env.get_domain("py")
    for home in PUBLIC_HOMES:
        target = ".".join([home, *parts[first:]])
        if target == node["reftarget"]:
            continue
        found = domain.resolve_xref(
            env, node["refdoc"], app.builder, node["reftype"], target, node, contnode
        )
        if found is not None:
            return found
    return None


def setup(app: Any) -> Dict[str, Any]:
    """Register the directives and the docstring hooks."""
    app.add_directive("relaysync-help", RelaysyncHelp)
    app.add_directive("relaysync-names", RelaysyncNames)
    app.add_directive("relaysync-class", RelaysyncClass)
    app.add_directive("relaysync-fixtures", RelaysyncFixtures)
    app.add_directive("relaysync-event-table", RelaysyncEventTable)
    app.connect("autodoc-process-docstring", split_shared_entries, priority=400)
    app.connect("autodoc-skip-member", skip_internal)
    app.connect("missing-reference", resolve_public_alias)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
