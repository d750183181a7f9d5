"""collect_schema_types: the registrable classes a schema names, at any depth."""

from __future__ import annotations

import dataclasses
import enum
from typing import Annotated, Any, NamedTuple, Optional, TypedDict, Union

import pydantic

from stategraph.checkpoint.serde import collect_schema_types


class Mood(enum.Enum):
    HAPPY = "happy"


class Coord(NamedTuple):
    lat: float
    mood: Mood


@dataclasses.dataclass
class Address:
    where: Coord
    history: list["Address"] = dataclasses.field(default_factory=list)


class Owner(pydantic.BaseModel):
    addresses: dict[str, Address]
    backup: Optional["Pet"] = None


class Pet(pydantic.BaseModel):
    name: str


@dataclasses.dataclass
class Unrelated:
    x: int


def add(left: list[Any], right: list[Any]) -> list[Any]:
    return left + right


class State(TypedDict):
    owners: Annotated[list[Owner], add]
    count: int
    maybe: Union[Coord, None]
    any_value: Any


Owner.model_rebuild()


def test_a_typed_dict_schema_yields_every_class_it_reaches() -> None:
    assert collect_schema_types(State) == {Owner, Address, Coord, Mood, Pet}


def test_containers_unions_and_optional_are_walked() -> None:
    assert collect_schema_types(dict[str, list[Optional[Coord]]]) == {Coord, Mood}
    assert collect_schema_types(Pet | Address) == {Pet, Address, Coord, Mood}
    assert collect_schema_types(tuple[Mood, ...]) == {Mood}


def test_plain_types_and_literals_yield_nothing() -> None:
    assert collect_schema_types(int) == set()
    assert collect_schema_types(list[dict[str, Any]]) == set()
    assert collect_schema_types(Any) == set()


def test_a_self_referencing_dataclass_terminates() -> None:
    assert collect_schema_types(Address) == {Address, Coord, Mood}


def test_langchain_message_unions_yield_the_message_classes() -> None:
    from langchain_core.messages import AIMessage, AnyMessage, HumanMessage

    found = collect_schema_types(list[AnyMessage])
    assert {AIMessage, HumanMessage} <= found
