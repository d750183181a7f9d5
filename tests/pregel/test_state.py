"""State API, time travel, durability and failure recovery (api_spec §5.7, §7.3–§7.8, §4.9)."""

from __future__ import annotations

import asyncio
import operator
from typing import Annotated, Any, TypedDict

import pytest

from stategraph.channels import UntrackedValue
from stategraph.graph import START, StateGraph
from stategraph.types import StateSnapshot, StateUpdate


class S(TypedDict):
    x: Annotated[list, operator.add]


def thread(name: str = "t") -> dict[str, Any]:
    return {"configurable": {"thread_id": name}}


def chain(saver: Any, counts: dict[str, int] | None = None) -> Any:
    def node(name: str) -> Any:
        def run(state: S) -> dict[str, list[str]]:
            if counts is not None:
                counts[name] = counts.get(name, 0) + 1
            return {"x": [name]}

        return run

    builder = StateGraph(S)
    for name in "abc":
        builder.add_node(name, node(name))
    return builder.add_edge(START, "a").add_edge("a", "b").add_edge("b", "c").compile(checkpointer=saver)


def test_history_lists_every_checkpoint_newest_first_with_next_nodes(checkpointer: Any) -> None:
    graph = chain(checkpointer)
    config = thread()
    graph.invoke({"x": []}, config)
    history = list(graph.get_state_history(config))
    assert [(h.metadata["source"], h.metadata["step"], h.next) for h in history] == [
        ("loop", 3, ()),
        ("loop", 2, ("c",)),
        ("loop", 1, ("b",)),
        ("loop", 0, ("a",)),
        ("input", -1, ("__start__",)),
    ]
    assert all(isinstance(h, StateSnapshot) for h in history)
    assert history[0].parent_config == history[1].config
    assert list(graph.get_state_history(config, limit=2)) == history[:2]
    assert [h.config for h in graph.get_state_history(config, before=history[1].config)] == [
        h.config for h in history[2:]
    ]
    assert [h.metadata["step"] for h in graph.get_state_history(config, filter={"source": "input"})] == [-1]


def test_replaying_an_old_checkpoint_forks_and_reruns_later_nodes(checkpointer: Any) -> None:
    counts: dict[str, int] = {}
    graph = chain(checkpointer, counts)
    config = thread()
    graph.invoke({"x": []}, config)
    before_b = next(h for h in graph.get_state_history(config) if h.next == ("b",))

    assert graph.invoke(None, before_b.config) == {"x": ["a", "b", "c"]}
    assert counts == {"a": 1, "b": 2, "c": 2}
    latest = list(graph.get_state_history(config))[:3]
    # As in LangGraph, the fork takes a step of its own: the replayed nodes run after it.
    assert [(h.metadata["source"], h.metadata["step"]) for h in latest] == [
        ("loop", 4),
        ("loop", 3),
        ("fork", 2),
    ]
    assert latest[2].parent_config == before_b.config


def test_fork_with_update_state_from_an_old_checkpoint(checkpointer: Any) -> None:
    graph = chain(checkpointer)
    config = thread()
    graph.invoke({"x": []}, config)
    before_b = next(h for h in graph.get_state_history(config) if h.next == ("b",))
    forked = graph.update_state(before_b.config, {"x": ["edited"]}, as_node="a")
    assert graph.invoke(None, forked) == {"x": ["a", "edited", "b", "c"]}
    assert graph.get_state(before_b.config).values == {"x": ["a"]}


def test_get_state_of_an_unknown_thread_is_empty(checkpointer: Any) -> None:
    graph = chain(checkpointer)
    state = graph.get_state(thread("nobody"))
    assert (state.values, state.next, state.metadata, state.created_at, state.tasks) == ({}, (), None, None, ())


def test_get_state_without_checkpointer_says_so() -> None:
    with pytest.raises(ValueError, match="No checkpointer set"):
        chain(None).get_state(thread())


def test_special_as_node_values_input_copy_and_end(checkpointer: Any) -> None:
    graph = chain(checkpointer)
    config = thread()
    graph.update_state(config, {"x": ["seed"]}, as_node="__input__")
    state = graph.get_state(config)
    assert state.next == ("__start__",) and state.metadata["source"] == "input"
    assert graph.invoke(None, config) == {"x": ["seed", "a", "b", "c"]}

    copied = graph.update_state(config, None, as_node="__copy__")
    assert graph.get_state(copied).metadata["source"] == "fork"
    assert graph.get_state(copied).values == {"x": ["seed", "a", "b", "c"]}

    other = thread("stopped")
    graph.invoke({"x": []}, other, interrupt_before=["b"])
    assert graph.get_state(other).next == ("b",)
    graph.update_state(other, None, as_node="__end__")
    assert graph.get_state(other).next == ()


def test_bulk_update_state_makes_one_checkpoint_per_superstep(checkpointer: Any) -> None:
    graph = chain(checkpointer)
    config = thread()
    graph.bulk_update_state(
        config,
        [[StateUpdate({"x": ["in"]}, "__input__")], [StateUpdate({"x": ["by-a"]}, "a")]],
    )
    history = list(graph.get_state_history(config))
    assert [h.metadata["source"] for h in history] == ["update", "input"]
    # The input waits in __start__ until START runs; the update as "a" supersedes that step.
    assert history[1].values == {"x": []} and history[1].next == ("__start__",)
    assert history[0].values == {"x": ["by-a"]} and history[0].next == ("b",)


def test_durability_exit_keeps_only_the_final_checkpoint(checkpointer: Any) -> None:
    graph = chain(checkpointer)
    config = thread()
    graph.invoke({"x": []}, config, durability="exit")
    assert [h.metadata["step"] for h in graph.get_state_history(config)] == [3]
    assert graph.get_state(config).values == {"x": ["a", "b", "c"]}


@pytest.mark.parametrize("durability", ["sync", "async"])
def test_durability_sync_and_async_keep_every_checkpoint(durability: str, checkpointer: Any) -> None:
    graph = chain(checkpointer)
    config = thread()
    graph.invoke({"x": []}, config, durability=durability)
    assert [h.metadata["step"] for h in graph.get_state_history(config)] == [3, 2, 1, 0, -1]


def test_failed_step_keeps_finished_sibling_writes_and_retry_does_not_rerun_it(checkpointer: Any) -> None:
    counter = {"ok": 0, "bad": 0}
    failing = [True]

    def ok(state: S) -> dict[str, list[str]]:
        counter["ok"] += 1
        return {"x": ["ok"]}

    def bad(state: S) -> dict[str, list[str]]:
        counter["bad"] += 1
        if failing[0]:
            raise ValueError("boom")
        return {"x": ["bad"]}

    graph = (
        StateGraph(S)
        .add_node(ok)
        .add_node(bad)
        .add_edge(START, "ok")
        .add_edge(START, "bad")
        .compile(checkpointer=checkpointer)
    )
    config = thread()
    with pytest.raises(ValueError, match="boom") as raised:
        graph.invoke({"x": []}, config)
    assert any("During task with name 'bad'" in note for note in raised.value.__notes__)

    state = graph.get_state(config)
    assert state.next == ("bad",)
    errors = {t.name: t.error for t in state.tasks}
    assert "boom" in str(errors["bad"]) and errors["ok"] is None

    failing[0] = False
    assert graph.invoke(None, config) == {"x": ["bad", "ok"]}
    assert counter == {"ok": 1, "bad": 2}


def test_async_state_methods_mirror_the_sync_ones(checkpointer: Any) -> None:
    graph = chain(checkpointer)
    config = thread()

    async def run() -> tuple[Any, list[Any], Any]:
        await graph.ainvoke({"x": []}, config, interrupt_before=["c"])
        state = await graph.aget_state(config)
        history = [h async for h in graph.aget_state_history(config)]
        updated = await graph.aupdate_state(config, {"x": ["async-b"]}, as_node="b")
        return state, history, updated

    state, history, updated = asyncio.run(run())
    assert state.next == ("c",)
    assert len(history) == 4
    assert graph.get_state(updated).values == {"x": ["a", "b", "async-b"]}


def test_checkpoint_metadata_carries_config_metadata_and_primitive_configurable_values(checkpointer: Any) -> None:
    graph = chain(checkpointer)
    config = {"configurable": {"thread_id": "m", "user_id": "u1", "obj": object()}, "metadata": {"foo": "bar"}}
    graph.invoke({"x": []}, config)
    metadata = graph.get_state(thread("m")).metadata
    assert metadata is not None
    assert metadata["foo"] == "bar" and metadata["user_id"] == "u1"
    assert "obj" not in metadata and "thread_id" not in metadata


def test_the_saved_input_reads_back_as_it_was_saved(checkpointer: Any) -> None:
    from langchain_core.messages import AIMessage, HumanMessage

    from stategraph.graph import MessagesState

    graph = (
        StateGraph(MessagesState)
        .add_node("echo", lambda state: {"messages": [AIMessage("hi")]})
        .add_edge(START, "echo")
        .compile(checkpointer=checkpointer)
    )
    config = {"configurable": {"thread_id": "input"}}
    given = HumanMessage("hello")
    graph.invoke({"messages": [given]}, config)
    *_, input_snapshot = graph.get_state_history(config)
    assert input_snapshot.metadata["source"] == "input"
    saved = checkpointer.get_tuple(input_snapshot.config).checkpoint["channel_values"]
    # The input checkpoint was saved before the messages got their ids; the state holds them.
    assert [m.id for m in saved["__start__"]["messages"]] == [None]
    assert all(m.id for m in graph.get_state(config).values["messages"])


def test_a_format_2_checkpoint_with_pending_sends_resumes_by_running_them(checkpointer: Any) -> None:
    from stategraph.checkpoint.serde.types import TASKS
    from stategraph.types import Send

    def w(packet: dict[str, Any]) -> dict[str, Any]:
        return {"x": [packet["y"] + "!"]}

    graph = (
        StateGraph(S)
        .add_node("w", w)
        .add_conditional_edges(START, lambda s: [Send("w", {"x": [], "y": str(i)}) for i in range(2)])
        .compile(checkpointer=checkpointer, interrupt_before=["w"])
    )
    graph.invoke({"x": ["in"]}, thread("new"))
    saved = checkpointer.get_tuple(thread("new"))
    assert [send.arg["y"] for send in saved.checkpoint["channel_values"][TASKS]] == ["0", "1"]

    # The same checkpoint as LangGraph releases before format 4 stored it.
    old = dict(saved.checkpoint)
    values = dict(old["channel_values"])
    old["pending_sends"] = values.pop(TASKS)
    versions = dict(old["channel_versions"])
    del versions[TASKS]
    old.update(v=2, channel_values=values, channel_versions=versions)
    checkpointer.put({"configurable": {"thread_id": "old", "checkpoint_ns": ""}}, old, saved.metadata, versions)

    assert graph.get_state(thread("old")).next == ("w", "w")
    assert graph.invoke(None, thread("old")) == {"x": ["in", "0!", "1!"]}


def test_an_update_at_a_breakpoint_before_a_join_lets_the_joined_node_run(checkpointer: Any) -> None:
    class Docs(TypedDict):
        query: str
        docs: Annotated[list, operator.add]

    graph = (
        StateGraph(Docs)
        .add_node("rewrite", lambda s: {"query": "q"})
        .add_node("analyze", lambda s: {"query": "analyzed"})
        .add_node("near", lambda s: {"docs": ["near"]})
        .add_node("far", lambda s: {"docs": ["far"]})
        .add_node("answer", lambda s: {"query": ",".join(s["docs"])})
        .add_edge(START, "rewrite")
        .add_edge("rewrite", "analyze")
        .add_edge("analyze", "near")
        .add_edge("rewrite", "far")
        .add_edge(["near", "far"], "answer")
        .compile(checkpointer=checkpointer, interrupt_before=["answer"])
    )
    graph.invoke({"query": "", "docs": []}, thread())
    graph.update_state(thread(), {"docs": ["extra"]})  # as "near", the node that ran last
    assert graph.get_state(thread()).next == ("answer",)
    assert list(graph.stream(None, thread())) == [{"answer": {"query": "far,near,extra"}}]


def test_the_checkpoint_saved_at_exit_descends_from_the_last_one_saved(checkpointer: Any) -> None:
    graph = (
        StateGraph(S)
        .add_node("a", lambda s: {"x": [1]})
        .add_node("b", lambda s: {"x": [2]})
        .add_edge(START, "a")
        .add_edge("a", "b")
        .compile(checkpointer=checkpointer)
    )
    graph.invoke({"x": []}, thread(), durability="exit")
    assert graph.get_state(thread()).parent_config is None
    first = graph.get_state(thread()).config
    graph.invoke({"x": [0]}, thread(), durability="exit")
    assert graph.get_state(thread()).parent_config == first


@pytest.mark.parametrize("special", ["__end__", "__copy__", "__input__"])
def test_a_clearing_copying_or_input_update_must_be_alone_in_its_superstep(checkpointer: Any, special: str) -> None:
    from stategraph.errors import InvalidUpdateError

    graph = StateGraph(S).add_node("a", lambda s: {"x": [1]}).add_edge(START, "a").compile(checkpointer=checkpointer)
    graph.invoke({"x": []}, thread())
    with pytest.raises(InvalidUpdateError, match="Cannot apply multiple updates"):
        graph.bulk_update_state(thread(), [[StateUpdate(None, special), StateUpdate({"x": [2]}, "a")]])


def test_a_deferred_node_waiting_at_a_breakpoint_runs_after_an_update(checkpointer: Any) -> None:
    class Docs(TypedDict):
        answer: str
        docs: Annotated[list, operator.add]

    graph = (
        StateGraph(Docs)
        .add_node("start", lambda s: {"answer": ""})
        .add_node("slow", lambda s: {"answer": "slow"})
        .add_node("near", lambda s: {"docs": ["near"]})
        .add_node("far", lambda s: {"docs": ["far"]})
        .add_node("answer", lambda s: {"answer": ",".join(s["docs"])}, defer=True)
        .add_edge(START, "start")
        .add_edge("start", "near")
        .add_edge("near", "slow")
        .add_edge("start", "far")
        .add_edge("near", "answer")
        .add_edge("far", "answer")
        .compile(checkpointer=checkpointer, interrupt_before=["answer"])
    )
    graph.invoke({"docs": []}, thread())
    graph.update_state(thread(), {"docs": ["extra"]})
    assert graph.get_state(thread()).next == ("answer",)
    assert list(graph.stream(None, thread())) == [{"answer": {"answer": "far,near,extra"}}]


def test_a_thread_id_of_another_type_is_saved_and_shown_as_a_string(checkpointer: Any) -> None:
    import uuid

    graph = StateGraph(S).add_node("a", lambda s: {"x": [1]}).add_edge(START, "a").compile(checkpointer=checkpointer)
    thread_id = uuid.uuid4()
    chunks = list(graph.stream({"x": []}, {"configurable": {"thread_id": thread_id}}, stream_mode="checkpoints"))
    assert {c["config"]["configurable"]["thread_id"] for c in chunks} == {str(thread_id)}
    assert graph.get_state({"configurable": {"thread_id": str(thread_id)}}).values == {"x": [1]}


def test_updates_as_nodes_show_as_the_planned_tasks_results_in_history(checkpointer: Any) -> None:
    class Num(TypedDict):
        num: int

    graph = (
        StateGraph(Num)
        .add_node("double", lambda s: {"num": s["num"] * 2})
        .add_edge(START, "double")
        .compile(checkpointer=checkpointer)
    )
    graph.bulk_update_state(
        thread(),
        [
            [StateUpdate({}, "__input__")],
            [StateUpdate({"num": 1}, "__start__")],
            [StateUpdate({"num": 2}, "double")],
        ],
    )
    results = {t.name: t.result for s in graph.get_state_history(thread()) for t in s.tasks}
    assert results == {"__start__": {"num": 1}, "double": {"num": 2}}


def test_a_copy_given_updates_forks_and_applies_them(checkpointer: Any) -> None:
    graph = (
        StateGraph(S)
        .add_node("a", lambda s: {"x": ["a"]})
        .add_node("b", lambda s: {"x": ["b"]})
        .add_edge(START, "a")
        .add_edge("a", "b")
        .compile(checkpointer=checkpointer)
    )
    graph.invoke({"x": ["in"]}, thread())
    before_b = next(s for s in graph.get_state_history(thread()) if s.next == ("b",))
    forked = graph.update_state(before_b.config, [StateUpdate({"x": ["b*"]}, "b")], as_node="__copy__")
    assert graph.get_state(forked).values == {"x": ["in", "a", "b*"]}
    sources = [s.metadata["source"] for s in graph.get_state_history(thread())][:2]
    assert sources == ["update", "fork"]


def test_the_checkpoints_stream_ends_with_the_checkpoint_a_run_stops_on(checkpointer: Any) -> None:
    from stategraph.errors import GraphRecursionError

    paused = (
        StateGraph(S)
        .add_node("a", lambda s: {"x": [1]})
        .add_node("b", lambda s: {"x": [2]})
        .add_edge(START, "a")
        .add_edge("a", "b")
        .compile(checkpointer=checkpointer, interrupt_after=["a"])
    )
    chunks = list(paused.stream({"x": []}, thread("p"), stream_mode="checkpoints"))
    assert chunks[-1]["config"] == paused.get_state(thread("p")).config
    assert chunks[-1]["next"] == ["b"]

    looping = StateGraph(S).add_node("a", lambda s: {"x": [1]}).add_edge(START, "a").add_edge("a", "a")
    graph = looping.compile(checkpointer=checkpointer)
    config = {**thread("r"), "recursion_limit": 3}
    chunks = []
    with pytest.raises(GraphRecursionError):
        for chunk in graph.stream({"x": []}, config, stream_mode="checkpoints"):
            chunks.append(chunk)
    assert chunks[-1]["config"] == graph.get_state(thread("r")).config


class _Resource:
    """Nothing a checkpoint could store (it holds a lock)."""

    def __init__(self, name: str) -> None:
        import threading

        self.name = name
        self.lock = threading.Lock()


class _Session(TypedDict):
    log: Annotated[list, operator.add]
    resource: Annotated[_Resource, UntrackedValue]


def test_a_send_carrying_an_untracked_value_is_saved_without_it(checkpointer: Any) -> None:
    from stategraph.types import Send

    def use(state: _Session) -> dict[str, Any]:
        return {"log": [f"used {state['resource'].name}"], "resource": _Resource("next")}

    graph = (
        StateGraph(_Session)
        .add_node("setup", lambda s: {"log": ["setup"], "resource": _Resource("first")})
        .add_node("use", use)
        .add_edge(START, "setup")
        .add_conditional_edges("setup", lambda s: [Send("use", s)])
        .compile(checkpointer=checkpointer)
    )
    result = graph.invoke({"log": []}, thread())
    assert result["log"] == ["setup", "used first"]
    assert result["resource"].name == "next"
    assert "resource" not in graph.get_state(thread()).values


async def test_an_async_update_runs_the_nodes_async_conditional_edge(checkpointer: Any) -> None:
    async def route(state: S) -> str:
        return "b"

    builder = StateGraph(S)
    builder.add_node("a", lambda state: {"x": ["a"]})
    builder.add_node("b", lambda state: {"x": ["b"]})
    builder.add_edge(START, "a").add_conditional_edges("a", route, ["b"])
    graph = builder.compile(checkpointer=checkpointer)
    config = thread()
    await graph.aupdate_state(config, {"x": ["edit"]}, as_node="a")
    assert (await graph.aget_state(config)).next == ("b",)
    assert await graph.ainvoke(None, config) == {"x": ["edit", "b"]}
    with pytest.raises(TypeError, match="async"):
        graph.update_state(config, {"x": ["sync"]}, as_node="a")


def test_editing_a_snapshots_value_in_place_changes_nothing_saved_or_made(checkpointer: Any) -> None:
    made = {"item": {"query": "original"}}

    class Box(TypedDict):
        items: Annotated[list, operator.add]

    builder = StateGraph(Box).add_node("make", lambda state: {"items": [made["item"]]})
    graph = builder.add_edge(START, "make").compile(checkpointer=checkpointer)
    config = thread()
    graph.invoke({"items": []}, config)
    before = graph.get_state(config)

    before.values["items"][0]["query"] = "edited"  # the review-a-tool-call pattern...
    graph.update_state(config, {"items": [{"query": "appended"}]})  # ...then an update

    assert made["item"] == {"query": "original"}  # what the node made is its own
    assert graph.get_state(before.config).values == {"items": [{"query": "original"}]}
    assert graph.get_state(config).values == {"items": [{"query": "original"}, {"query": "appended"}]}
