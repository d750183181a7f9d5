"""LangChain's events API over a graph run: ``astream_events(version="v2")``, ``stream_events``.

The expected sequences were recorded from LangGraph 1.2.24 running the same graphs (same
events, names, tags and metadata keys), so chat UIs built on the events API work unchanged.
"""

import asyncio
import operator
from typing import Annotated, Any, TypedDict

import pytest
from langchain_core.callbacks import adispatch_custom_event, dispatch_custom_event
from langchain_core.messages import AIMessage
from langchain_core.tools import tool

from stategraph.checkpoint.memory import InMemorySaver
from stategraph.graph import START, MessagesState, StateGraph
from stategraph.prebuilt import ToolNode, tools_condition
from stategraph.testing import ScriptedChatModel, tool_call
from stategraph.types import TracePolicy, omit_payload


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def agent_graph(checkpointer: Any = None) -> Any:
    model = ScriptedChatModel([tool_call("add", {"a": 1, "b": 2}, id="c1"), "Done"]).bind_tools([add])

    def agent(state: MessagesState) -> dict[str, Any]:
        dispatch_custom_event("progress", {"step": "agent"})
        return {"messages": [model.invoke(state["messages"])]}

    return (
        StateGraph(MessagesState)
        .add_node("agent", agent)
        .add_node("tools", ToolNode([add]))
        .add_edge(START, "agent")
        .add_conditional_edges("agent", tools_condition)
        .add_edge("tools", "agent")
        .compile(checkpointer=checkpointer)
    )


def collect(graph: Any, input: Any, config: Any = None, **kwargs: Any) -> list[dict[str, Any]]:
    async def run() -> list[dict[str, Any]]:
        return [event async for event in graph.astream_events(input, config, version="v2", **kwargs)]

    return asyncio.run(run())


AGENT_STEP = lambda step, stream: [  # noqa: E731 - the events of one agent node run
    ("on_chain_start", "agent", [f"graph:step:{step}"]),
    ("on_custom_event", "progress", ["seq:step:1"]),
    ("on_chat_model_start", "ScriptedChatModel", ["seq:step:1"]),
    *[("on_chat_model_stream", "ScriptedChatModel", ["seq:step:1"])] * stream,
    ("on_chat_model_end", "ScriptedChatModel", ["seq:step:1"]),
    ("on_chain_start", "tools_condition", ["seq:step:3"]),
    ("on_chain_end", "tools_condition", ["seq:step:3"]),
    ("on_chain_stream", "agent", [f"graph:step:{step}"]),
    ("on_chain_end", "agent", [f"graph:step:{step}"]),
    ("on_chain_stream", "LangGraph", []),
]

LANGGRAPH_AGENT_EVENTS = [
    ("on_chain_start", "LangGraph", []),
    *AGENT_STEP(1, 3),
    ("on_chain_start", "tools", ["graph:step:2"]),
    ("on_tool_start", "add", ["seq:step:1"]),
    ("on_tool_end", "add", ["seq:step:1"]),
    ("on_chain_stream", "tools", ["graph:step:2"]),
    ("on_chain_end", "tools", ["graph:step:2"]),
    ("on_chain_stream", "LangGraph", []),
    *AGENT_STEP(3, 2),
    ("on_chain_end", "LangGraph", []),
]

NODE_KEYS = ["langgraph_checkpoint_ns", "langgraph_node", "langgraph_path", "langgraph_step", "langgraph_triggers"]


def test_an_agent_run_reports_langgraphs_events_in_langgraphs_order() -> None:
    events = collect(agent_graph(), {"messages": [("user", "add 1 and 2")]})
    assert [(e["event"], e["name"], sorted(e["tags"])) for e in events] == LANGGRAPH_AGENT_EVENTS


def test_node_runs_carry_the_task_metadata_and_their_children_the_namespace_too() -> None:
    config = {"configurable": {"thread_id": "t-1"}}
    events = collect(agent_graph(InMemorySaver()), {"messages": [("user", "add")]}, config)
    graph_start = events[0]
    assert graph_start["metadata"] == {"thread_id": "t-1", "ls_integration": "langgraph"}
    node_start = next(e for e in events if e["event"] == "on_chain_start" and e["name"] == "agent")
    assert sorted(node_start["metadata"]) == sorted([*NODE_KEYS, "thread_id", "ls_integration"])
    assert node_start["metadata"]["langgraph_step"] == 1
    assert node_start["metadata"]["langgraph_triggers"] == ("branch:to:agent",)
    assert node_start["metadata"]["langgraph_path"] == ("__pregel_pull", "agent")
    tool_start = next(e for e in events if e["event"] == "on_tool_start")
    assert tool_start["metadata"]["langgraph_node"] == "tools"
    assert tool_start["metadata"]["checkpoint_ns"] == tool_start["metadata"]["langgraph_checkpoint_ns"]
    assert tool_start["metadata"]["checkpoint_ns"].startswith("tools:")
    model_start = next(e for e in events if e["event"] == "on_chat_model_start")
    assert model_start["metadata"]["ls_model_name"] == "scripted"
    # Every event after the graph's start descends from it.
    root = graph_start["run_id"]
    assert all(root in e["parent_ids"] for e in events if e["run_id"] != root)


def test_the_data_of_node_tool_and_branch_runs() -> None:
    events = collect(agent_graph(), {"messages": [("user", "add 1 and 2")]})
    by = lambda event, name: [e["data"] for e in events if e["event"] == event and e["name"] == name]  # noqa: E731
    first_agent_input = by("on_chain_start", "agent")[0]["input"]
    assert [m.content for m in first_agent_input["messages"]] == ["add 1 and 2"]
    agent_output = by("on_chain_end", "agent")[0]["output"]
    assert agent_output["messages"][0].tool_calls[0]["args"] == {"a": 1, "b": 2}
    assert [d["chunk"] for d in by("on_chain_stream", "agent")][0] == agent_output
    assert [d["output"] for d in by("on_chain_end", "tools_condition")] == ["tools", "__end__"]
    assert by("on_tool_start", "add")[0]["input"] == {"a": 1, "b": 2}
    assert by("on_tool_end", "add")[0]["output"].content == "3"
    assert by("on_custom_event", "progress") == [{"step": "agent"}, {"step": "agent"}]
    # The graph streams its default mode (updates) and ends with the final state.
    assert [list(d["chunk"]) for d in by("on_chain_stream", "LangGraph")] == [["agent"], ["tools"], ["agent"]]
    final = by("on_chain_end", "LangGraph")[0]["output"]
    assert [m.type for m in final["messages"]] == ["human", "ai", "tool", "ai"]


def test_streamed_tokens_arrive_as_chat_model_stream_events() -> None:
    model = ScriptedChatModel(["Hello there, friend"])

    async def speak(state: MessagesState) -> dict[str, Any]:
        await adispatch_custom_event("thinking", {"about": "greeting"})
        return {"messages": [await model.ainvoke(state["messages"])]}

    graph = StateGraph(MessagesState).add_node("speak", speak).add_edge(START, "speak").compile()
    events = collect(graph, {"messages": [("user", "hi")]})
    tokens = [e["data"]["chunk"].content for e in events if e["event"] == "on_chat_model_stream"]
    assert "".join(tokens) == "Hello there, friend"
    assert len(tokens) > 1
    custom = [e for e in events if e["event"] == "on_custom_event"]
    assert [(e["name"], e["data"], e["metadata"]["langgraph_node"]) for e in custom] == [
        ("thinking", {"about": "greeting"}, "speak")
    ]


def test_filters_select_events() -> None:
    events = collect(agent_graph(), {"messages": [("user", "add")]}, include_types=["tool"])
    assert [(e["event"], e["name"]) for e in events] == [("on_tool_start", "add"), ("on_tool_end", "add")]
    events = collect(agent_graph(), {"messages": [("user", "add")]}, include_names=["tools"])
    assert {e["name"] for e in events} == {"tools"}


def test_nodes_in_a_subgraph_report_their_own_namespace() -> None:
    class Inner(TypedDict):
        log: Annotated[list, operator.add]

    def leaf(state: Inner) -> dict[str, Any]:
        return {"log": ["leaf"]}

    inner = StateGraph(Inner).add_node("leaf", leaf).add_edge(START, "leaf").compile()
    outer = StateGraph(Inner).add_node("inner", inner).add_edge(START, "inner").compile()
    events = collect(outer, {"log": []})
    leaf_start = next(e for e in events if e["event"] == "on_chain_start" and e["name"] == "leaf")
    namespace = leaf_start["metadata"]["langgraph_checkpoint_ns"]
    assert namespace.startswith("inner:") and "|leaf:" in namespace
    inner_start = next(e for e in events if e["event"] == "on_chain_start" and e["name"] == "inner")
    assert inner_start["run_id"] in leaf_start["parent_ids"]


def test_a_trace_policy_changes_only_what_tracers_record_of_the_node_run() -> None:
    from langchain_core.callbacks import BaseCallbackHandler
    from langchain_core.tracers.base import BaseTracer

    class Recorder(BaseTracer):
        def __init__(self) -> None:
            super().__init__()
            self.recorded: list[Any] = []

        def _persist_run(self, run: Any) -> None:
            pass

        def _end_trace(self, run: Any) -> None:
            if run.name == "node":
                self.recorded.append((run.inputs, run.outputs))
            super()._end_trace(run)

    class Watcher(BaseCallbackHandler):
        def __init__(self) -> None:
            self.seen: list[Any] = []

        def on_chain_start(self, serialized: Any, inputs: Any, **kwargs: Any) -> None:
            if kwargs.get("name") == "node":
                self.seen.append(inputs["messages"][-1].content)

    def node(state: MessagesState) -> dict[str, Any]:
        return {"messages": [AIMessage("reply", id="r1")]}

    policy = TracePolicy(process_inputs=omit_payload, process_outputs=lambda out: {"count": len(out["messages"])})
    graph = StateGraph(MessagesState).add_node("node", node, trace_policy=policy).add_edge(START, "node").compile()
    recorder, watcher = Recorder(), Watcher()
    graph.invoke({"messages": [("user", "secret question")]}, {"callbacks": [recorder, watcher]})
    assert recorder.recorded == [({}, {"count": 1})]  # what the trace keeps
    assert watcher.seen == ["secret question"]  # other handlers get the real payloads

    events = collect(graph, {"messages": [("user", "secret question")]})
    start = next(e for e in events if e["event"] == "on_chain_start" and e["name"] == "node")
    assert start["data"]["input"]["messages"][-1].content == "secret question"  # a caller's own stream

def test_a_failing_trace_policy_processor_records_the_value_as_is() -> None:
    def boom(_: Any) -> Any:
        raise RuntimeError("processor failed")

    policy = TracePolicy(process_inputs=boom, process_outputs=boom)
    graph = (
        StateGraph(MessagesState)
        .add_node("node", lambda state: {"messages": [AIMessage("reply", id="r1")]}, trace_policy=policy)
        .add_edge(START, "node")
        .compile()
    )
    events = collect(graph, {"messages": [("user", "hi")]})
    start = next(e for e in events if e["event"] == "on_chain_start" and e["name"] == "node")
    end = next(e for e in events if e["event"] == "on_chain_end" and e["name"] == "node")
    assert start["data"]["input"]["messages"][0].content == "hi"
    assert end["data"]["output"]["messages"][0].content == "reply"


def test_stream_events_gives_the_same_events_synchronously() -> None:
    events = list(agent_graph().stream_events({"messages": [("user", "add 1 and 2")]}, version="v2"))
    assert [(e["event"], e["name"], sorted(e["tags"])) for e in events] == LANGGRAPH_AGENT_EVENTS


def test_version_v1_reports_the_graph_and_node_runs_as_langgraphs_does() -> None:
    class Count(TypedDict):
        n: int

    graph = StateGraph(Count).add_node("double", lambda s: {"n": s["n"] * 2}).add_edge(START, "double").compile()

    async def run() -> list[tuple[str, str]]:
        return [(e["event"], e["name"]) async for e in graph.astream_events({"n": 4}, version="v1")]

    assert asyncio.run(run()) == [
        ("on_chain_start", "LangGraph"),
        ("on_chain_start", "double"),
        ("on_chain_stream", "double"),
        ("on_chain_end", "double"),
        ("on_chain_stream", "LangGraph"),
        ("on_chain_end", "LangGraph"),
    ]


def test_an_unknown_events_version_is_refused() -> None:
    with pytest.raises(NotImplementedError, match="version='v2'"):
        asyncio.run(_first_event(agent_graph(), version="v0"))


async def _first_event(graph: Any, version: str) -> Any:
    async for event in graph.astream_events({"messages": []}, version=version):
        return event


def test_task_calls_are_children_of_their_entrypoint_with_named_inputs_and_returned_outputs() -> None:
    from stategraph.func import entrypoint, task

    @task()
    def scale(value: int, factor: int = 10) -> int:
        return value * factor

    @entrypoint(checkpointer=InMemorySaver())
    def workflow(values: list[int]) -> list[int]:
        return [f.result() for f in [scale(v) for v in values]]

    events = collect(workflow, [1, 2], {"configurable": {"thread_id": "t"}})
    starts = {e["name"]: e for e in events if e["event"] == "on_chain_start"}
    calls = [e for e in events if e["event"] == "on_chain_start" and e["name"] == "scale"]
    assert sorted(e["data"]["input"]["value"] for e in calls) == [1, 2]
    assert all(e["data"]["input"]["factor"] == 10 for e in calls)  # defaults applied
    assert all(e["tags"] == ["seq:step:1"] for e in calls)
    assert sorted(e["metadata"]["langgraph_path"][2] for e in calls) == [0, 1]
    assert {e["metadata"]["langgraph_path"][::3] for e in calls} == {("__pregel_push", True)}
    assert {e["metadata"]["langgraph_path"][1] for e in calls} == {("__pregel_pull", "workflow")}
    assert all(e["parent_ids"][-1] == starts["workflow"]["run_id"] for e in calls)
    ends = {e["name"]: e["data"]["output"] for e in events if e["event"] == "on_chain_end"}
    assert ends["workflow"] == [10, 20]  # what the function returned, not its channel writes


def test_a_node_run_records_what_the_node_returned() -> None:
    class Log(TypedDict):
        x: Annotated[list, operator.add]

    def a(state: Log) -> Any:
        from stategraph.types import Command

        return Command(update={"x": ["a"]}, goto="b")

    graph = (
        StateGraph(Log)
        .add_node("a", a)
        .add_node("b", lambda state: None)
        .add_edge(START, "a")
        .compile()
    )
    ends = {e["name"]: e["data"]["output"] for e in collect(graph, {"x": []}) if e["event"] == "on_chain_end"}
    assert ends["a"].update == {"x": ["a"]} and ends["a"].goto == "b"
    assert ends["b"] is None


def test_a_handler_with_tap_methods_gets_a_node_runs_start_and_end_only() -> None:
    from langchain_core.callbacks import BaseCallbackHandler

    class Tapper(BaseCallbackHandler):
        def __init__(self) -> None:
            self.node_run: Any = None
            self.payloads: list[Any] = []

        def tap_output_iter(self, run_id: Any, output: Any) -> Any:
            for chunk in output:
                self.payloads.append(("tap", chunk))
                yield chunk

        def on_chain_start(self, serialized: Any, inputs: Any, *, run_id: Any, **kwargs: Any) -> None:
            if kwargs.get("name") == "node":
                self.node_run = run_id
                self.payloads.append(("start", inputs))

        def on_chain_end(self, outputs: Any, *, run_id: Any, **kwargs: Any) -> None:
            if run_id == self.node_run:
                self.payloads.append(("end", outputs))

    class Count(TypedDict):
        n: int

    graph = StateGraph(Count).add_node("node", lambda s: {"n": s["n"] + 1}).add_edge(START, "node").compile()
    tapper = Tapper()
    assert graph.invoke({"n": 1}, {"callbacks": [tapper]}) == {"n": 2}
    assert tapper.payloads == [("start", {"n": 1}), ("end", {"n": 2})]


def test_callbacks_bound_with_with_config_still_hear_the_run_under_astream_events() -> None:
    from langchain_core.callbacks import BaseCallbackHandler

    class Heard(BaseCallbackHandler):
        def __init__(self) -> None:
            self.starts: list[str] = []

        def on_chain_start(self, serialized: Any, inputs: Any, **kwargs: Any) -> None:
            self.starts.append(kwargs.get("name") or "")

    class Count(TypedDict):
        n: int

    bound, given = Heard(), Heard()
    graph = (
        StateGraph(Count).add_node("node", lambda s: {"n": s["n"] + 1}).add_edge(START, "node")
        .compile().with_config({"callbacks": [bound]})
    )

    events = collect(graph, {"n": 1})
    graph.invoke({"n": 1}, {"callbacks": [given]})

    assert events[-1]["data"]["output"] == {"n": 2}
    assert "node" in bound.starts and "LangGraph" in bound.starts
    assert bound.starts.count("node") == 2 and given.starts.count("node") == 1
