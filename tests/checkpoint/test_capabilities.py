"""A saver subclass that overrides put/put_writes sees every checkpoint whole, as in LangGraph."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

import pytest

from stategraph.checkpoint._capabilities import saver_capabilities
from stategraph.checkpoint.memory import InMemorySaver
from stategraph.checkpoint.sqlite import SqliteSaver
from stategraph.graph import START, StateGraph


class State(TypedDict):
    label: str
    items: Annotated[list, operator.add]


class RecordingSaver(InMemorySaver):
    """Records what the engine hands to put and put_writes."""

    def __init__(self) -> None:
        super().__init__()
        self.checkpoints: list[dict[str, Any]] = []
        self.task_writes: list[list[tuple[str, Any]]] = []

    def put(self, config: Any, checkpoint: Any, metadata: Any, new_versions: Any) -> Any:
        self.checkpoints.append(dict(checkpoint["channel_values"]))
        return super().put(config, checkpoint, metadata, new_versions)

    def put_writes(self, config: Any, writes: Any, task_id: str, task_path: str = "") -> None:
        self.task_writes.append(list(writes))
        super().put_writes(config, writes, task_id, task_path)


def two_step_graph(saver: Any) -> Any:
    builder = StateGraph(State)
    builder.add_node("append", lambda state: {"items": [1]})
    builder.add_node("relabel", lambda state: {"label": "done"})
    builder.add_edge(START, "append")
    builder.add_edge("append", "relabel")
    return builder.compile(checkpointer=saver)


@pytest.mark.parametrize("use_async", [False, True])
async def test_overridden_put_sees_every_checkpoint_with_full_values(use_async: bool) -> None:
    saver = RecordingSaver()
    graph = two_step_graph(saver)
    config = {"configurable": {"thread_id": "t"}}
    if use_async:
        await graph.ainvoke({"label": "start", "items": []}, config)
    else:
        graph.invoke({"label": "start", "items": []}, config)

    # input, after the input step, after append, after relabel
    assert len(saver.checkpoints) == 4
    # the unchanged "label" is present in the checkpoint written after "append" ran
    assert saver.checkpoints[2]["label"] == "start"
    assert saver.checkpoints[2]["items"] == [1]
    assert saver.checkpoints[3]["label"] == "done"
    # the input's writes, then each node's
    assert [w for writes in saver.task_writes for w in writes if w[0] == "items"] == [
        ("items", []),
        ("items", [1]),
    ]
    assert graph.get_state(config).values == {"label": "done", "items": [1]}


def test_shipped_savers_keep_their_step_commit(tmp_path: Any) -> None:
    assert saver_capabilities(InMemorySaver()).commits_steps
    assert saver_capabilities(InMemorySaver()).reads_only_new_values
    with SqliteSaver.from_conn_string(str(tmp_path / "c.db")) as saver:
        assert saver_capabilities(saver).commits_steps


def test_a_subclass_overriding_put_loses_the_shortcuts() -> None:
    capabilities = saver_capabilities(RecordingSaver())
    assert not capabilities.commits_steps
    assert not capabilities.reads_only_new_values


def test_a_subclass_that_redeclares_the_shortcuts_keeps_them() -> None:
    class Declared(RecordingSaver):
        reads_only_new_values = True

        def put_step(self, *args: Any, **kwargs: Any) -> Any:
            return super().put_step(*args, **kwargs)

        async def aput_step(self, *args: Any, **kwargs: Any) -> Any:
            return await super().aput_step(*args, **kwargs)

    capabilities = saver_capabilities(Declared())
    assert capabilities.commits_steps
    assert capabilities.reads_only_new_values


def test_batches_are_used_only_when_put_batch_covers_every_overridden_method() -> None:
    pytest.importorskip("psycopg")  # the PostgreSQL savers need it
    from stategraph.checkpoint.postgres import PostgresSaver
    from stategraph.checkpoint.postgres.shallow import ShallowPostgresSaver

    class Recording(PostgresSaver):
        def put(self, config: Any, checkpoint: Any, metadata: Any, new_versions: Any) -> Any:
            return super().put(config, checkpoint, metadata, new_versions)

    assert saver_capabilities(PostgresSaver.__new__(PostgresSaver)).commits_batches
    assert saver_capabilities(ShallowPostgresSaver.__new__(ShallowPostgresSaver)).commits_batches
    # A wrapper around put must see each put: neither steps nor batches bypass it.
    recording = saver_capabilities(Recording.__new__(Recording))
    assert not recording.commits_batches and not recording.commits_steps
    assert not saver_capabilities(InMemorySaver()).commits_batches


class ThreeArgumentWritesSaver(InMemorySaver):
    """A saver written for LangGraph releases whose put_writes took no task_path."""

    def __init__(self) -> None:
        super().__init__()
        self.task_ids: list[str] = []

    def put_writes(self, config: Any, writes: Any, task_id: str) -> None:  # type: ignore[override]
        self.task_ids.append(task_id)
        super().put_writes(config, writes, task_id)

    async def aput_writes(self, config: Any, writes: Any, task_id: str) -> None:  # type: ignore[override]
        self.put_writes(config, writes, task_id)


def test_put_writes_without_task_path_is_called_with_three_arguments() -> None:
    import asyncio

    from stategraph.types import interrupt

    saver = ThreeArgumentWritesSaver()
    capabilities = saver_capabilities(saver)
    assert not capabilities.writes_take_task_path and not capabilities.awrites_take_task_path
    builder = StateGraph(State)
    builder.add_node("ask", lambda state: {"label": interrupt("label?")})
    graph = builder.add_edge(START, "ask").compile(checkpointer=saver)
    graph.invoke({"items": []}, {"configurable": {"thread_id": "sync"}})
    asyncio.run(graph.ainvoke({"items": []}, {"configurable": {"thread_id": "async"}}))
    assert len(saver.task_ids) >= 2
    assert graph.get_state({"configurable": {"thread_id": "async"}}).interrupts[0].value == "label?"


def test_in_memory_saver_derives_from_the_base_saver_first() -> None:
    """Savers written for LangGraph reach the base implementation as ``InMemorySaver.__mro__[1]``."""
    from stategraph.checkpoint.base import BaseCheckpointSaver
    from stategraph.checkpoint.memory import InMemorySaver

    assert InMemorySaver.__mro__[1] is BaseCheckpointSaver
    assert InMemorySaver.__mro__[1].get_delta_channel_history is BaseCheckpointSaver.get_delta_channel_history
