"""The declarative field readers behind events and results."""

from __future__ import annotations

from typing import Any, Mapping, Optional, Tuple

import attrs
import pytest

from relaysync import events as ev
from relaysync import results as rs
from relaysync._event_base import EVENT_READERS
from relaysync._field_readers import Readers, compile_reader, not_read, read_at
from relaysync._util import as_code


@attrs.frozen
class _Sample(ev.RelayEvent):
    """An event class written the way a user of the vocabulary would write one."""

    plain: Optional[str] = None
    renamed: Optional[str] = read_at("wire-name")
    nested: Optional[int] = read_at("a.b.c")
    either: Optional[float] = read_at("x.first", "second")
    code: Optional[str] = read_at(convert=as_code)
    flag: bool = read_at("flags.on", default=False)
    table: Mapping[str, Any] = read_at("t", factory=dict)
    words: Tuple[str, ...] = ()
    kept: Optional[str] = not_read("fixed")


def _sample(inner: Any) -> _Sample:
    return _Sample.from_payload({"event_type": "sample", "params": inner})


def test_each_vocabulary_word_reads_what_it_says() -> None:
    e = _sample(
        {
            "plain": "p",
            "wire-name": "r",
            "a": {"b": {"c": "7"}},
            "second": 2,
            "code": 202,
            "flags": {"on": "true"},
            "t": {"k": 1},
            "words": ["w", 3, "v"],
            "kept": "ignored",
        }
    )
    assert (e.plain, e.renamed, e.nested, e.either, e.code) == ("p", "r", 7, 2.0, "202")
    assert (e.flag, e.table, e.words, e.kept) == (True, {"k": 1}, ("w", "v"), "fixed")
    assert _sample({"x": {"first": 1.5}, "second": 2}).either == 1.5


def test_wrong_shapes_give_defaults_and_never_raise() -> None:
    e = _sample({"a": {"b": 3}, "x": "not a mapping", "flags": [1], "t": "no", "words": "no"})
    assert (e.nested, e.either, e.flag, e.table, e.words) == (None, None, False, {}, ())
    assert e.table is not _sample({}).table  # a fresh default from the factory each time


def test_a_subclass_reader_is_compiled_once_and_kept() -> None:
    assert set(ev.EVENT_CLASSES.values()) <= set(EVENT_READERS)  # compiled at import
    first = EVENT_READERS[_Sample]
    _sample({})
    assert EVENT_READERS[_Sample] is first
    assert EVENT_READERS[ev.PlayEvent]({"state": "playing"}) == ("playing",)


def test_a_type_without_converter_fails_when_compiled() -> None:
    @attrs.frozen
    class Odd(ev.RelayEvent):
        """A field whose type has no converter and none given."""

        odd: Optional[complex] = None

    with pytest.raises(TypeError, match="odd"):
        compile_reader(Odd, ev.RelayEvent)


def test_results_read_attributes_of_the_event() -> None:
    readers = Readers(rs.ActionResult, from_attributes=True)
    fax = ev.parse_event(
        {
            "event_type": "calling.call.fax",
            "params": {"fax": {"type": "finished", "params": {"pages": "3", "result": 0}}},
        }
    )
    fields = readers[rs.FaxResult](fax)
    assert (fields["pages"], fields["result_code"], fields["direction"]) == (3, "0", None)
    assert readers[rs.DetectResult](None) == {"type": None, "result": None, "beep": False}
    assert rs.ConnectResult.from_event(None).peer is None
