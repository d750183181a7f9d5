"""``DeltaChannel``: LangGraph's batch-reducer channel, its start value, Overwrite and storage."""

from __future__ import annotations

import contextlib
from typing import Annotated, Any

import pytest
from typing_extensions import TypedDict

from collections.abc import MutableMapping, Sequence
from collections.abc import Set as AbstractSet

from langchain_core.messages import HumanMessage

from stategraph.channels import DeltaChannel
from stategraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from stategraph.checkpoint.serde.types import _DeltaSnapshot
from stategraph.channels.base import MISSING
from stategraph.checkpoint.memory import InMemorySaver
from stategraph.checkpoint.sqlite import SqliteSaver
from stategraph.errors import InvalidUpdateError
from stategraph.graph import START, StateGraph
from stategraph.types import Overwrite

SEEN: list[Any] = []


def extend(current: list, batches: list[list]) -> list:
    SEEN.append((list(current), [list(b) for b in batches]))
    return current + [item for batch in batches for item in batch]


def merge(current: dict, batches: list[dict]) -> dict:
    merged = dict(current)
    for batch in batches:
        merged.update(batch)
    return merged


class Items(TypedDict):
    items: Annotated[list, DeltaChannel(extend)]


class Facts(TypedDict):
    facts: Annotated[dict, DeltaChannel(merge)]


def two_writers() -> StateGraph:
    return (
        StateGraph(Items)
        .add_node("a", lambda s: {"items": ["a"]})
        .add_node("b", lambda s: {"items": ["b"]})
        .add_edge(START, "a")
        .add_edge(START, "b")
    )


def test_the_reducer_gets_an_empty_value_of_the_annotated_type_then_each_steps_batch() -> None:
    SEEN.clear()
    assert two_writers().compile().invoke({"items": ["in"]}) == {"items": ["in", "a", "b"]}
    assert SEEN == [([], [["in"]]), (["in"], [["a"], ["b"]])]
    graph = StateGraph(Facts).add_node("n", lambda s: {"facts": {"y": 2}}).add_edge(START, "n")
    assert graph.compile().invoke({"facts": {"x": 1}}) == {"facts": {"x": 1, "y": 2}}


def test_an_explicit_type_is_kept_and_exposed() -> None:
    channel = DeltaChannel(merge, dict)
    channel.with_field_type(list)
    assert channel.ValueType is dict and channel.UpdateType is dict
    assert channel.from_checkpoint(MISSING).get() == {}


def test_overwrite_replaces_the_value_and_two_in_one_step_are_refused() -> None:
    graph = (
        StateGraph(Items)
        .add_node("reset", lambda s: {"items": Overwrite(["fresh"])})
        .add_edge(START, "reset")
        .compile()
    )
    assert graph.invoke({"items": ["old"]}) == {"items": ["fresh"]}

    channel = DeltaChannel(extend).from_checkpoint(["x"])
    with pytest.raises(InvalidUpdateError, match="Can receive only one Overwrite value per super-step"):
        channel.update([Overwrite([1]), {"__overwrite__": [2]}])


def test_stored_values_read_back_in_each_form() -> None:
    channel = DeltaChannel(extend)
    assert channel.from_checkpoint(None).get() == []
    assert channel.from_checkpoint(["plain"]).get() == ["plain"]
    assert channel.from_checkpoint(_DeltaSnapshot(["snap"])).get() == ["snap"]
    copied = channel.from_checkpoint([1]).copy()
    copied.update([[2]])
    assert copied.get() == [1, 2] and channel.from_checkpoint([1]).get() == [1]


def test_a_snapshot_survives_every_saver_serializer(tmp_path: Any) -> None:
    serde = JsonPlusSerializer()
    snapshot = _DeltaSnapshot([HumanMessage("hi", id="m1"), ("a", 1)])
    restored = serde.loads_typed(serde.dumps_typed({"items": snapshot}))["items"]
    assert type(restored) is _DeltaSnapshot and restored == snapshot
    assert DeltaChannel(extend).from_checkpoint(restored).get() == snapshot.value
    # A snapshot stored as a channel value reads back as one.
    with SqliteSaver.from_conn_string(str(tmp_path / "s.db")) as saver:
        config = {"configurable": {"thread_id": "t", "checkpoint_ns": ""}}
        checkpoint = {
            "v": 4, "id": "1ef0", "ts": "", "channel_values": {"items": snapshot},
            "channel_versions": {"items": 1}, "versions_seen": {}, "updated_channels": None,
        }
        saver.put(config, checkpoint, {"source": "loop", "step": 0}, {"items": 1})
        stored = saver.get_tuple(config).checkpoint["channel_values"]["items"]
    assert type(stored) is _DeltaSnapshot and stored == snapshot


def test_abstract_value_types_are_reported_as_their_builtins() -> None:
    assert DeltaChannel(extend, Sequence).ValueType is list
    assert DeltaChannel(extend, MutableMapping).UpdateType is dict
    assert DeltaChannel(extend, AbstractSet).from_checkpoint(None).get() == set()

    class Tags(TypedDict):
        tags: Annotated[Sequence, DeltaChannel(extend)]

    graph = StateGraph(Tags).add_node("n", lambda s: {"tags": ["a"]}).add_edge(START, "n").compile()
    assert graph.channels["tags"].ValueType is list
    assert graph.invoke({"tags": ["x"]}) == {"tags": ["x", "a"]}


def test_snapshot_frequency_must_be_positive() -> None:
    with pytest.raises(ValueError, match="snapshot_frequency must be a positive int, got 0"):
        DeltaChannel(extend, snapshot_frequency=0)
    assert DeltaChannel(extend, snapshot_frequency=5) == DeltaChannel(extend, snapshot_frequency=5)
    assert DeltaChannel(extend, snapshot_frequency=5) != DeltaChannel(extend)


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_a_thread_accumulates_across_runs_and_forks(backend: str, tmp_path: Any) -> None:
    with contextlib.ExitStack() as stack:
        saver = InMemorySaver() if backend == "memory" else stack.enter_context(
            SqliteSaver.from_conn_string(str(tmp_path / "delta.db"))
        )
        check_runs_and_forks(saver)


def check_runs_and_forks(saver: Any) -> None:
    graph = two_writers().compile(checkpointer=saver)
    config = {"configurable": {"thread_id": "t"}}
    graph.invoke({"items": ["1"]}, config)
    graph.invoke({"items": ["2"]}, config)
    assert graph.get_state(config).values == {"items": ["1", "a", "b", "2", "a", "b"]}

    first_run_end = [s for s in graph.get_state_history(config) if s.values.get("items") == ["1", "a", "b"]]
    fork = graph.update_state(first_run_end[0].config, {"items": ["f"]})
    assert graph.get_state(fork).values == {"items": ["1", "a", "b", "f"]}


def test_delta_channel_history_walks_the_parent_chain() -> None:
    saver = InMemorySaver()
    graph = two_writers().compile(checkpointer=saver)
    config = {"configurable": {"thread_id": "t"}}
    graph.invoke({"items": ["in"]}, config)
    latest = saver.get_tuple(config)
    history = saver.get_delta_channel_history(config=latest.config, channels=["items", "absent"])
    # The parent stores ["in"]; the writes of the step after it lead to the latest value.
    assert history["items"]["seed"] == ["in"]
    assert [value for _, channel, value in history["items"]["writes"]] == [["a"], ["b"]]
    assert history["absent"] == {"writes": []}
    assert saver.get_delta_channel_history(config=latest.config, channels=[]) == {}


async def test_async_delta_channel_history_matches_the_sync_one() -> None:
    saver = InMemorySaver()
    graph = two_writers().compile(checkpointer=saver)
    config = {"configurable": {"thread_id": "t"}}
    await graph.ainvoke({"items": ["in"]}, config)
    latest = saver.get_tuple(config).config
    assert await saver.aget_delta_channel_history(config=latest, channels=["items"]) == (
        saver.get_delta_channel_history(config=latest, channels=["items"])
    )


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_messages_written_to_a_delta_channel_get_stable_ids(backend: str, tmp_path: Any) -> None:
    from langchain_core.messages import AIMessage, HumanMessage

    def append(state: list, writes: list) -> list:
        return [*state, *(item for write in writes for item in (write if isinstance(write, list) else [write]))]

    State = TypedDict("State", {"messages": Annotated[list, DeltaChannel(append)]})  # type: ignore[misc]
    with contextlib.ExitStack() as stack:
        saver = InMemorySaver() if backend == "memory" else stack.enter_context(
            SqliteSaver.from_conn_string(str(tmp_path / "ids.db"))
        )
        graph = (
            StateGraph(State)
            .add_node("agent", lambda state: {"messages": [AIMessage("reply", id="ai-1")]})
            .add_edge(START, "agent")
            .compile(checkpointer=saver)
        )
        config = {"configurable": {"thread_id": "t"}}
        graph.invoke({"messages": [HumanMessage("hello"), {"role": "user", "content": "hi"}]}, config)
        first = graph.get_state(config).values["messages"]
        again = graph.get_state(config).values["messages"]
    assert [type(m).__name__ for m in first] == ["HumanMessage", "HumanMessage", "AIMessage"]
    assert all(m.id for m in first) and [m.id for m in first] == [m.id for m in again]


def test_replay_writes_folds_earlier_writes_from_the_last_overwrite() -> None:
    from stategraph.types import Overwrite

    def extend(current: list, writes: list) -> list:
        return [*current, *(x for w in writes for x in w)]

    channel = DeltaChannel(extend, list).from_checkpoint(None)
    channel.replay_writes([("t1", "k", [1]), ("t2", "k", [2])])
    assert channel.get() == [1, 2]
    channel.replay_writes([("t3", "k", [3]), ("t4", "k", Overwrite([9])), ("t5", "k", [4])])
    assert channel.get() == [9, 4]
    channel.replay_writes([])
    assert channel.get() == [9, 4]
