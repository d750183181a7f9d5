"""JsonPlusSerializer(pickle_fallback=True): LangGraph's explicit opt-in to pickle."""

from __future__ import annotations

import pickle
import warnings

import pytest

from stategraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from stategraph.errors import SerializationError


class Unstorable:
    """Not a dataclass, model, NamedTuple or Enum: msgpack cannot store it."""

    def __init__(self, value: int) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Unstorable) and other.value == self.value


def opted_in() -> JsonPlusSerializer:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return JsonPlusSerializer(pickle_fallback=True)


def test_opting_in_warns_that_stored_bytes_can_run_code() -> None:
    with pytest.warns(RuntimeWarning, match="arbitrary code"):
        JsonPlusSerializer(pickle_fallback=True)


def test_default_serializer_does_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        JsonPlusSerializer()


def test_value_msgpack_cannot_store_is_pickled_and_read_back() -> None:
    serde = opted_in()
    tag, data = serde.dumps_typed(Unstorable(7))
    assert tag == "pickle"
    assert serde.loads_typed((tag, data)) == Unstorable(7)


def test_storable_values_stay_msgpack_when_opted_in() -> None:
    assert opted_in().dumps_typed({"a": (1, 2)})[0] == "msgpack"


def test_without_the_opt_in_unstorable_values_are_refused() -> None:
    with pytest.raises(SerializationError):
        JsonPlusSerializer().dumps_typed(Unstorable(1))


def test_allowlist_copy_keeps_the_opt_in_without_warning_again() -> None:
    serde = opted_in()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clone = serde.with_allowlist([("builtins", "object")])
    assert clone.loads_typed(("pickle", pickle.dumps([1, 2]))) == [1, 2]
