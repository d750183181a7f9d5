"""A pruned thread, seen from the engine: state, resume, forks and finished tasks survive.

A chat graph runs many turns (``add_messages``, so the savers store the list as deltas); its
last turn stops at an interrupt while a parallel task has finished. ``prune(keep_latest)``
then leaves only the checkpoint the interrupt waits on.
"""

from __future__ import annotations

import asyncio
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Iterator

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from typing_extensions import TypedDict

from stategraph.checkpoint.memory import InMemorySaver
from stategraph.checkpoint.sqlite import SqliteSaver
from stategraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from stategraph.graph import END, START, StateGraph
from stategraph.graph.message import add_messages
from stategraph.types import Command, interrupt

TURNS = 30
NEEDS_APPROVAL = "refund my order, needs approval"


class ChatState(TypedDict):
    messages: Annotated[list, add_messages]


class Calls:
    def __init__(self) -> None:
        self.audit: list[str] = []


def chat_graph(saver: Any, calls: Calls) -> Any:
    def respond(state: ChatState) -> dict[str, Any]:
        return {"messages": [AIMessage(f"answer to: {state['messages'][-1].content}")]}

    def audit(state: ChatState) -> dict[str, Any]:
        calls.audit.append(state["messages"][-2].content)
        return {}

    def approve(state: ChatState) -> dict[str, Any]:
        if state["messages"][-2].content != NEEDS_APPROVAL:
            return {}
        answer = interrupt("approve the refund?")
        return {"messages": [AIMessage(f"refund {answer}")]}

    builder = StateGraph(ChatState)
    builder.add_node("respond", respond)
    builder.add_node("audit", audit)
    builder.add_node("approve", approve)
    builder.add_edge(START, "respond")
    builder.add_edge("respond", "audit")  # audit and approve run in one superstep
    builder.add_edge("respond", "approve")
    builder.add_edge("audit", END)
    builder.add_edge("approve", END)
    return builder.compile(checkpointer=saver)


@contextmanager
def open_saver(kind: str, tmp_path: Path) -> Iterator[Any]:
    if kind == "memory":
        yield InMemorySaver()
    else:
        with SqliteSaver.from_conn_string(str(tmp_path / "chat.db")) as saver:
            yield saver


@pytest.fixture(params=["memory", "sqlite"])
def saver(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    with open_saver(request.param, tmp_path) as opened:
        yield opened


def config(thread_id: str = "chat") -> dict[str, Any]:
    return {"configurable": {"thread_id": thread_id}}


def run_chat(graph: Any, thread_id: str = "chat") -> None:
    """TURNS turns, the last of which stops at the approval interrupt."""
    for turn in range(TURNS - 1):
        graph.invoke({"messages": [HumanMessage(f"question {turn}")]}, config(thread_id))
    result = graph.invoke({"messages": [HumanMessage(NEEDS_APPROVAL)]}, config(thread_id))
    assert result["__interrupt__"][0].value == "approve the refund?"


def test_a_pruned_thread_reads_back_its_full_state_and_pending_interrupt(saver: Any) -> None:
    graph = chat_graph(saver, Calls())
    run_chat(graph)
    before = graph.get_state(config())
    assert len(list(graph.get_state_history(config()))) > TURNS
    saver.prune(["chat"], strategy="keep_latest")
    after = graph.get_state(config())
    assert after.values == before.values
    assert len(after.values["messages"]) == 2 * TURNS
    assert after.next == before.next == ("approve",)
    assert after.interrupts == before.interrupts
    assert after.config == before.config
    assert after.parent_config is None
    assert [snapshot.config for snapshot in graph.get_state_history(config())] == [after.config]


def test_resume_after_prune_finishes_the_turn_without_rerunning_the_finished_task(
    saver: Any,
) -> None:
    calls = Calls()
    graph = chat_graph(saver, calls)
    run_chat(graph)
    assert calls.audit.count(NEEDS_APPROVAL) == 1
    saver.prune(["chat"], strategy="keep_latest")
    result = graph.invoke(Command(resume="granted"), config())
    assert calls.audit.count(NEEDS_APPROVAL) == 1
    assert [m.content for m in result["messages"][-3:]] == [
        NEEDS_APPROVAL,
        f"answer to: {NEEDS_APPROVAL}",
        "refund granted",
    ]
    assert len(result["messages"]) == 2 * TURNS + 1
    assert graph.get_state(config()).next == ()


def test_update_state_forks_a_pruned_thread_and_the_fork_runs_on(saver: Any) -> None:
    graph = chat_graph(saver, Calls())
    run_chat(graph)
    saver.prune(["chat"], strategy="keep_latest")
    kept = graph.get_state(config())
    forked = graph.update_state(
        kept.config, {"messages": [AIMessage("refund granted by a supervisor")]}, as_node="approve"
    )
    fork = graph.get_state(forked)
    assert fork.parent_config == kept.config
    assert fork.next == ()
    assert [m.content for m in fork.values["messages"][-2:]] == [
        f"answer to: {NEEDS_APPROVAL}",
        "refund granted by a supervisor",
    ]
    result = graph.invoke({"messages": [HumanMessage("thanks")]}, forked)
    assert len(result["messages"]) == 2 * TURNS + 3
    assert result["messages"][0].content == "question 0"


def test_a_thread_pruned_mid_history_keeps_growing_from_its_latest_state(saver: Any) -> None:
    graph = chat_graph(saver, Calls())
    for turn in range(5):
        graph.invoke({"messages": [HumanMessage(f"question {turn}")]}, config())
        saver.prune("chat")
    state = graph.get_state(config())
    assert [m.content for m in state.values["messages"][::2]] == [f"question {t}" for t in range(5)]
    assert len(list(graph.get_state_history(config()))) == 1


def test_the_async_sqlite_saver_prunes_an_interrupted_thread_that_then_resumes(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        calls = Calls()
        async with AsyncSqliteSaver.from_conn_string(str(tmp_path / "chat.db")) as saver:
            graph = chat_graph(saver, calls)
            for turn in range(5):
                await graph.ainvoke({"messages": [HumanMessage(f"question {turn}")]}, config())
            await graph.ainvoke({"messages": [HumanMessage(NEEDS_APPROVAL)]}, config())
            before = await graph.aget_state(config())
            await saver.aprune(["chat"])
            assert (await graph.aget_state(config())).values == before.values
            result = await graph.ainvoke(Command(resume="granted"), config())
            assert result["messages"][-1].content == "refund granted"
            assert calls.audit.count(NEEDS_APPROVAL) == 1

    asyncio.run(scenario())


def test_prune_delete_forgets_the_thread(saver: Any) -> None:
    graph = chat_graph(saver, Calls())
    graph.invoke({"messages": [HumanMessage("hello")]}, config("gone"))
    graph.invoke({"messages": [HumanMessage("hello")]}, config("kept"))
    saver.prune(["gone"], strategy="delete")
    assert graph.get_state(config("gone")).values == {}
    assert len(graph.get_state(config("kept")).values["messages"]) == 2
