"""The checkpointer contract (LangGraph's §6.2), run on every backend."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from stategraph.checkpoint.base import TaskWrites
from stategraph.errors import SerializationError

from .conftest import SaverDriver, make_checkpoint, thread_config


async def put_chain(
    saver: SaverDriver, count: int, thread_id: str = "thread-1", ns: str = ""
) -> list[dict[str, Any]]:
    """``count`` checkpoints, each the child of the previous; returns their configs."""
    config = thread_config(thread_id, ns)
    previous = None
    configs = []
    for step in range(count):
        checkpoint, new_versions = make_checkpoint(
            saver.saver, {"count": step, "items": list(range(step + 1))}, previous, step=step
        )
        config = await saver.put(config, checkpoint, {"source": "loop", "step": step}, new_versions)
        configs.append(config)
        previous = checkpoint
    return configs


# -- put / get_tuple -----------------------------------------------------------------------


async def test_get_tuple_of_an_unknown_thread_is_none(saver: SaverDriver) -> None:
    assert await saver.get_tuple(thread_config("nobody")) is None
    assert await saver.get(thread_config("nobody")) is None


async def test_put_returns_the_config_of_the_stored_checkpoint(saver: SaverDriver) -> None:
    checkpoint, new_versions = make_checkpoint(saver.saver, {"a": 1})
    config = await saver.put(
        thread_config(), checkpoint, {"source": "input", "step": -1}, new_versions
    )
    assert config == {
        "configurable": {
            "thread_id": "thread-1",
            "checkpoint_ns": "",
            "checkpoint_id": checkpoint["id"],
        }
    }


async def test_get_tuple_returns_the_latest_checkpoint_with_full_config(saver: SaverDriver) -> None:
    configs = await put_chain(saver, 3)
    found = await saver.get_tuple({"configurable": {"thread_id": "thread-1"}})
    assert found.config == configs[-1]
    assert found.checkpoint["channel_values"] == {"count": 2, "items": [0, 1, 2]}
    assert found.metadata == {"source": "loop", "step": 2}
    assert found.parent_config == configs[1]
    assert found.pending_writes == []


async def test_get_tuple_by_id_returns_that_checkpoint_and_the_config_given(
    saver: SaverDriver,
) -> None:
    configs = await put_chain(saver, 3)
    asked = {
        "configurable": {
            "thread_id": "thread-1",
            "checkpoint_id": configs[0]["configurable"]["checkpoint_id"],
        }
    }
    found = await saver.get_tuple(asked)
    assert found.config == asked
    assert found.checkpoint["channel_values"] == {"count": 0, "items": [0]}
    assert found.parent_config is None


async def test_get_tuple_of_an_unknown_checkpoint_id_is_none(saver: SaverDriver) -> None:
    await put_chain(saver, 1)
    assert await saver.get_tuple(thread_config(checkpoint_id="not-there")) is None


async def test_checkpoint_fields_round_trip(saver: SaverDriver) -> None:
    checkpoint, new_versions = make_checkpoint(saver.saver, {"a": (1, 2), "b": {"k": [1]}})
    await saver.put(thread_config(), checkpoint, {}, new_versions)
    stored = await saver.get(thread_config())
    assert stored == checkpoint
    assert type(stored["channel_values"]["a"]) is tuple


async def test_channels_not_in_new_versions_keep_their_stored_value(saver: SaverDriver) -> None:
    first, versions = make_checkpoint(saver.saver, {"a": "kept", "b": 1})
    config = await saver.put(thread_config(), first, {}, versions)
    second, versions = make_checkpoint(saver.saver, {"b": 2}, first)
    await saver.put(config, second, {}, versions)
    assert (await saver.get(thread_config()))["channel_values"] == {"a": "kept", "b": 2}


async def test_a_channel_absent_from_channel_values_is_stored_as_empty(saver: SaverDriver) -> None:
    first, versions = make_checkpoint(saver.saver, {"a": 1, "b": 1})
    config = await saver.put(thread_config(), first, {}, versions)
    second, versions = make_checkpoint(saver.saver, {"b": 2}, first)
    versions["a"] = second["channel_versions"]["a"] = saver.saver.get_next_version(
        first["channel_versions"]["a"], None
    )
    del second["channel_values"]["a"]
    await saver.put(config, second, {}, versions)
    assert (await saver.get(thread_config()))["channel_values"] == {"b": 2}


async def test_a_value_without_a_version_is_kept_with_its_checkpoint(saver: SaverDriver) -> None:
    # A hand-made checkpoint (no versions at all): LangGraph's SQLite saver keeps its values.
    checkpoint, _ = make_checkpoint(saver.saver, {})
    checkpoint["channel_values"] = {"seed": ["kept"], "n": 3}
    config = await saver.put(thread_config(), checkpoint, {}, {})
    second, versions = make_checkpoint(saver.saver, {"n": 4}, checkpoint, step=1)
    await saver.put(config, second, {}, versions)

    first, latest = (await saver.list(thread_config()))[::-1]
    assert first.checkpoint["channel_values"] == {"seed": ["kept"], "n": 3}
    assert latest.checkpoint["channel_values"]["seed"] == ["kept"]
    assert latest.checkpoint["channel_values"]["n"] == 4


async def test_returned_values_are_copies(saver: SaverDriver) -> None:
    checkpoint, versions = make_checkpoint(saver.saver, {"items": [1, 2], "map": {"k": 1}})
    await saver.put(thread_config(), checkpoint, {}, versions)
    checkpoint["channel_values"]["items"].append(3)  # the caller keeps using its objects
    first = await saver.get(thread_config())
    first["channel_values"]["items"].append(4)
    first["channel_values"]["map"]["k"] = 2
    again = await saver.get(thread_config())
    assert again["channel_values"] == {"items": [1, 2], "map": {"k": 1}}


async def test_namespaces_of_a_thread_are_separate(saver: SaverDriver) -> None:
    await put_chain(saver, 2, ns="")
    await put_chain(saver, 1, ns="child:1")
    root = await saver.get_tuple(thread_config(checkpoint_ns=""))
    child = await saver.get_tuple(thread_config(checkpoint_ns="child:1"))
    assert root.checkpoint["channel_values"]["count"] == 1
    assert child.checkpoint["channel_values"]["count"] == 0
    assert child.config["configurable"]["checkpoint_ns"] == "child:1"


async def test_metadata_merges_config_metadata_and_primitive_configurable_values(
    saver: SaverDriver,
) -> None:
    config = {
        "configurable": {
            "thread_id": "thread-1",
            "checkpoint_ns": "",
            "user_id": "u-1",
            "limit": 3,
            "__secret": "x",
            "langgraph_step": 4,
            "checkpoint_map": {},
            "client": object(),
            "step": 99,  # already in metadata: metadata wins
        },
        "metadata": {"run_name": "a\x00b", "tags": ["not", "primitive"]},
    }
    checkpoint, versions = make_checkpoint(saver.saver, {"a": 1})
    await saver.put(config, checkpoint, {"source": "loop", "step": 1, "note": "x\x00y"}, versions)
    metadata = (await saver.get_tuple(thread_config())).metadata
    assert metadata == {
        "source": "loop",
        "step": 1,
        "note": "xy",
        "run_name": "ab",
        "user_id": "u-1",
        "limit": 3,
    }


async def test_versions_grow_and_sort_as_strings(saver: SaverDriver) -> None:
    version = None
    seen = []
    for _ in range(12):
        version = saver.saver.get_next_version(version, None)
        seen.append(version)
    assert seen == sorted(seen)
    assert len(set(seen)) == len(seen)
    assert saver.saver.get_next_version(7, None).startswith(f"{8:032}.")


# -- list ----------------------------------------------------------------------------------


async def test_list_is_newest_first(saver: SaverDriver) -> None:
    configs = await put_chain(saver, 4)
    listed = await saver.list(thread_config())
    assert [item.config for item in listed] == configs[::-1]
    assert [item.checkpoint["channel_values"]["items"] for item in listed] == [
        [0, 1, 2, 3], [0, 1, 2], [0, 1], [0],
    ]  # fmt: skip


async def test_list_limit_before_and_checkpoint_id(saver: SaverDriver) -> None:
    configs = await put_chain(saver, 5)
    ids = [c["configurable"]["checkpoint_id"] for c in configs]
    assert [t.checkpoint["id"] for t in await saver.list(thread_config(), limit=2)] == [
        ids[4],
        ids[3],
    ]
    before = await saver.list(thread_config(), before=configs[2])
    assert [t.checkpoint["id"] for t in before] == [ids[1], ids[0]]
    assert [
        t.checkpoint["id"] for t in await saver.list(thread_config(), before=configs[2], limit=1)
    ] == [ids[1]]
    exact = await saver.list(thread_config(checkpoint_id=ids[3]))
    assert [t.checkpoint["id"] for t in exact] == [ids[3]]


async def test_list_filters_on_metadata_equality(saver: SaverDriver) -> None:
    config = thread_config()
    for step, source in enumerate(["input", "loop", "loop", "update"]):
        checkpoint, versions = make_checkpoint(saver.saver, {"a": step}, step=step)
        meta = {"source": source, "step": step, "flag": step % 2 == 0, "tags": ["x", step]}
        config = await saver.put(config, checkpoint, meta, versions)
    by_source = await saver.list(thread_config(), filter={"source": "loop"})
    assert [t.metadata["step"] for t in by_source] == [2, 1]
    assert [
        t.metadata["step"]
        for t in await saver.list(thread_config(), filter={"source": "loop", "step": 2})
    ] == [2]
    assert [
        t.metadata["step"] for t in await saver.list(thread_config(), filter={"flag": True})
    ] == [2, 0]
    assert [
        t.metadata["step"] for t in await saver.list(thread_config(), filter={"step": 1.0})
    ] == [1]
    assert [
        t.metadata["step"] for t in await saver.list(thread_config(), filter={"tags": ["x", 3]})
    ] == [3]
    assert await saver.list(thread_config(), filter={"step": True}) == []
    assert await saver.list(thread_config(), filter={"missing": None}) == []
    assert [
        t.metadata["step"]
        for t in await saver.list(thread_config(), filter={"source": "loop"}, limit=1)
    ] == [2]


async def test_list_without_namespace_spans_namespaces_and_none_spans_threads(
    saver: SaverDriver,
) -> None:
    await put_chain(saver, 2, thread_id="t1")
    await put_chain(saver, 1, thread_id="t1", ns="child:1")
    await put_chain(saver, 1, thread_id="t2")
    all_of_t1 = await saver.list({"configurable": {"thread_id": "t1"}})
    assert sorted(t.config["configurable"]["checkpoint_ns"] for t in all_of_t1) == [
        "",
        "",
        "child:1",
    ]
    only_root = await saver.list({"configurable": {"thread_id": "t1", "checkpoint_ns": ""}})
    assert len(only_root) == 2
    everything = await saver.list(None)
    assert len(everything) == 4
    ids = [t.checkpoint["id"] for t in everything]
    assert ids == sorted(ids, reverse=True)


# -- pending writes ------------------------------------------------------------------------


async def test_put_writes_are_returned_as_pending_writes(saver: SaverDriver) -> None:
    (config,) = await put_chain(saver, 1)
    await saver.put_writes(config, [("a", 1), ("b", (2, 3))], "task-1", "path")
    found = await saver.get_tuple(config)
    assert found.pending_writes == [("task-1", "a", 1), ("task-1", "b", (2, 3))]


async def test_normal_writes_are_insert_if_absent(saver: SaverDriver) -> None:
    (config,) = await put_chain(saver, 1)
    await saver.put_writes(config, [("a", "first")], "task-1")
    await saver.put_writes(config, [("a", "second"), ("b", "new")], "task-1")
    found = await saver.get_tuple(config)
    assert found.pending_writes == [("task-1", "a", "first"), ("task-1", "b", "new")]


async def test_special_channel_writes_replace_the_previous_one(saver: SaverDriver) -> None:
    (config,) = await put_chain(saver, 1)
    await saver.put_writes(config, [("__error__", "boom")], "task-1")
    await saver.put_writes(config, [("__error__", "boom again")], "task-1")
    await saver.put_writes(config, [("__resume__", [1])], "task-1")
    await saver.put_writes(config, [("__resume__", [1, 2])], "task-1")
    found = await saver.get_tuple(config)
    assert found.pending_writes == [
        ("task-1", "__resume__", [1, 2]),
        ("task-1", "__error__", "boom again"),
    ]


async def test_pending_writes_are_ordered_by_task_then_index(saver: SaverDriver) -> None:
    (config,) = await put_chain(saver, 1)
    await saver.put_writes(config, [("x", 1), ("y", 2)], "task-b")
    await saver.put_writes(config, [("x", 3), ("__interrupt__", "stop")], "task-a")
    found = await saver.get_tuple(config)
    assert found.pending_writes == [
        ("task-a", "__interrupt__", "stop"), ("task-a", "x", 3),
        ("task-b", "x", 1), ("task-b", "y", 2),
    ]  # fmt: skip


async def test_writes_belong_to_one_checkpoint_and_namespace(saver: SaverDriver) -> None:
    first, second = await put_chain(saver, 2)
    (child,) = await put_chain(saver, 1, ns="child:1")
    await saver.put_writes(first, [("a", 1)], "task-1")
    assert (await saver.get_tuple(first)).pending_writes == [("task-1", "a", 1)]
    assert (await saver.get_tuple(second)).pending_writes == []
    assert (await saver.get_tuple(child)).pending_writes == []


async def test_exceptions_are_stored_as_their_repr(saver: SaverDriver) -> None:
    (config,) = await put_chain(saver, 1)
    await saver.put_writes(config, [("__error__", ValueError("bad input"))], "task-1")
    assert (await saver.get_tuple(config)).pending_writes == [
        ("task-1", "__error__", "ValueError('bad input')")
    ]


async def test_put_step_stores_the_checkpoint_and_task_writes_together(saver: SaverDriver) -> None:
    (parent,) = await put_chain(saver, 1)
    previous = await saver.get(parent)
    checkpoint, versions = make_checkpoint(saver.saver, {"count": 5}, previous, step=1)
    new_config = await saver.put_step(
        parent,
        checkpoint,
        {"source": "loop", "step": 1},
        versions,
        [
            TaskWrites("task-1", [("count", 5)], "~path", parent["configurable"]["checkpoint_id"]),
            TaskWrites("task-2", [("__interrupt__", "ask")]),
        ],
    )
    assert (await saver.get_tuple(parent)).pending_writes == [("task-1", "count", 5)]
    latest = await saver.get_tuple(thread_config())
    assert latest.config == new_config
    assert latest.checkpoint["channel_values"]["count"] == 5
    assert latest.pending_writes == [("task-2", "__interrupt__", "ask")]


# -- failures at write time ------------------------------------------------------------------


@dataclass
class NotRegistered:
    value: int


async def test_an_unstorable_channel_value_fails_at_put_naming_channel_and_type(
    saver: SaverDriver,
) -> None:
    checkpoint, versions = make_checkpoint(saver.saver, {"ok": 1, "bad": [NotRegistered(1)]})
    with pytest.raises(SerializationError) as raised:
        await saver.put(thread_config(), checkpoint, {}, versions)
    message = str(raised.value)
    assert "'bad'" in message and "NotRegistered" in message and "register_types" in message
    assert isinstance(raised.value, TypeError)
    assert await saver.get_tuple(thread_config()) is None  # nothing half-stored


async def test_an_unstorable_write_fails_naming_channel_and_task(saver: SaverDriver) -> None:
    (config,) = await put_chain(saver, 1)
    with pytest.raises(SerializationError) as raised:
        await saver.put_writes(config, [("fine", 1), ("answer", object())], "task-7")
    message = str(raised.value)
    assert "'answer'" in message and "'task-7'" in message and "builtins.object" in message
    assert (await saver.get_tuple(config)).pending_writes == []


async def test_put_step_with_an_unstorable_write_stores_nothing(saver: SaverDriver) -> None:
    (parent,) = await put_chain(saver, 1)
    checkpoint, versions = make_checkpoint(saver.saver, {"count": 9}, step=1)
    with pytest.raises(SerializationError):
        await saver.put_step(parent, checkpoint, {}, versions, [TaskWrites("t", [("x", object())])])
    assert (await saver.get(thread_config()))["channel_values"]["count"] == 0


async def test_unserializable_metadata_fails_naming_the_key(saver: SaverDriver) -> None:
    checkpoint, versions = make_checkpoint(saver.saver, {"a": 1})
    with pytest.raises(SerializationError, match="when"):
        await saver.put(thread_config(), checkpoint, {"when": object()}, versions)


async def test_put_writes_without_checkpoint_id_is_refused(saver: SaverDriver) -> None:
    with pytest.raises(ValueError, match="checkpoint_id"):
        await saver.put_writes(thread_config(), [("a", 1)], "task-1")


# -- delete --------------------------------------------------------------------------------


async def test_delete_thread_removes_every_namespace_and_keeps_other_threads(
    saver: SaverDriver,
) -> None:
    (config,) = await put_chain(saver, 1, thread_id="t1")
    await put_chain(saver, 1, thread_id="t1", ns="child:1")
    await put_chain(saver, 2, thread_id="t2")
    await saver.put_writes(config, [("a", 1)], "task-1")
    await saver.delete_thread("t1")
    assert await saver.get_tuple(thread_config("t1")) is None
    assert await saver.get_tuple(thread_config("t1", "child:1")) is None
    assert await saver.list({"configurable": {"thread_id": "t1"}}) == []
    assert (await saver.get(thread_config("t2")))["channel_values"]["items"] == [0, 1]
    await put_chain(saver, 1, thread_id="t1")  # the thread id can be reused
    assert (await saver.get(thread_config("t1")))["channel_values"]["items"] == [0]


# -- allow-lists ---------------------------------------------------------------------------


async def test_with_allowlist_widens_a_copy_sharing_the_same_storage(saver: SaverDriver) -> None:
    widened = SaverDriver(saver.saver.with_allowlist([NotRegistered]), saver.use_async)
    checkpoint, versions = make_checkpoint(saver.saver, {"thing": NotRegistered(3)})
    await widened.put(thread_config(), checkpoint, {}, versions)
    assert (await widened.get(thread_config()))["channel_values"]["thing"] == NotRegistered(3)
    other, versions = make_checkpoint(saver.saver, {"thing": NotRegistered(4)})
    with pytest.raises(SerializationError):
        await saver.put(thread_config("other"), other, {}, versions)


async def test_list_includes_each_checkpoints_pending_writes(saver: SaverDriver) -> None:
    first, second = await put_chain(saver, 2)
    await saver.put_writes(first, [("a", 1)], "task-1")
    listed = await saver.list(thread_config())
    assert [t.pending_writes for t in listed] == [[], [("task-1", "a", 1)]]


async def test_a_config_without_namespace_means_the_root_namespace(saver: SaverDriver) -> None:
    checkpoint, versions = make_checkpoint(saver.saver, {"a": 1})
    config = await saver.put({"configurable": {"thread_id": "t"}}, checkpoint, {}, versions)
    assert config["configurable"]["checkpoint_ns"] == ""
    found = await saver.get_tuple({"configurable": {"thread_id": "t", "checkpoint_ns": ""}})
    assert found.checkpoint["id"] == checkpoint["id"]


# -- DeltaChannel history --------------------------------------------------------------------


async def test_delta_history_collects_writes_up_to_the_nearest_stored_value(
    saver: SaverDriver,
) -> None:
    configs = await put_chain(saver, 3)
    await saver.put_writes(configs[1], [("items", "late"), ("count", 9)], "task-1")
    history = await saver.get_delta_channel_history(configs[2], ["items", "absent"])
    assert history["items"] == {"writes": [("task-1", "items", "late")], "seed": [0, 1]}
    assert history["absent"] == {"writes": []}


async def test_delta_history_ends_when_a_put_closes_the_parent_chain_into_a_loop(
    saver: SaverDriver,
) -> None:
    first, first_versions = make_checkpoint(saver.saver, {"count": 0})
    first_config = await saver.put(thread_config(), first, {"step": 0}, first_versions)
    second, second_versions = make_checkpoint(saver.saver, {"count": 1}, first, step=1)
    second_config = await saver.put(first_config, second, {"step": 1}, second_versions)
    # Storing the first checkpoint again as the child of the second closes the loop.
    await saver.put(second_config, first, {"step": 0}, first_versions)
    await saver.put_writes(first_config, [("absent", "a")], "task-1")

    history = await saver.get_delta_channel_history(second_config, ["absent"])

    assert history == {"absent": {"writes": [("task-1", "absent", "a")]}}


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_a_serializers_own_error_reaches_the_caller_as_it_was_raised(backend: str) -> None:
    import sqlite3

    from stategraph.checkpoint.memory import InMemorySaver
    from stategraph.checkpoint.serde.jsonplus import JsonPlusSerializer
    from stategraph.checkpoint.sqlite import SqliteSaver

    class Refusing(JsonPlusSerializer):
        def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
            raise ValueError("this serializer refuses")

    if backend == "memory":
        saver: Any = InMemorySaver(serde=Refusing())
    else:
        saver = SqliteSaver(sqlite3.connect(":memory:", check_same_thread=False), serde=Refusing())
    checkpoint, versions = make_checkpoint(saver, {"a": 1})

    with pytest.raises(ValueError, match="this serializer refuses") as raised:
        saver.put(thread_config(), checkpoint, {}, versions)
    assert not isinstance(raised.value, SerializationError)
