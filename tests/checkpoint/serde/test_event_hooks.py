"""Serde event listeners: told which stored types a serializer blocks or lets through."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from stategraph.checkpoint.serde.event_hooks import SerdeEvent, register_serde_event_listener
from stategraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from stategraph.errors import DeserializationError


@dataclass
class Unregistered:
    x: int


@pytest.fixture
def events() -> list[SerdeEvent]:
    seen: list[SerdeEvent] = []
    unregister = register_serde_event_listener(seen.append)
    yield seen
    unregister()


def stored() -> tuple[str, bytes]:
    return JsonPlusSerializer(allowed_msgpack_modules=[Unregistered]).dumps_typed(Unregistered(1))


EXPECTED = {"module": __name__, "name": "Unregistered"}


def test_blocked_type_is_reported(events: list[SerdeEvent]) -> None:
    with pytest.raises(DeserializationError):
        JsonPlusSerializer().loads_typed(stored())
    assert {"kind": "msgpack_blocked", **EXPECTED} in events


def test_type_let_through_by_the_blanket_allowance_is_reported_on_each_read(
    events: list[SerdeEvent],
) -> None:
    serde = JsonPlusSerializer(allowed_msgpack_modules=True)
    data = stored()
    assert serde.loads_typed(data) == Unregistered(1)
    assert serde.loads_typed(data) == Unregistered(1)
    kinds = [e["kind"] for e in events if e["name"] == "Unregistered"]
    assert kinds == ["msgpack_unregistered_allowed"] * 2


def test_explicitly_listed_type_is_not_reported(events: list[SerdeEvent]) -> None:
    serde = JsonPlusSerializer(allowed_msgpack_modules=[(__name__, "Unregistered")])
    assert serde.loads_typed(stored()) == Unregistered(1)
    assert [e for e in events if e["name"] == "Unregistered"] == []


def test_unregistered_listener_hears_nothing_more() -> None:
    seen: list[SerdeEvent] = []
    unregister = register_serde_event_listener(seen.append)
    unregister()
    with pytest.raises(DeserializationError):
        JsonPlusSerializer().loads_typed(stored())
    assert seen == []


def test_failing_listener_does_not_break_the_read(events: list[SerdeEvent]) -> None:
    def broken(event: SerdeEvent) -> None:
        raise RuntimeError("listener bug")

    unregister = register_serde_event_listener(broken)
    try:
        serde = JsonPlusSerializer(allowed_msgpack_modules=True)
        assert serde.loads_typed(stored()) == Unregistered(1)
    finally:
        unregister()
