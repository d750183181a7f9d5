"""Stream shapes (api_spec.md §5.4–5.5, §4.7; transcript A.7).

The exact chunk shapes of each mode, several modes at once, subgraph namespaces and v2 parts;
``Command.PARENT`` from a subgraph node. Timestamps and task ids are checked for shape only.
"""

import asyncio
import operator
import re
import threading
from typing import Annotated, Any, Callable, TypedDict

import pytest

from stategraph.config import get_stream_writer
from stategraph.constants import END, START
from stategraph.errors import InvalidUpdateError
from stategraph.graph import StateGraph
from stategraph.types import Command, Send

WAIT_SECONDS = 5.0  # upper bound for event waits; never reached when the engine is right
TASK_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ISO_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")


class State(TypedDict):
    x: Annotated[list, operator.add]


def append(name: str) -> Callable[[Any], dict[str, Any]]:
    def node(state: Any) -> dict[str, Any]:
        return {"x": [name]}

    node.__name__ = name
    return node


Streamer = Callable[..., list[Any]]


def one_node() -> Any:
    return StateGraph(State).add_node("a", append("a")).add_edge(START, "a").compile()


def chain() -> Any:
    return (
        StateGraph(State)
        .add_node("a", append("a"))
        .add_node("b", append("b"))
        .add_edge(START, "a")
        .add_edge("a", "b")
        .compile()
    )


def strip_ns_ids(namespace: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(part.split(":")[0] for part in namespace)


# ---------------------------------------------------------------------------- values


def test_values_echoes_the_input_then_the_state_after_each_step(stream: Streamer) -> None:
    assert stream(one_node(), {"x": []}, stream_mode="values") == [{"x": []}, {"x": ["a"]}]


def test_values_skips_a_step_that_changed_no_state(stream: Streamer) -> None:
    graph = (
        StateGraph(State)
        .add_node("quiet", lambda s: None)
        .add_node("b", append("b"))
        .add_edge(START, "quiet")
        .add_edge("quiet", "b")
        .compile()
    )
    assert stream(graph, {"x": ["in"]}, stream_mode="values") == [{"x": ["in"]}, {"x": ["in", "b"]}]


def test_values_respects_output_keys(stream: Streamer) -> None:
    class S(TypedDict):
        x: Annotated[list, operator.add]
        y: str

    graph = StateGraph(S).add_node("a", lambda s: {"x": ["a"], "y": "why"}).add_edge(START, "a").compile()
    assert stream(graph, {"x": []}, stream_mode="values", output_keys=["y"]) == [{"y": "why"}]


# ---------------------------------------------------------------------------- updates


def test_updates_yield_one_chunk_per_task_named_by_node(stream: Streamer) -> None:
    assert stream(chain(), {"x": []}, stream_mode="updates") == [
        {"a": {"x": ["a"]}},
        {"b": {"x": ["b"]}},
    ]


def test_compiled_state_graph_streams_updates_by_default(stream: Streamer) -> None:
    assert stream(chain(), {"x": []}) == [{"a": {"x": ["a"]}}, {"b": {"x": ["b"]}}]


def test_updates_of_a_task_that_wrote_nothing_is_none(stream: Streamer) -> None:
    graph = StateGraph(State).add_node("quiet", lambda s: None).add_edge(START, "quiet").compile()
    assert stream(graph, {"x": []}, stream_mode="updates") == [{"quiet": None}]


def test_updates_of_a_root_graph_are_the_raw_value(stream: Streamer) -> None:
    graph = StateGraph(int).add_node("inc", lambda n: n + 1).add_edge(START, "inc").compile()
    assert stream(graph, 1, stream_mode="updates") == [{"inc": 2}]


def test_updates_list_single_key_dicts_when_a_task_writes_a_key_twice(stream: Streamer) -> None:
    graph = (
        StateGraph(State)
        .add_node("twice", lambda s: Command(update=[("x", ["1"]), ("x", ["2"])]))
        .add_edge(START, "twice")
        .compile()
    )
    assert stream(graph, {"x": []}, stream_mode="updates") == [{"twice": [{"x": ["1"]}, {"x": ["2"]}]}]


def test_updates_hide_keys_that_are_not_state_channels(stream: Streamer) -> None:
    graph = StateGraph(State).add_node("a", lambda s: {"x": ["a"], "junk": 1}).add_edge(START, "a").compile()
    assert stream(graph, {"x": []}, stream_mode="updates") == [{"a": {"x": ["a"]}}]


def test_updates_include_writes_of_send_tasks(stream: Streamer) -> None:
    graph = (
        StateGraph(State)
        .add_node("w", lambda packet: {"x": [packet["i"]]})
        .add_conditional_edges(START, lambda s: [Send("w", {"i": 7})])
        .compile()
    )
    assert stream(graph, {"x": []}, stream_mode="updates") == [{"w": {"x": [7]}}]


def test_updates_of_a_failed_task_are_not_streamed() -> None:
    def boom(state: State) -> None:
        raise KeyError("boom")

    graph = (
        StateGraph(State)
        .add_node("a", append("a"))
        .add_node("boom", boom)
        .add_edge(START, "a")
        .add_edge("a", "boom")
        .compile()
    )
    chunks: list[Any] = []
    with pytest.raises(KeyError):
        for chunk in graph.stream({"x": []}, stream_mode="updates"):
            chunks.append(chunk)
    assert chunks == [{"a": {"x": ["a"]}}]


def two_way_graph(a: Any) -> Any:
    return (
        StateGraph(State)
        .add_node("a", a)
        .add_node("b", append("b"))
        .add_edge(START, "a")
        .add_edge(START, "b")
        .compile()
    )


def test_updates_arrive_as_each_task_completes_in_completion_order() -> None:
    # a finishes only after the caller has received b's update: a stream that waited for the
    # end of the step could never deliver it.
    b_received = threading.Event()

    def a(state: State) -> dict[str, Any]:
        assert b_received.wait(WAIT_SECONDS), "b's update was not streamed while a ran"
        return {"x": ["a"]}

    chunks: list[Any] = []
    for chunk in two_way_graph(a).stream({"x": []}, stream_mode="updates"):
        chunks.append(chunk)
        if "b" in chunk:
            b_received.set()
    assert chunks == [{"b": {"x": ["b"]}}, {"a": {"x": ["a"]}}]


async def test_async_updates_arrive_as_each_task_completes_in_completion_order() -> None:
    b_received = asyncio.Event()

    async def a(state: State) -> dict[str, Any]:
        await asyncio.wait_for(b_received.wait(), WAIT_SECONDS)
        return {"x": ["a"]}

    chunks: list[Any] = []
    async for chunk in two_way_graph(a).astream({"x": []}, stream_mode="updates"):
        chunks.append(chunk)
        if "b" in chunk:
            b_received.set()
    assert chunks == [{"b": {"x": ["b"]}}, {"a": {"x": ["a"]}}]


# ---------------------------------------------------------------------------- custom


def test_custom_yields_what_nodes_write(stream: Streamer) -> None:
    def node(state: State) -> dict[str, Any]:
        writer = get_stream_writer()
        writer("one")
        writer({"two": 2})
        return {}

    graph = StateGraph(State).add_node("n", node).add_edge(START, "n").compile()
    assert stream(graph, {"x": []}, stream_mode="custom") == ["one", {"two": 2}]


# ---------------------------------------------------------------------------- several modes


def test_a_list_of_modes_yields_mode_payload_pairs(stream: Streamer) -> None:
    assert stream(chain(), {"x": []}, stream_mode=["updates", "values"]) == [
        ("values", {"x": []}),
        ("updates", {"a": {"x": ["a"]}}),
        ("values", {"x": ["a"]}),
        ("updates", {"b": {"x": ["b"]}}),
        ("values", {"x": ["a", "b"]}),
    ]


def test_a_list_of_one_mode_still_yields_pairs(stream: Streamer) -> None:
    assert stream(one_node(), {"x": []}, stream_mode=["values"]) == [
        ("values", {"x": []}),
        ("values", {"x": ["a"]}),
    ]


def test_invoke_with_another_stream_mode_returns_all_chunks() -> None:
    assert chain().invoke({"x": []}, stream_mode="updates") == [
        {"a": {"x": ["a"]}},
        {"b": {"x": ["b"]}},
    ]


# ---------------------------------------------------------------------------- tasks


def test_tasks_stream_start_and_result_payloads(stream: Streamer) -> None:
    chunks = stream(one_node(), {"x": ["in"]}, stream_mode="tasks")
    assert len(chunks) == 2
    start, result = chunks
    assert set(start) == {"id", "name", "input", "triggers"}
    assert TASK_ID.match(start["id"])
    assert start["name"] == "a"
    assert start["input"] == {"x": ["in"]}
    assert tuple(start["triggers"]) == ("branch:to:a",)
    assert result == {
        "id": start["id"],
        "name": "a",
        "error": None,
        "result": {"x": ["a"]},
        "interrupts": [],
    }


def test_tasks_stream_start_carries_node_metadata(stream: Streamer) -> None:
    graph = (
        StateGraph(State)
        .add_node("a", append("a"), metadata={"owner": "team"})
        .add_edge(START, "a")
        .compile()
    )
    start = stream(graph, {"x": []}, stream_mode="tasks")[0]
    assert start["metadata"] == {"owner": "team"}


def test_tasks_result_folds_repeated_writes(stream: Streamer) -> None:
    graph = (
        StateGraph(State)
        .add_node("twice", lambda s: Command(update=[("x", ["1"]), ("x", ["2"])]))
        .add_edge(START, "twice")
        .compile()
    )
    result = stream(graph, {"x": []}, stream_mode="tasks")[1]
    assert result["result"] == {"x": {"$writes": [["1"], ["2"]]}}


def test_tasks_stream_hides_the_start_node_and_follows_the_steps(stream: Streamer) -> None:
    chunks = stream(chain(), {"x": []}, stream_mode="tasks")
    kinds = [(c["name"], "result" in c) for c in chunks]
    assert kinds == [("a", False), ("a", True), ("b", False), ("b", True)]


def test_tasks_stream_announces_every_task_of_a_step_before_any_result(stream: Streamer) -> None:
    graph = (
        StateGraph(State)
        .add_node("a", append("a"))
        .add_node("b", append("b"))
        .add_edge(START, "a")
        .add_edge(START, "b")
        .compile()
    )
    chunks = stream(graph, {"x": []}, stream_mode="tasks")
    assert sorted(c["name"] for c in chunks[:2]) == ["a", "b"]
    assert all("triggers" in c for c in chunks[:2])
    assert sorted(c["name"] for c in chunks[2:]) == ["a", "b"]
    assert all("result" in c for c in chunks[2:])


# ---------------------------------------------------------------------------- debug


def test_debug_wraps_task_events_with_step_type_and_timestamp(stream: Streamer) -> None:
    chunks = stream(chain(), {"x": []}, stream_mode="debug")
    assert [(c["type"], c["step"], c["payload"]["name"]) for c in chunks] == [
        ("task", 1, "a"),
        ("task_result", 1, "a"),
        ("task", 2, "b"),
        ("task_result", 2, "b"),
    ]
    for chunk in chunks:
        assert set(chunk) == {"step", "timestamp", "type", "payload"}
        assert ISO_TIMESTAMP.match(chunk["timestamp"])
    assert chunks[1]["payload"]["result"] == {"x": ["a"]}
    assert chunks[0]["payload"]["id"] == chunks[1]["payload"]["id"]


# ---------------------------------------------------------------------------- v2


def test_v2_parts_are_typed_dicts_with_namespace(stream: Streamer) -> None:
    chunks = stream(one_node(), {"x": []}, stream_mode=["values", "updates"], version="v2")
    assert chunks == [
        {"type": "values", "ns": (), "data": {"x": []}, "interrupts": ()},
        {"type": "updates", "ns": (), "data": {"a": {"x": ["a"]}}},
        {"type": "values", "ns": (), "data": {"x": ["a"]}, "interrupts": ()},
    ]


def test_v2_with_a_single_mode_is_still_a_part(stream: Streamer) -> None:
    assert stream(one_node(), {"x": []}, stream_mode="updates", version="v2") == [
        {"type": "updates", "ns": (), "data": {"a": {"x": ["a"]}}}
    ]


def test_invoke_v2_returns_graph_output() -> None:
    output = one_node().invoke({"x": []}, version="v2")
    assert output.value == {"x": ["a"]}
    assert output.interrupts == ()


# ---------------------------------------------------------------------------- subgraphs


def sub_a(state: State) -> dict[str, Any]:
    get_stream_writer()({"custom": "from sub"})
    return {"x": ["sub_a"]}


def child_graph() -> Any:
    return StateGraph(State).add_node("sub_a", sub_a).add_edge(START, "sub_a").compile()


def parent_graph() -> Any:
    return (
        StateGraph(State)
        .add_node("pre", append("pre"))
        .add_node("child", child_graph())
        .add_edge(START, "pre")
        .add_edge("pre", "child")
        .compile()
    )


def test_subgraph_streaming_transcript_a7(stream: Streamer) -> None:
    chunks = stream(parent_graph(), {"x": []}, stream_mode=["updates", "custom", "values"], subgraphs=True)
    child_ns = chunks[3][0]
    assert len(child_ns) == 1
    assert child_ns[0].startswith("child:")
    assert TASK_ID.match(child_ns[0].split(":", 1)[1])
    assert chunks == [
        ((), "values", {"x": []}),
        ((), "updates", {"pre": {"x": ["pre"]}}),
        ((), "values", {"x": ["pre"]}),
        (child_ns, "values", {"x": ["pre"]}),
        (child_ns, "custom", {"custom": "from sub"}),
        (child_ns, "updates", {"sub_a": {"x": ["sub_a"]}}),
        (child_ns, "values", {"x": ["pre", "sub_a"]}),
        ((), "updates", {"child": {"x": ["pre", "sub_a"]}}),
        ((), "values", {"x": ["pre", "pre", "sub_a"]}),
    ]


def test_subgraphs_with_a_single_mode_yield_namespace_payload_pairs(stream: Streamer) -> None:
    chunks = stream(parent_graph(), {"x": []}, stream_mode="updates", subgraphs=True)
    assert [(strip_ns_ids(ns), payload) for ns, payload in chunks] == [
        ((), {"pre": {"x": ["pre"]}}),
        (("child",), {"sub_a": {"x": ["sub_a"]}}),
        ((), {"child": {"x": ["pre", "sub_a"]}}),
    ]


def test_subgraph_events_are_dropped_without_subgraphs_true(stream: Streamer) -> None:
    assert stream(parent_graph(), {"x": []}, stream_mode=["updates", "custom"]) == [
        ("updates", {"pre": {"x": ["pre"]}}),
        ("updates", {"child": {"x": ["pre", "sub_a"]}}),
    ]


def test_v2_parts_of_a_subgraph_carry_its_namespace(stream: Streamer) -> None:
    chunks = stream(parent_graph(), {"x": []}, stream_mode="updates", subgraphs=True, version="v2")
    assert [(c["type"], strip_ns_ids(c["ns"]), c["data"]) for c in chunks] == [
        ("updates", (), {"pre": {"x": ["pre"]}}),
        ("updates", ("child",), {"sub_a": {"x": ["sub_a"]}}),
        ("updates", (), {"child": {"x": ["pre", "sub_a"]}}),
    ]


def test_nested_subgraphs_have_one_namespace_segment_per_level(stream: Streamer) -> None:
    inner = StateGraph(State).add_node("leaf", append("leaf")).add_edge(START, "leaf").compile()
    middle = StateGraph(State).add_node("inner", inner).add_edge(START, "inner").compile()
    outer = StateGraph(State).add_node("middle", middle).add_edge(START, "middle").compile()
    chunks = stream(outer, {"x": []}, stream_mode="updates", subgraphs=True)
    assert [strip_ns_ids(ns) for ns, _ in chunks] == [("middle", "inner"), ("middle",), ()]
    deepest = chunks[0][0]
    assert deepest[0] == chunks[1][0][0]


def test_a_subgraph_invoked_inside_a_node_streams_under_that_node(stream: Streamer) -> None:
    child = child_graph()

    def caller(state: State) -> dict[str, Any]:
        return {"x": child.invoke({"x": []})["x"]}

    graph = StateGraph(State).add_node("caller", caller).add_edge(START, "caller").compile()
    chunks = stream(graph, {"x": []}, stream_mode="updates", subgraphs=True)
    assert [(strip_ns_ids(ns), payload) for ns, payload in chunks] == [
        (("caller",), {"sub_a": {"x": ["sub_a"]}}),
        ((), {"caller": {"x": ["sub_a"]}}),
    ]


# ---------------------------------------------------------------------------- Command.PARENT


def test_command_parent_from_a_subgraph_node_routes_in_the_parent(stream: Streamer) -> None:
    def escape(state: State) -> Command:
        return Command(graph=Command.PARENT, goto="other", update={"x": ["escaped"]})

    child = (
        StateGraph(State)
        .add_node("escape", escape)
        .add_node("never", append("never"))
        .add_edge(START, "escape")
        .add_edge("escape", "never")
        .compile()
    )
    parent = (
        StateGraph(State)
        .add_node("child", child)
        .add_node("other", append("other"))
        .add_node("skipped", append("skipped"))
        .add_edge(START, "child")
        .compile()
    )
    chunks = stream(parent, {"x": []}, stream_mode="values")
    assert chunks[-1] == {"x": ["escaped", "other"]}


def test_command_parent_as_root_input_has_no_parent_graph() -> None:
    graph = StateGraph(State).add_node("a", append("a")).add_edge(START, "a").compile()
    with pytest.raises(InvalidUpdateError, match="There is no parent graph"):
        graph.invoke(Command(graph=Command.PARENT, goto="a"))


async def test_command_parent_as_root_input_has_no_parent_graph_async() -> None:
    graph = StateGraph(State).add_node("a", append("a")).add_edge(START, "a").compile()
    with pytest.raises(InvalidUpdateError, match="There is no parent graph"):
        await graph.ainvoke(Command(graph=Command.PARENT, goto="a"))


def test_subgraph_sharing_a_reducer_key_duplicates_prior_items() -> None:
    # §18.15: the subgraph returns its whole list, which the parent's reducer appends again.
    assert parent_graph().invoke({"x": []}) == {"x": ["pre", "pre", "sub_a"]}


def test_a_branch_to_end_after_a_subgraph_finishes_the_run(stream: Streamer) -> None:
    graph = (
        StateGraph(State)
        .add_node("child", child_graph())
        .add_edge(START, "child")
        .add_conditional_edges("child", lambda s: END)
        .compile()
    )
    assert stream(graph, {"x": []}, stream_mode="updates") == [{"child": {"x": ["sub_a"]}}]


@pytest.mark.parametrize("api", ["astream", "astream_events"])
async def test_closing_an_async_stream_cancels_the_running_nodes_before_it_returns(api: str) -> None:
    import asyncio
    import operator
    from contextlib import aclosing
    from typing import Annotated

    from typing_extensions import TypedDict as TD

    class Count(TD):
        value: Annotated[int, operator.add]

    state = {"started": False, "cancelled": False}

    async def slow(s: Count) -> dict:
        state["started"] = True
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            state["cancelled"] = True
            raise
        return {"value": 1}

    async def quick(s: Count) -> dict:
        await asyncio.sleep(0.05)
        return {"value": 2}

    builder = StateGraph(Count).add_node("slow", slow).add_node("quick", quick)
    graph = builder.add_edge(START, "slow").add_edge(START, "quick").compile()
    stream = graph.astream({"value": 0}) if api == "astream" else graph.astream_events({"value": 0}, version="v2")
    async with aclosing(stream) as chunks:
        async for chunk in chunks:
            if api == "astream" or chunk.get("name") == "quick" and chunk["event"] == "on_chain_end":
                break
    assert state == {"started": True, "cancelled": True}
