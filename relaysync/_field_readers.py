"""Declarative readers for the fields of events and results.

A class declares each field once, as an attrs field; one reader per class, compiled
the first time the class is read (at import for relaysync's own classes), pulls every
field the class adds to its ``base`` out of a source. The vocabulary:

- **name**: a field with no metadata reads the key (or attribute) of its own name.
- **path**: ``read_at("id")`` reads another key; ``read_at("detect.params.event")``
  walks nested mappings (``None`` as soon as a step is not a mapping).
- **alternatives**: ``read_at("record.url", "url")`` takes the first path whose
  converted value is not ``None``.
- **converter**: the field's type picks it (``Optional[str]`` → :func:`as_str`,
  ``int`` → :func:`as_int`, ``float`` → :func:`as_number`, ``bool`` → :func:`as_bool`,
  ``Mapping[str, Any]`` → :func:`as_dict`, ``Tuple[str, ...]`` →
  :func:`as_str_tuple`), unless ``read_at(..., convert=f)`` names another.
- **default**: a converted ``None`` becomes the field's attrs default (or a fresh
  value from its factory).
- **not read**: ``not_read(default)`` marks a field the caller sets itself.

Events read from the inner ``params`` mapping; results read from the event that
settled them (``from_attributes``: the first step of a path is an attribute). An
event's ``Mapping`` field holds the very ``dict`` its ``params`` holds (that is already
the event's own copy); a result's is a copy of the event's. Nothing here raises on a
malformed source: every converter returns ``None`` for a wrong type.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

import attrs

from relaysync._util import as_bool, as_dict, as_int, as_number, as_str, as_str_tuple

#: A compiled reader: source → the class's own field values (a tuple in declaration
#: order, or a dict by name when reading attributes).
Reader = Callable[[Any], Any]

_KEY = "relaysync.read_at"
_FACTORY: Any = type(attrs.Factory(dict))
#: Converters written out in the generated code (as the functions do) to save a call.
_INLINE: Dict[Callable[[Any], Any], str] = {
    as_str: "{v} if isinstance({v}, str) else None",
    as_dict: "dict({v}) if type({v}) is dict or isinstance({v}, Mapping) else None",
}
#: Reading keys, a nested ``dict`` is shared, not copied: the source is an event's own
#: copy of its ``params`` (one object per ``device`` of every state event, not two).
_SHARED_DICT = "{v} if type({v}) is dict else dict({v}) if isinstance({v}, Mapping) else None"
_STEP = "{v}.get({key!r}) if type({v}) is dict or isinstance({v}, Mapping) else None"
_BY_TYPE: Dict[Any, Callable[[Any], Any]] = {
    str: as_str,
    int: as_int,
    float: as_number,
    bool: as_bool,
    typing.Mapping[str, Any]: as_dict,
    Tuple[str, ...]: as_str_tuple,
}


def read_at(
    *paths: str,
    convert: Optional[Callable[[Any], Any]] = None,
    default: Any = None,
    factory: Optional[Callable[[], Any]] = None,
    repr: bool = True,
) -> Any:
    """Declare an attrs field read from ``paths`` (dotted) rather than its own name.

    Args:
        paths: one or more paths; the first whose converted value is not ``None`` wins.
            None: the field's own name.
        convert: the converter, instead of the one the field's type picks.
        default: the value when no path gives one.
        factory: builds the default instead (e.g. ``dict``).
        repr: whether the field appears in the ``repr``.

    Returns:
        The attrs field definition.
    """
    metadata = {_KEY: (paths, convert)}
    if factory is not None:
        return attrs.field(factory=factory, metadata=metadata, repr=repr)
    return attrs.field(default=default, metadata=metadata, repr=repr)


def not_read(default: Any = None) -> Any:
    """Declare an attrs field that no reader fills (its caller sets it).

    Args:
        default: the field's default.

    Returns:
        The attrs field definition.
    """
    return attrs.field(default=default, metadata={_KEY: None})


def _converter(field: attrs.Attribute[Any], hint: Any) -> Callable[[Any], Any]:
    args = typing.get_args(hint)
    if typing.get_origin(hint) is typing.Union and len(args) == 2 and type(None) in args:
        hint = args[0] if args[1] is type(None) else args[1]
    try:
        return _BY_TYPE[hint]
    except (KeyError, TypeError):
        raise TypeError(f"no converter for field {field.name!r} of type {hint!r}") from None


def _statements(
    field: attrs.Attribute[Any], v: str, hint: Any, namespace: Dict[str, Any], from_attributes: bool
) -> List[str]:
    """The statements that leave ``field``'s value in the local ``v``."""
    default = None if field.default is attrs.NOTHING else field.default
    if isinstance(default, _FACTORY):
        namespace[f"{v}_default"], fallback = default.factory, f"{v}_default()"
    else:
        namespace[f"{v}_default"], fallback = default, f"{v}_default"
    spec = field.metadata.get(_KEY, ((), None))
    if spec is None:
        return [f"{v} = {fallback}"]
    paths, convert = spec
    convert = namespace[f"{v}_convert"] = convert or _converter(field, hint)
    lines: List[str] = []
    for n, path in enumerate(paths or (field.name,)):
        first, *rest = path.split(".")
        steps = [f"getattr(src, {first!r}, None)" if from_attributes else f"get({first!r})"]
        steps += [_STEP.format(v=v, key=key) for key in rest]
        inline = (
            _SHARED_DICT if convert is as_dict and not from_attributes else _INLINE.get(convert)
        )
        steps.append((inline or f"{v}_convert({{v}})").format(v=v))
        if n:
            lines.append(f"if {v} is None:")
        lines += [f"{'    ' if n else ''}{v} = {step}" for step in steps]
    if default is not None:
        lines += [f"if {v} is None:", f"    {v} = {fallback}"]
    return lines


def compile_reader(cls: type, base: type, *, from_attributes: bool = False) -> Reader:
    """Compile the reader of the fields ``cls`` declares beyond those of ``base``.

    Args:
        cls: an attrs class.
        base: an attrs base of ``cls`` whose fields the caller fills itself.
        from_attributes: read attributes of an object (the first step of each path)
            and return a dict by field name; else read keys of a mapping and return a
            tuple in field order.

    Returns:
        The reader: one generated function, straight-line code with no loop.

    Raises:
        TypeError: a read field has no ``convert`` and a type without a converter.
    """
    try:
        hints = typing.get_type_hints(cls)
    except Exception:  # annotations that do not resolve: only explicit converters work
        hints = {}
    inherited = {field.name for field in attrs.fields(base)}
    own = [field for field in attrs.fields(cls) if field.name not in inherited]
    namespace: Dict[str, Any] = {"Mapping": Mapping}
    body = [] if from_attributes else ["get = src.get"]
    for i, field in enumerate(own):
        hint = hints.get(field.name, field.type)
        body += _statements(field, f"v{i}", hint, namespace, from_attributes)
    if from_attributes:
        result = "{" + "".join(f"{field.name!r}: v{i}, " for i, field in enumerate(own)) + "}"
    else:
        result = "(" + "".join(f"v{i}, " for i in range(len(own))) + ")"
    body.append(f"return {result}")
    source = "def read(src):\n" + "".join(f"    {line}\n" for line in body)
    exec(compile(source, f"<fields of {cls.__qualname__}>", "exec"), namespace)
    read: Reader = namespace["read"]
    read.__qualname__ = f"{cls.__qualname__}.read"
    return read


class Readers(Dict[type, Reader]):
    """Each class's reader, compiled the first time the class is looked up.

    A known class costs one plain dict lookup (the reader thread does one per event);
    when two threads miss together, both compile and the atomic ``setdefault`` keeps
    the first reader stored.
    """

    def __init__(self, base: type, *, from_attributes: bool = False) -> None:
        """Start with no reader.

        Args:
            base: as for :func:`compile_reader`.
            from_attributes: as for :func:`compile_reader`.
        """
        super().__init__()
        self._base = base
        self._from_attributes = from_attributes

    def prepare(self, classes: Iterable[type]) -> None:
        """Compile the readers of ``classes`` now (at import) rather than on first use.

        Args:
            classes: attrs subclasses of the base.

        Raises:
            TypeError: as for :func:`compile_reader`.
        """
        for cls in classes:
            self[cls]

    def __missing__(self, cls: type) -> Reader:
        read = compile_reader(cls, self._base, from_attributes=self._from_attributes)
        return self.setdefault(cls, read)


__all__ = ["Reader", "Readers", "compile_reader", "not_read", "read_at"]
