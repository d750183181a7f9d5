"""The low-level API (``Pregel`` + ``NodeBuilder``), ``RunControl`` drains and ``DeltaChannel``."""

from __future__ import annotations

import asyncio
import operator
from typing import Annotated, Any, TypedDict

import pytest

from stategraph.channels import BinaryOperatorAggregate, DeltaChannel, EphemeralValue, LastValue, Topic
from stategraph.checkpoint.memory import InMemorySaver
from stategraph.errors import GraphDrained
from stategraph.func import entrypoint, task
from stategraph.graph import START, StateGraph
from stategraph.pregel import ChannelWriteEntry, NodeBuilder, Pregel
from stategraph.runtime import RunControl


def test_node_subscribed_to_a_channel_doubles_it_into_another() -> None:
    node = NodeBuilder().subscribe_only("a").do(lambda x: x + x).write_to("b")
    graph = Pregel(
        nodes={"double": node},
        channels={"a": EphemeralValue(str), "b": EphemeralValue(str)},
        input_channels=["a"],
        output_channels=["b"],
    )
    assert graph.invoke({"a": "foo"}) == {"b": "foofoo"}


def test_a_node_writing_what_it_reads_loops_until_it_writes_nothing() -> None:
    node = (
        NodeBuilder()
        .subscribe_only("v")
        .do(lambda x: x + 1 if x < 3 else None)
        .write_to(ChannelWriteEntry("v", skip_none=True))
    )
    graph = Pregel(nodes={"inc": node}, channels={"v": LastValue(int)}, input_channels="v", output_channels="v")
    assert graph.invoke(0) == 3
    # Without stream_channels, "values" shows every channel that holds a value, as in LangGraph.
    assert list(graph.stream(0)) == [{"v": 1}, {"v": 2}, {"v": 3}]


def test_subscribe_to_reads_a_dict_and_write_to_takes_values_and_mappers() -> None:
    node = (
        NodeBuilder()
        .subscribe_to("a")
        .read_from("b")
        .do(lambda d: d["a"] + d.get("b", 0))
        .write_to("total", note="fixed", doubled=lambda total: total * 2)
    )
    graph = Pregel(
        nodes={"sum": node},
        channels={
            "a": EphemeralValue(int),
            "b": LastValue(int),
            "total": LastValue(int),
            "note": LastValue(str),
            "doubled": LastValue(int),
        },
        input_channels=["a", "b"],
        output_channels=["total", "note", "doubled"],
    )
    assert graph.invoke({"a": 2, "b": 5}) == {"total": 7, "note": "fixed", "doubled": 14}


def test_topic_collects_writes_of_parallel_nodes() -> None:
    one = NodeBuilder().subscribe_only("start").do(lambda x: f"one:{x}").write_to("log")
    two = NodeBuilder().subscribe_only("start").do(lambda x: f"two:{x}").write_to("log")
    graph = Pregel(
        nodes={"one": one, "two": two},
        channels={"start": EphemeralValue(str), "log": Topic(str, accumulate=True)},
        input_channels="start",
        output_channels="log",
    )
    assert graph.invoke("go") == ["one:go", "two:go"]


def test_a_node_must_subscribe_to_something() -> None:
    with pytest.raises(ValueError, match="must subscribe to at least one channel"):
        NodeBuilder().do(lambda x: x).build()


class S(TypedDict):
    x: Annotated[list, operator.add]


def test_drain_stops_between_steps_and_the_thread_resumes() -> None:
    control = RunControl()

    def first(state: S) -> dict[str, list[str]]:
        control.request_drain("deploy")
        return {"x": ["first"]}

    graph = (
        StateGraph(S)
        .add_node("first", first)
        .add_node("second", lambda s: {"x": ["second"]})
        .add_edge(START, "first")
        .add_edge("first", "second")
        .compile(checkpointer=InMemorySaver())
    )
    config = {"configurable": {"thread_id": "drain"}}
    with pytest.raises(GraphDrained) as drained:
        graph.invoke({"x": []}, config, control=control)
    assert drained.value.reason == "deploy"
    assert graph.get_state(config).next == ("second",)
    assert graph.invoke(None, config) == {"x": ["first", "second"]}


DELTA_CALLS: list[list[Any]] = []


def batch_append(current: Any, writes: list[Any]) -> list[str]:
    DELTA_CALLS.append(writes)
    return (current or []) + [item for write in writes for item in write]


class D(TypedDict):
    x: Annotated[list, DeltaChannel(batch_append)]


def test_delta_channel_folds_a_steps_writes_in_one_call() -> None:
    DELTA_CALLS.clear()
    graph = (
        StateGraph(D)
        .add_node("a", lambda s: {"x": ["a"]})
        .add_node("b", lambda s: {"x": ["b"]})
        .add_edge(START, "a")
        .add_edge(START, "b")
        .compile()
    )
    assert graph.invoke({"x": ["in"]}) == {"x": ["in", "a", "b"]}
    assert DELTA_CALLS == [[["in"]], [["a"], ["b"]]]


def test_task_and_entrypoint_timeouts_need_async_functions() -> None:
    with pytest.raises(ValueError, match="Node timeouts are only supported for async nodes because sync Python execution"):
        task(timeout=1)(lambda x: x)
    with pytest.raises(ValueError, match="Node timeouts are only supported for async nodes because sync Python execution"):
        entrypoint(timeout=1)(lambda x: x)
    with pytest.raises(TypeError, match="unexpected keyword arguments"):
        task(nonsense=1)


def test_async_task_over_its_timeout_raises() -> None:
    from stategraph.errors import NodeTimeoutError

    @task(timeout=0.02)
    async def slow(x: int) -> int:
        await asyncio.sleep(1)
        return x

    @entrypoint()
    async def workflow(x: int) -> int:
        return await slow(x)

    with pytest.raises(NodeTimeoutError, match="slow"):
        asyncio.run(workflow.ainvoke(1))


def test_low_level_schemas_come_from_the_input_and_output_channels() -> None:
    double = NodeBuilder().subscribe_only("input").do(lambda x: x * 2).write_to("output", "extra")
    app = Pregel(
        nodes={"double": double},
        channels={"input": LastValue(int), "output": LastValue(int), "extra": LastValue(str)},
        input_channels="input",
        output_channels=["output", "extra"],
    )
    assert app.input_schema.model_json_schema() == {"title": "LangGraphInput", "type": "integer"}
    assert app.get_output_jsonschema() == {
        "title": "LangGraphOutput",
        "type": "object",
        "properties": {
            "output": {"title": "Output", "type": "integer", "default": None},
            "extra": {"title": "Extra", "type": "string", "default": None},
        },
    }
    assert app.output_schema.model_validate({"output": 4}).output == 4
    assert app.get_context_jsonschema() is None


def test_a_dataclass_context_schema_keeps_its_own_title() -> None:
    from dataclasses import dataclass, field

    @dataclass
    class Settings:
        model: str
        retries: int = field(default=2)

    app = Pregel(
        nodes={"one": NodeBuilder().subscribe_only("input").write_to("output")},
        channels={"input": LastValue(int), "output": LastValue(int)},
        input_channels="input",
        output_channels="output",
        context_schema=Settings,
    )
    schema = app.get_context_jsonschema()
    assert schema is not None and schema["title"] == "Settings"
    assert schema["required"] == ["model"]


def test_a_callable_with_invoke_attributes_is_called_as_a_function() -> None:
    """A mock (or any callable that is not a Runnable) is a plain function, as in LangGraph."""
    from unittest import mock

    add_one = mock.Mock(side_effect=lambda x: x + 1)
    app = Pregel(
        nodes={"one": NodeBuilder().subscribe_only("input").do(add_one).write_to("output")},
        channels={"input": LastValue(int), "output": LastValue(int)},
        input_channels="input",
        output_channels="output",
    )
    assert app.invoke(2) == 3
    add_one.assert_called_once_with(2)


def test_get_state_of_a_low_level_graph_shows_every_channel() -> None:
    total = NodeBuilder().subscribe_to("input").read_from("total").do(lambda x: x["total"] + x["input"])
    app = Pregel(
        nodes={"one": total.write_to("output", "total")},
        channels={
            "total": BinaryOperatorAggregate(int, operator.add),
            "input": LastValue(int),
            "output": LastValue(int),
        },
        input_channels="input",
        output_channels="output",
        checkpointer=InMemorySaver(),
    )
    config = {"configurable": {"thread_id": "1"}}
    assert app.invoke(2, config) == 2
    assert app.get_state(config).values == {"total": 2, "input": 2, "output": 2}


def test_invoke_outputs_none_when_the_run_never_wrote_its_output_channel() -> None:
    """As LangGraph: invoke returns the last "values" chunk of the output channels, so a run
    stopped at a breakpoint before writing them outputs None, not the previous run's value."""
    one = NodeBuilder().subscribe_only("input").do(lambda x: x + 1).write_to("inbox")
    two = NodeBuilder().subscribe_only("inbox").do(lambda x: x + 1).write_to("output")
    app = Pregel(
        nodes={"one": one, "two": two},
        channels={"inbox": LastValue(int), "output": LastValue(int), "input": LastValue(int)},
        input_channels="input",
        output_channels="output",
        checkpointer=InMemorySaver(),
        interrupt_after_nodes=["one"],
    )
    config = {"configurable": {"thread_id": "1"}}
    assert app.invoke(2, config) is None
    assert app.invoke(None, config) == 4
    assert app.invoke(20, config) is None  # "output" still holds 4, unwritten by this run
    assert app.get_state(config).values["output"] == 4
    assert app.invoke(None, config) == 22  # a resumed run shows its state from the start
