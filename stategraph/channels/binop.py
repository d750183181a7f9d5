"""``BinaryOperatorAggregate``: a key with a reducer (``Annotated[list, operator.add]``)."""

from __future__ import annotations

import collections.abc
from typing import Any, Callable, Sequence

from typing_extensions import Self

from stategraph.channels.base import MISSING, BaseChannel
from stategraph.errors import EmptyChannelError, InvalidUpdateError
from stategraph.types import Overwrite

_ABSTRACT_TO_CONCRETE = {
    collections.abc.Sequence: list,
    collections.abc.MutableSequence: list,
    collections.abc.Set: set,
    collections.abc.MutableSet: set,
    collections.abc.Mapping: dict,
    collections.abc.MutableMapping: dict,
}


def concrete_type(typ: Any) -> Any:
    """An abstract collection type as its builtin (``Sequence`` is ``list``), as LangGraph
    reports a reducer channel's type; any other type as it is."""
    try:
        return _ABSTRACT_TO_CONCRETE.get(typ, typ)
    except TypeError:  # an unhashable annotation
        return typ


def initial_value(typ: Any) -> Any:
    """``typ()`` when the type can be constructed with no arguments, else ``MISSING``."""
    origin = getattr(typ, "__origin__", None) or typ
    origin = _ABSTRACT_TO_CONCRETE.get(origin, origin)
    if not isinstance(origin, type):
        return MISSING
    try:
        return origin()
    except Exception:
        return MISSING


def overwrite_value(value: Any) -> tuple[bool, Any]:
    """Whether ``value`` asks to bypass the reducer, and the value to store if so."""
    if isinstance(value, Overwrite):
        return True, value.value
    if isinstance(value, dict):
        if len(value) == 1 and "__overwrite__" in value:
            return True, value["__overwrite__"]
        if len(value) == 2 and value.get("type") == "__overwrite__" and "value" in value:
            return True, value["value"]
    return False, None


class BinaryOperatorAggregate(BaseChannel[Any, Any, Any]):
    """Folds every write into the current value with ``operator(current, write)``."""

    __slots__ = ("value", "operator")

    clears_when_idle = False

    def __init__(self, typ: Any, operator: Callable[[Any, Any], Any], key: str = "") -> None:
        super().__init__(typ, key)
        self.operator = operator
        self.value: Any = initial_value(typ)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, BinaryOperatorAggregate)
            and (
                self.operator is other.operator
                or getattr(self.operator, "__name__", None) == getattr(other.operator, "__name__", 1)
            )
        )

    def from_checkpoint(self, checkpoint: Any) -> Self:
        new = type(self).__new__(type(self))
        new.typ = self.typ
        new.key = self.key
        new.operator = self.operator
        new.value = initial_value(self.typ) if checkpoint is MISSING else checkpoint
        return new

    def update(self, values: Sequence[Any]) -> bool:
        if not values:
            return False
        overwritten = False
        value = self.value
        operator = self.operator
        for item in values:
            is_overwrite, replacement = overwrite_value(item)
            if is_overwrite:
                if overwritten:
                    raise InvalidUpdateError("Can receive only one Overwrite value per super-step.")
                value = replacement
                overwritten = True
            elif overwritten:
                continue
            elif value is MISSING:
                value = item
            else:
                value = operator(value, item)
        self.value = value
        return True

    def get(self) -> Any:
        if self.value is MISSING:
            raise EmptyChannelError()
        return self.value

    def is_available(self) -> bool:
        return self.value is not MISSING

    def checkpoint(self) -> Any:
        return self.value
