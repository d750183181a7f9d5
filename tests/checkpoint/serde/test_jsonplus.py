"""JsonPlusSerializer: what round-trips, and what fails loudly (at write time when it can)."""

from __future__ import annotations

import dataclasses
import enum
import ipaddress
import pathlib
import re
import uuid
from collections import deque
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Any, NamedTuple, Optional
from zoneinfo import ZoneInfo

import ormsgpack
import pydantic
import pytest

from stategraph.checkpoint.serde import register_types
from stategraph.checkpoint.serde._msgpack import EXT_OBJECT
from stategraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from stategraph.errors import DeserializationError, SerializationError
from stategraph.types import (
    Command,
    GraphOutput,
    Interrupt,
    Overwrite,
    PregelTask,
    RetryPolicy,
    Send,
    StateSnapshot,
    TimeoutPolicy,
)


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Level(enum.IntEnum):
    LOW = 1


class Point(NamedTuple):
    x: int
    y: int = 0


@dataclasses.dataclass(frozen=True)
class Item:
    name: str
    tags: tuple[str, ...] = ()
    color: Color = Color.RED
    computed: int = dataclasses.field(default=0, init=False)


@dataclasses.dataclass
class Order:
    items: list[Item]
    at: datetime
    where: Optional[Point] = None


class Profile(pydantic.BaseModel):
    name: str
    level: Level = Level.LOW
    orders: list[Order] = []
    _secret: str = pydantic.PrivateAttr(default="none")


class Loose(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="allow")

    name: str


class Unregistered(pydantic.BaseModel):
    value: int


@dataclasses.dataclass
class AlsoUnregistered:
    value: int


register_types(Profile, Loose)  # walks Order, Item, Point, Color, Level


def round_trip(value: Any, serde: Optional[JsonPlusSerializer] = None) -> Any:
    serde = serde or JsonPlusSerializer()
    return serde.loads_typed(serde.dumps_typed(value))


VALUES = [
    None, True, 0, -1, 2**63 - 1, 2**80, -(2**100), 1.5, float("inf"), "text", "", b"\x00raw",
    bytearray(b"mutable"), [1, [2]], {"k": {"n": None}}, {1: "int key", (1, 2): "tuple key"},
    (1, (2, 3)), (), {1, 2}, frozenset({(1, 2)}), deque([1, 2], maxlen=5), 3 + 4j,
    datetime(2024, 5, 6, 7, 8, 9, 10), datetime(2024, 5, 6, tzinfo=timezone.utc),
    datetime(2024, 11, 3, 1, 30, tzinfo=ZoneInfo("America/New_York"), fold=1),
    date(2024, 1, 2), time(3, 4, 5, 6), time(1, tzinfo=timezone(timedelta(hours=-3), "X")),
    timedelta(days=1, seconds=2, microseconds=3), timezone.utc, ZoneInfo("Europe/Paris"),
    uuid.UUID("12345678-1234-5678-1234-567812345678"), Decimal("1.10"), Decimal("NaN"),
    pathlib.Path("/tmp/a b"), pathlib.PurePosixPath("x/y"), pathlib.PureWindowsPath(r"C:\x"),
    ipaddress.ip_address("10.0.0.1"), ipaddress.ip_address("::1"),
    ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_interface("10.0.0.1/24"),
    re.compile(r"a+b", re.IGNORECASE),
    Send("node", {"x": 1}), Send("node", 1, timeout=TimeoutPolicy(run_timeout=2.0)),
    Interrupt(value={"q": "?"}, id="abc"),
    Command(update={"a": 1}, goto=[Send("n", 2), "m"], resume=1),
    Command(graph=Command.PARENT, goto="x"), Overwrite([1, 2]), RetryPolicy(max_attempts=5, retry_on=None),
    PregelTask("id", "node", ("__pregel_pull", "node"), interrupts=(Interrupt(1),)),
    StateSnapshot({"a": 1}, ("n",), {"configurable": {}}, None, None, None, ()),
    GraphOutput({"a": 1}),
    Color.BLUE, Level.LOW, Point(1, 2), Item("pen", ("blue",)),
    Order([Item("a"), Item("b", color=Color.BLUE)], datetime(2024, 1, 1), Point(3)),
    Profile(name="ann", orders=[Order([], datetime(2024, 1, 1))]),
    Loose(name="x", nickname="extra field"),
]  # fmt: skip


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__)
def test_registered_values_round_trip_with_their_type(value: Any) -> None:
    result = round_trip(value)
    assert type(result) is type(value)
    if isinstance(value, float) or value != value:  # NaN-like values compare by repr
        assert repr(result) == repr(value)
    else:
        assert result == value


def test_nested_tuples_stay_tuples() -> None:
    assert round_trip({"path": ("a", ("b", 1)), "list": [(1,)]}) == {
        "path": ("a", ("b", 1)),
        "list": [(1,)],
    }
    assert type(round_trip([(1,)])[0]) is tuple


def test_fields_outside_init_and_pydantic_state_are_kept() -> None:
    item = Item("pen")
    object.__setattr__(item, "computed", 42)
    assert round_trip(item).computed == 42
    profile = Profile(name="ann")
    profile._secret = "s3cret"
    result = round_trip(profile)
    assert result._secret == "s3cret"
    assert result.model_fields_set == {"name"}
    assert result.model_dump(exclude_unset=True) == {"name": "ann"}


def test_datetime_with_a_foreign_tzinfo_keeps_its_instant() -> None:
    class Plus2(tzinfo):  # e.g. pytz or dateutil zones
        def utcoffset(self, dt: Any) -> timedelta:
            return timedelta(hours=2)

        def dst(self, dt: Any) -> timedelta:
            return timedelta(0)

    moment = datetime(2024, 1, 1, 12, tzinfo=Plus2())
    result = round_trip(moment)
    assert result == moment
    assert result.utcoffset() == timedelta(hours=2)


def test_langchain_messages_and_documents_round_trip() -> None:
    from langchain_core.documents import Document
    from langchain_core.messages import (
        AIMessage,
        AIMessageChunk,
        HumanMessage,
        RemoveMessage,
        SystemMessage,
        ToolMessage,
    )

    values = [
        HumanMessage("hi", id="1", name="ann"),
        AIMessage(
            "",
            id="2",
            tool_calls=[{"name": "f", "args": {"x": (1, 2)}, "id": "c", "type": "tool_call"}],
            usage_metadata={"input_tokens": 1, "output_tokens": 2, "total_tokens": 3},
        ),
        AIMessageChunk(content="par", id="3"),
        SystemMessage([{"type": "text", "text": "be brief"}]),
        ToolMessage("42", tool_call_id="c", artifact={"raw": 42}, status="error"),
        RemoveMessage(id="1"),
        Document("page", metadata={"source": "x"}, id="d"),
    ]  # fmt: skip
    for value in values:
        result = round_trip(value)
        assert type(result) is type(value)
        assert result == value
    assert round_trip(values[1]).tool_calls[0]["args"] == {"x": (1, 2)}


def test_an_exception_is_stored_as_its_repr() -> None:
    assert round_trip(KeyError("missing")) == "KeyError('missing')"


@pytest.mark.parametrize(
    ("value", "names"),
    [
        (Unregistered(value=1), ["Unregistered", "register_types", "allowed_msgpack_modules"]),
        ({"deep": [AlsoUnregistered(1)]}, ["AlsoUnregistered", "register_types"]),
        (object(), ["builtins.object", "convert it"]),
        (lambda: 1, ["function"]),
    ],
)
def test_an_unregistered_type_fails_at_write_time_naming_type_and_fix(
    value: Any, names: list[str]
) -> None:
    with pytest.raises(SerializationError) as raised:
        JsonPlusSerializer().dumps_typed(value)
    for name in names:
        assert name in str(raised.value)


def test_allowed_msgpack_modules_allows_classes_and_names_for_that_serializer_only() -> None:
    by_class = JsonPlusSerializer(allowed_msgpack_modules=[Unregistered])
    assert round_trip(Unregistered(value=3), by_class) == Unregistered(value=3)
    by_name = JsonPlusSerializer(
        allowed_msgpack_modules=[(AlsoUnregistered.__module__, "AlsoUnregistered")]
    )
    assert round_trip(AlsoUnregistered(4), by_name) == AlsoUnregistered(4)
    widened = JsonPlusSerializer().with_allowlist([AlsoUnregistered])
    assert round_trip(AlsoUnregistered(5), widened) == AlsoUnregistered(5)
    with pytest.raises(SerializationError):
        JsonPlusSerializer().dumps_typed(AlsoUnregistered(4))
    stored = by_class.dumps_typed(Unregistered(value=3))
    with pytest.raises(DeserializationError, match="Refusing"):
        JsonPlusSerializer().loads_typed(stored)


def test_allowing_every_imported_dataclass_still_never_imports() -> None:
    blanket = JsonPlusSerializer(allowed_msgpack_modules=True)
    assert round_trip(AlsoUnregistered(6), blanket) == AlsoUnregistered(6)
    payload = ormsgpack.packb(
        ormsgpack.Ext(EXT_OBJECT, ormsgpack.packb(["not_imported_module_xyz:Thing", {}]))
    )
    with pytest.raises(DeserializationError, match="Refusing"):
        blanket.loads_typed(("msgpack", payload))


def test_register_types_refuses_a_plain_class() -> None:
    class Plain:
        pass

    with pytest.raises(TypeError, match="only dataclasses, pydantic models, NamedTuples and Enums"):
        register_types(Plain)


def test_pickle_is_refused_without_the_opt_in() -> None:
    with pytest.raises(DeserializationError, match="pickle"):
        JsonPlusSerializer().loads_typed(("pickle", b"\x80\x04K\x01."))


@pytest.mark.parametrize(
    "stored",
    [
        ("msgpack", b"\xc1"),  # a byte msgpack never uses
        ("msgpack", b"\x92\x01"),  # truncated array
        (
            "msgpack",
            ormsgpack.packb(ormsgpack.Ext(EXT_OBJECT, b"\x01")),
        ),  # malformed object payload
        (
            "msgpack",
            ormsgpack.packb(ormsgpack.Ext(EXT_OBJECT, ormsgpack.packb(["datetime:date", "nope"]))),
        ),
        ("mystery", b""),
        ("json", b"{not json"),
    ],
)
def test_undecodable_bytes_raise_instead_of_returning_something(stored: tuple[str, bytes]) -> None:
    with pytest.raises(DeserializationError):
        JsonPlusSerializer().loads_typed(stored)


def test_a_changed_class_fails_loudly_when_reading_old_data() -> None:
    @dataclasses.dataclass
    class Versioned:
        a: int

    register_types(Versioned)
    stored = JsonPlusSerializer().dumps_typed(Versioned(1))

    @dataclasses.dataclass
    class Versioned:  # type: ignore[no-redef]  # same key, field renamed
        b: int

    register_types(Versioned)
    with pytest.raises(DeserializationError, match="Versioned"):
        JsonPlusSerializer().loads_typed(stored)


def test_fields_at_their_default_are_left_out_but_come_back() -> None:
    from langchain_core.messages import AIMessage

    plain = AIMessage("hello", id="m1")
    changed = AIMessage("hello", id="m1")
    changed.additional_kwargs["seen"] = True  # a default container changed in place
    explicit = AIMessage("hello", id="m1", name=None)  # set, though equal to the default
    serde = JsonPlusSerializer()
    assert len(serde.dumps_typed(plain)[1]) < len(serde.dumps_typed(changed)[1])
    assert round_trip(changed).additional_kwargs == {"seen": True}
    assert round_trip(plain).additional_kwargs == {}
    assert round_trip(explicit).model_fields_set == explicit.model_fields_set
    assert round_trip(Profile(name="x", level=Level.LOW)).model_fields_set == {"name", "level"}


def test_langgraphs_old_json_format_revives_registered_types_and_nothing_else(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from stategraph.types import Interrupt

    legacy = (
        b'{"lc": 2, "type": "constructor", "id": ["langgraph", "types", "Interrupt"], '
        b'"kwargs": {"value": "q", "resumable": true, "ns": ["node:1"], "when": "during"}}'
    )
    revived = JsonPlusSerializer().loads_typed(("json", legacy))
    assert isinstance(revived, Interrupt) and revived.value == "q"
    assert revived.id == Interrupt(value="q", ns=["node:1"]).id  # the id LangGraph derived

    message = JsonPlusSerializer().loads_typed(
        ("json", b'{"lc": 1, "type": "constructor", "id": ["langchain", "schema", "messages", '
                 b'"HumanMessage"], "kwargs": {"content": "hi"}}')
    )
    assert type(message).__name__ == "HumanMessage" and message.content == "hi"

    hostile = b'{"lc": 2, "type": "constructor", "id": ["os", "system"], "args": ["echo hi"]}'
    with caplog.at_level("WARNING"):
        assert JsonPlusSerializer().loads_typed(("json", hostile))["id"] == ["os", "system"]
    assert "allowed_json_modules" in caplog.text
    assert JsonPlusSerializer().loads_typed(("json", b'{"a": [1, 2]}')) == {"a": [1, 2]}
