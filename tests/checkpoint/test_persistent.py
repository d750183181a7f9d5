"""PersistentDict, and InMemorySaver tables kept in one (LangGraph's ``factory=`` hook)."""

from __future__ import annotations

import operator
import pickle
from pathlib import Path
from typing import Annotated

import pytest
from typing_extensions import TypedDict

from stategraph.checkpoint.memory import InMemorySaver, PersistentDict
from stategraph.constants import START
from stategraph.errors import DeserializationError
from stategraph.graph import StateGraph


class State(TypedDict):
    x: Annotated[list, operator.add]


def test_a_synced_dict_loads_back_with_nested_tuple_keys(tmp_path: Path) -> None:
    path = str(tmp_path / "table")
    table = PersistentDict(dict, filename=path)
    table["t"][("", "x", "1")] = ("row", b"\x00bytes")
    table.sync()

    loaded = PersistentDict(dict, filename=path)
    loaded.load()

    assert loaded == {"t": {("", "x", "1"): ("row", b"\x00bytes")}}
    assert loaded["missing"] == {}  # still a defaultdict


def test_close_saves_and_clears(tmp_path: Path) -> None:
    path = str(tmp_path / "table")
    with PersistentDict(dict, filename=path) as table:
        table["a"] = {"b": 1}
    assert table == {}
    reloaded = PersistentDict(dict, filename=path)
    reloaded.load()
    assert reloaded == {"a": {"b": 1}}


def test_read_only_flag_never_writes(tmp_path: Path) -> None:
    path = tmp_path / "table"
    table = PersistentDict(dict, filename=str(path), flag="r")
    table["a"] = {}
    table.sync()
    assert not path.exists()
    with pytest.raises(ValueError, match="flag must be"):
        PersistentDict(dict, filename=str(path), flag="w")


def test_a_pickled_file_is_refused_not_unpickled(tmp_path: Path) -> None:
    path = tmp_path / "table"
    path.write_bytes(b"pickle\n" + pickle.dumps({"a": 1}))
    table = PersistentDict(dict, filename=str(path))
    with pytest.raises((DeserializationError, ValueError)):
        table.load()
    assert table == {}


def test_saver_tables_in_persistent_dicts_survive_a_new_saver(tmp_path: Path) -> None:
    paths = {name: str(tmp_path / name) for name in ("storage", "blobs", "writes")}
    factories = iter(paths.values())
    saver = InMemorySaver(factory=lambda default: PersistentDict(default, filename=next(factories)))
    graph = StateGraph(State).add_node("a", lambda s: {"x": ["a"]}).add_edge(START, "a")
    config = {"configurable": {"thread_id": "1"}}
    with saver:
        graph.compile(checkpointer=saver).invoke({"x": []}, config)

    reopened = InMemorySaver()
    for name, path in paths.items():
        table = PersistentDict(dict, filename=path)
        table.load()
        getattr(reopened, name).update(table)

    assert graph.compile(checkpointer=reopened).get_state(config).values == {"x": ["a"]}
