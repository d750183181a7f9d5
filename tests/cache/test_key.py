"""Cache keys: ``default_cache_key`` is canonical and stable; ``node_cache_key`` names entries."""

from __future__ import annotations

import dataclasses
import enum
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pydantic
import pytest
import xxhash

from stategraph.cache import (
    cache_namespace_name,
    default_cache_key,
    node_cache_key,
    node_cache_namespace,
)
from stategraph.types import CachePolicy

REPO = Path(__file__).resolve().parents[2]


@dataclasses.dataclass
class Point:
    x: int
    y: int


@dataclasses.dataclass
class Pair:
    x: int
    y: int


class Model(pydantic.BaseModel):
    name: str
    tags: list[str]


class Color(enum.Enum):
    RED = "red"


class Plain:
    def __init__(self, value: Any) -> None:
        self.value = value


def test_the_key_is_16_bytes() -> None:
    key = default_cache_key({"a": 1})

    assert isinstance(key, bytes) and len(key) == 16


def test_dict_key_order_does_not_change_the_key() -> None:
    assert default_cache_key({"a": 1, "b": {"c": 2, "d": 3}}) == default_cache_key(
        {"b": {"d": 3, "c": 2}, "a": 1}
    )


def test_keyword_argument_order_does_not_change_the_key() -> None:
    assert default_cache_key(1, x=1, y=2) == default_cache_key(1, y=2, x=1)


def test_set_order_does_not_change_the_key() -> None:
    assert default_cache_key({"x", "y", "z"}) == default_cache_key({"z", "y", "x"})


def test_lists_and_tuples_with_the_same_elements_share_a_key() -> None:
    assert default_cache_key([1, [2, 3]]) == default_cache_key((1, (2, 3)))


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ({"a": 1}, {"a": 2}),
        ({"a": 1}, {"b": 1}),
        (1, "1"),
        (1, 1.0),
        (True, 1),
        (None, "None"),
        (b"x", "x"),
        (["ab", "c"], ["a", "bc"]),
        ({"a": "b"}, ["a", "b"]),
        (Point(1, 2), Pair(1, 2)),
        (Point(1, 2), Point(2, 1)),
        (Model(name="a", tags=[]), Model(name="a", tags=["x"])),
        (Plain(1), Plain(2)),
        (Color.RED, "red"),
        (datetime(2024, 1, 1), datetime(2024, 1, 2)),
    ],
)
def test_different_inputs_get_different_keys(left: Any, right: Any) -> None:
    assert default_cache_key(left) != default_cache_key(right)


def test_positional_and_keyword_arguments_are_kept_apart() -> None:
    assert default_cache_key({"a": 1}) != default_cache_key(a=1)


def test_equal_dataclasses_models_and_objects_share_a_key() -> None:
    assert default_cache_key(Point(1, 2)) == default_cache_key(Point(1, 2))
    assert default_cache_key(Model(name="a", tags=["t"])) == default_cache_key(
        Model(name="a", tags=["t"])
    )
    assert default_cache_key(Plain([1])) == default_cache_key(Plain([1]))


def test_self_referencing_values_are_encoded_without_recursion_error() -> None:
    looped: list[Any] = [1]
    looped.append(looped)

    assert default_cache_key(looped) == default_cache_key(looped)
    cyclic: dict[str, Any] = {"a": 1}
    cyclic["self"] = cyclic
    assert default_cache_key(cyclic) == default_cache_key(cyclic)


def test_cache_policy_uses_default_cache_key() -> None:
    assert CachePolicy().key_func({"b": 1, "a": 2}) == default_cache_key({"a": 2, "b": 1})


def test_the_key_is_the_same_in_another_process() -> None:
    value = "{'q': {'b', 'a', 'c'}, 'n': [1, 2.5, None, True], 'd': {'y': 1, 'x': 2}}"
    script = (
        f"from stategraph.cache import default_cache_key\nprint(default_cache_key({value}).hex())\n"
    )
    environment = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(REPO)}

    output = subprocess.run(
        [sys.executable, "-c", script], env=environment, capture_output=True, text=True, check=True
    ).stdout.strip()

    assert output == default_cache_key(eval(value)).hex()


def test_node_cache_key_names_the_namespace_and_hashes_the_key() -> None:
    namespace, key = node_cache_key("app.agent", "agent", b"\x01\x02")

    assert namespace == ("__pregel_ns_writes", "app.agent", "agent")
    assert key == xxhash.xxh3_128_hexdigest(b"\x01\x02")


def test_node_cache_key_accepts_strings_and_tasks_without_a_node_name() -> None:
    namespace, key = node_cache_key("app.fetch", None, "abc")

    assert namespace == ("__pregel_ns_writes", "app.fetch")
    assert key == xxhash.xxh3_128_hexdigest(b"abc")


def test_node_cache_namespace_is_the_namespace_node_cache_key_uses() -> None:
    namespace, _ = node_cache_key("app.agent", "agent", "k")

    assert node_cache_namespace("app.agent", "agent") == namespace


def module_level_node(state: Any) -> Any:
    return state


def test_cache_namespace_name_is_module_and_qualname_or_dynamic() -> None:
    class Callable_:
        def __call__(self, state: Any) -> Any:
            return state

    assert cache_namespace_name(module_level_node) == f"{__name__}.module_level_node"
    assert cache_namespace_name(Point.__init__) == f"{__name__}.Point.__init__"
    assert cache_namespace_name(Callable_()) == "__dynamic__"


def test_arrays_are_keyed_by_their_full_contents() -> None:
    numpy = pytest.importorskip("numpy")
    big = numpy.zeros(5000)
    changed = big.copy()
    changed[2500] = 1.0  # the repr of either array elides this element

    assert default_cache_key(big) == default_cache_key(numpy.zeros(5000))
    assert default_cache_key(big) != default_cache_key(changed)
    assert default_cache_key(big) != default_cache_key(numpy.zeros((50, 100)))


def test_functions_and_classes_are_keyed_by_name_in_every_process() -> None:
    script = (
        "from stategraph.cache import default_cache_key\n"
        "import json\n"
        "print(default_cache_key(json.dumps, json.JSONDecoder).hex())\n"
    )
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    output = subprocess.run(
        [sys.executable, "-c", script], env=environment, capture_output=True, text=True, check=True
    ).stdout.strip()

    import json

    assert output == default_cache_key(json.dumps, json.JSONDecoder).hex()
    assert default_cache_key(json.dumps) != default_cache_key(json.loads)
