"""The shapes RELAY params are declared with, and the checks compiled from them.

A declaration (see :mod:`relaysync.operations`) describes a method's params as a tree
of shapes, in the manner of botocore's ``service-2.json`` shapes: :class:`Obj` (a dict
with known keys, some required), :class:`ListOf`, :class:`Tagged` (``{type, params}``
items whose params depend on the type), and the scalars :class:`Str`, :class:`Bool`,
:class:`Int`, :class:`Num` and :class:`Anything`. Each shape is built once, at import;
:meth:`Shape.check` then walks a value in one pass: it drops ``None`` values, refuses
what does not fit, and returns the value to send (a new dict or list; a few scalars
converted where the wire wants a string).

A refusal is a :class:`ParamError`; :meth:`ParamError.error` turns it into the
exception the user sees, naming the public method: ``TypeError`` for an unknown key
(with its path and the valid keys), ``ValueError`` for a wrong type, a value out of
range or not allowed, or a missing required member.
"""

from __future__ import annotations

import math
from typing import (
    Any,
    Callable,
    Dict,
    FrozenSet,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Type,
    TypeVar,
    Union,
)

from ._util import compact, is_mapping

R = TypeVar("R")


class ParamError(Exception):
    """A param does not fit its shape (turned into TypeError/ValueError by the caller).

    Attributes:
        kind: ``TypeError`` (unknown key) or ``ValueError`` (anything else).
        reason: what is wrong, without the path.
        path: the keys and list indexes from the params root, filled in on the way out
            (starting with ``at``, the key refused, where given).
    """

    def __init__(self, kind: Type[Exception], reason: str, at: Optional[str] = None) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason
        self.path: List[Union[str, int]] = [] if at is None else [at]

    def where(self, root: str = "") -> str:
        """The path, as ``record.audio.beep`` or ``play[0].params.text``."""
        text = root
        for step in reversed(self.path):
            text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else step)
        return text

    def error(self, api: str, root: str = "") -> Exception:
        """The exception to raise for the public method ``api`` (``"Call.play()"``),
        the path starting at ``root``."""
        where = self.where(root)
        if self.kind is TypeError:  # an unknown key: path[0] is the key itself
            at = f" at {where}" if where != self.path[0] else ""
            return TypeError(f"{api}: unknown key {self.path[0]!r}{at}; {self.reason}")
        return self.kind(f"{api}: {where + ' ' if where else ''}{self.reason}")


def _type_name(value: Any) -> str:
    """The type of a refused value (never the value: it may be a secret)."""
    return "None" if value is None else type(value).__name__


class Shape:
    """One node of a declaration. Subclasses say what fits and how it is sent."""

    #: The type tag of :func:`relaysync.operations.param_facts`.
    tag = "any"

    def check(self, value: Any) -> Any:
        """Return ``value`` as it is sent (``None`` values dropped at every depth).

        Raises:
            ParamError: ``value`` does not fit.
        """
        raise NotImplementedError

    def facts(self, path: str, out: Dict[str, str]) -> None:
        """Add ``path → type tag`` for this shape and everything under it to ``out``."""
        out[path] = self.tag


class Anything(Shape):
    """Any value: nothing is checked (the sources give no type); ``None`` dropped inside."""

    def check(self, value: Any) -> Any:
        """Return ``value`` with ``None`` dropped from the dicts in it."""
        if is_mapping(value):
            return compact(value)
        if isinstance(value, (list, tuple)):
            return compact({"v": value})["v"]
        return value


class AnyDict(Anything):
    """A dict whose keys are not declared."""

    tag = "dict"

    def check(self, value: Any) -> Any:
        """Return a copy of the dict without ``None`` values."""
        if not is_mapping(value):
            raise ParamError(ValueError, f"must be a dict, got {_type_name(value)}")
        return compact(value)


class Str(Shape):
    """A string, optionally non-empty, one of ``choices``, or made of ``alphabet``.

    Args:
        choices: the allowed values.
        alphabet: the allowed characters.
        nonempty: refuse ``""`` and blank strings.
        numbers: also accept an int or float (not a bool), sent as its ``str`` (for
            params the server types as strings, such as pay's ``charge_amount``).
        bools: also accept ``True``/``False``, sent as ``"true"``/``"false"``.
    """

    tag = "str"

    def __init__(
        self,
        *choices: str,
        alphabet: Optional[str] = None,
        nonempty: bool = False,
        numbers: bool = False,
        bools: bool = False,
    ) -> None:
        self.choices: FrozenSet[str] = frozenset(choices)
        self._listed = ", ".join(choices)
        self.alphabet = frozenset(alphabet) if alphabet else None
        self._alphabet_text = alphabet
        self.nonempty = nonempty or bool(alphabet)
        self.numbers = numbers
        self.bools = bools

    def check(self, value: Any) -> Any:
        """Return the string (a number or bool converted where allowed)."""
        if type(value) is not str:
            value = self._convert(value)
        if self.choices and value not in self.choices:
            raise ParamError(ValueError, f"must be one of {self._listed}; got {value!r}")
        if self.nonempty and not value.strip():
            raise ParamError(ValueError, f"must be a non-empty string; got {value!r}")
        if self.alphabet is not None and not self.alphabet.issuperset(value):
            raise ParamError(
                ValueError, f"must be made of the characters {self._alphabet_text}; got {value!r}"
            )
        return value

    def _convert(self, value: Any) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            if self.bools:
                return "true" if value else "false"
        elif isinstance(value, (int, float)) and self.numbers and math.isfinite(value):
            return str(value)
        raise ParamError(ValueError, f"must be a string; got {_type_name(value)}")


class Bool(Shape):
    """``True`` or ``False``."""

    tag = "bool"

    def check(self, value: Any) -> Any:
        """Return the bool."""
        if value is True or value is False:
            return value
        raise ParamError(ValueError, f"must be True or False; got {_type_name(value)}")


class Num(Shape):
    """A finite int or float (never a bool), from ``low`` to ``high`` where given."""

    tag = "number"
    _kinds: Tuple[type, ...] = (int, float)
    _what = "a number"

    def __init__(self, low: Optional[float] = None, high: Optional[float] = None) -> None:
        self.low = -math.inf if low is None else low
        self.high = math.inf if high is None else high
        if low is not None and high is not None:
            self._range = f" from {low:g} to {high:g}"
        elif low is not None:
            self._range = f" >= {low:g}"
        else:
            self._range = ""

    def check(self, value: Any) -> Any:
        """Return the number."""
        kind = type(value)
        if kind not in self._kinds and (
            isinstance(value, bool) or not isinstance(value, self._kinds)
        ):
            raise ParamError(
                ValueError, f"must be {self._what}{self._range}; got {_type_name(value)}"
            )
        if not self.low <= value <= self.high or (kind is float and not math.isfinite(value)):
            raise ParamError(ValueError, f"must be {self._what}{self._range}; got {value!r}")
        return value


class Int(Num):
    """An int (never a bool), from ``low`` to ``high`` where given."""

    tag = "int"
    _kinds = (int,)
    _what = "a whole number"


def seconds() -> Num:
    """A duration in seconds: a number >= 0."""
    return Num(0)


class ListOf(Shape):
    """A list (or tuple) whose items all have the shape ``item``.

    Args:
        item: the items' shape.
        nonempty: refuse an empty list.
        single: accept a lone item as a list of one (a client convenience).
    """

    tag = "list"

    def __init__(self, item: Shape, *, nonempty: bool = False, single: bool = False) -> None:
        self.item = item
        self.nonempty = nonempty
        self.single = single

    def check(self, value: Any) -> Any:
        """Return a new list of the checked items."""
        if not isinstance(value, (list, tuple)):
            if self.single and is_mapping(value):
                value = [value]
            else:
                what = "a dict or a list of them" if self.single else "a list"
                raise ParamError(ValueError, f"must be {what}; got {_type_name(value)}")
        if self.nonempty and not value:
            raise ParamError(ValueError, "must not be an empty list")
        # Each member is checked inline, not through a helper or a comprehension: the
        # check is a handler thread's deepest point, and each frame less keeps its
        # interpreter stack within one 4 KiB page (measured: 4 KiB per handler thread).
        item = self.item
        out = []
        for index, entry in enumerate(value):
            try:
                out.append(item.check(entry))
            except ParamError as exc:
                exc.path.append(index)
                raise
        return out

    def facts(self, path: str, out: Dict[str, str]) -> None:
        """The list, then its items under ``path[]``."""
        out[path] = self.tag
        self.item.facts(f"{path}[]", out)


class Obj(Shape):
    """A dict with known keys.

    Args:
        members: each key's shape.
        required: keys that must be present (and not ``None``).
        one_of: at least one of these keys must be present.
        exactly_one: exactly one key must be present.
    """

    tag = "dict"

    def __init__(
        self,
        required: Sequence[str] = (),
        /,
        *,
        one_of: Any = (),
        exactly_one: Any = False,
        **members: Shape,
    ) -> None:
        self.members = members
        self.items = tuple(members.items())
        self.required = tuple(required)
        self.one_of: Tuple[str, ...] = tuple(one_of)
        self.exactly_one = bool(exactly_one)
        self.keys_text = ", ".join(sorted(members))
        unknown = set(required) | set(one_of)
        assert unknown <= set(members), unknown - set(members)

    def check(self, value: Any) -> Any:
        """Return a new dict of the checked members; an unknown key is a TypeError."""
        if not is_mapping(value):
            raise ParamError(ValueError, f"must be a dict; got {_type_name(value)}")
        members = self.members
        out: Dict[str, Any] = {}
        for key, entry in value.items():
            if entry is None:
                continue
            shape = members.get(key)
            if shape is None:
                if self.exactly_one:  # the key is the choice: a value not allowed
                    raise ParamError(ValueError, f"must be one of {self.keys_text}; got {key!r}")
                raise ParamError(TypeError, f"valid keys: {self.keys_text}", key)
            try:
                out[key] = shape.check(entry)
            except ParamError as exc:
                exc.path.append(key)
                raise
        return self._complete(out)

    def pick(self, args: Mapping[str, Any]) -> Dict[str, Any]:
        """Check the members found in ``args`` (other names in it are ignored).

        Used with a wrapper's arguments, whose names Python has already checked.
        """
        out: Dict[str, Any] = {}
        for key, shape in self.items:
            entry = args.get(key)
            if entry is not None:
                try:
                    out[key] = shape.check(entry)
                except ParamError as exc:
                    exc.path.append(key)
                    raise
        return self._complete(out)

    def _complete(self, out: Dict[str, Any]) -> Dict[str, Any]:
        for key in self.required:
            if key not in out:
                raise ParamError(ValueError, f"needs {key!r}; it is missing")
        if self.one_of and out.keys().isdisjoint(self.one_of):
            raise ParamError(ValueError, f"needs {' or '.join(self.one_of)} (or more of them)")
        if self.exactly_one and len(out) != 1:
            raise ParamError(
                ValueError, f"must have exactly one key of {self.keys_text}; got {sorted(out)}"
            )
        return out

    def facts(self, path: str, out: Dict[str, str]) -> None:
        """The dict (unless it is the root), then each member under ``path.key``."""
        if path:
            out[path] = self.tag
        for key, shape in self.items:
            shape.facts(f"{path}.{key}" if path else key, out)


class Tagged(Shape):
    """A ``{"type": ..., "params": {...}}`` item whose params depend on its type.

    Args:
        variants: each type's params shape.
        flat: accept the flat form, with the params beside ``type``
            (``{"type": "tts", "text": "Hi"}``); they are sent nested.
        params_required: ``params`` must be present.
    """

    tag = "dict"

    def __init__(self, *, flat: Any = False, params_required: Any = False, **variants: Obj) -> None:
        self.variants = variants
        self.flat = bool(flat)
        self.params_required = bool(params_required)
        self._types = ", ".join(variants)

    def check(self, value: Any) -> Any:
        """Return ``{"type", "params"}`` with the params checked against the type's shape."""
        if not is_mapping(value):
            raise ParamError(
                ValueError, f"must be a dict {{type, params}}; got {_type_name(value)}"
            )
        kind = value.get("type")
        shape = self.variants.get(kind) if isinstance(kind, str) else None
        if shape is None:
            raise ParamError(ValueError, f"must be one of {self._types}; got {kind!r}", "type")
        params = value.get("params")
        if len(value) > 2 or (params is None and len(value) > 1):
            params = self._gather(value, params)
        if params is None:
            if self.params_required:
                raise ParamError(ValueError, "needs 'params'; it is missing")
            params = {}
        try:
            return {"type": kind, "params": shape.check(params)}
        except ParamError as exc:
            exc.path.append("params")
            raise

    def _gather(self, value: Mapping[str, Any], params: Any) -> Any:
        """The params of an item with keys besides ``type`` and ``params``."""
        extra = {k: v for k, v in value.items() if k not in ("type", "params") and v is not None}
        if not extra:
            return params
        if not self.flat:
            raise ParamError(TypeError, "valid keys: params, type", sorted(extra)[0])
        merged = dict(params) if is_mapping(params) else {}
        for key, entry in extra.items():
            if merged.get(key, entry) != entry:
                raise ParamError(ValueError, "is given both here and in 'params'", key)
            merged[key] = entry
        return merged

    def facts(self, path: str, out: Dict[str, str]) -> None:
        """The item, ``type`` and ``params``, then the params of every type (a key
        typed differently by two types is ``any``)."""
        out[path] = self.tag
        out[f"{path}.type"] = "str"
        out[f"{path}.params"] = "dict"
        merged: Dict[str, str] = {}
        for shape in self.variants.values():
            found: Dict[str, str] = {}
            shape.facts(f"{path}.params", found)
            for key, tag in found.items():
                merged[key] = tag if merged.get(key, tag) == tag else "any"
        out.update(merged)


def merge_extra(body: Dict[str, Any], extra: Mapping[str, Any]) -> None:
    """Merge ``extra_params`` into ``body`` as given, unchecked; dicts merge key by key.

    Raises:
        TypeError: ``extra`` is not a dict.
    """
    if not is_mapping(extra):
        raise TypeError(f"extra_params must be a dict, got {type(extra).__name__}")
    for key, value in extra.items():
        current = body.get(key)
        if is_mapping(value) and is_mapping(current):
            merged = dict(current)
            merge_extra(merged, value)
            body[key] = merged
        else:
            body[key] = value


def refused_as(api: str, check: Callable[[Any], R], value: Any, root: str = "") -> R:
    """``check(value)`` (a shape's check or pick), a refusal raised as the TypeError or
    ValueError the user sees, naming the public method ``api`` and the path from ``root``.

    Raises:
        TypeError, ValueError: see :meth:`ParamError.error`.
    """
    try:
        return check(value)
    except ParamError as exc:
        raise exc.error(api, root) from None


def named(api: str, build: Callable[..., R], *args: Any, **kwargs: Any) -> R:
    """Run a client-side builder (a device plan, a refer target) so that its errors
    name the public method ``api`` (``"Call.connect()"``).

    Raises:
        TypeError, ValueError: as ``build`` does, the message starting with ``api``.
    """
    try:
        return build(*args, **kwargs)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{api}: {exc}") from None


__all__ = [
    "AnyDict",
    "Anything",
    "Bool",
    "Int",
    "ListOf",
    "Num",
    "Obj",
    "ParamError",
    "Shape",
    "Str",
    "Tagged",
    "merge_extra",
    "named",
    "refused_as",
    "seconds",
]
