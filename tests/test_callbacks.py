"""stategraph.callbacks: GraphCallbackHandler hears when a run pauses and when it resumes."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler, CallbackManager
from typing_extensions import TypedDict

from stategraph.callbacks import GraphCallbackHandler, GraphInterruptEvent, GraphResumeEvent
from stategraph.checkpoint.memory import InMemorySaver
from stategraph.graph import START, StateGraph
from stategraph.types import Command, Interrupt, interrupt


class Recording(GraphCallbackHandler):
    def __init__(self, *, fail: bool = False, raise_error: bool = False) -> None:
        self.events: list[Any] = []
        self.fail = fail
        self.raise_error = raise_error

    def on_interrupt(self, event: GraphInterruptEvent) -> None:
        self.events.append(event)
        if self.fail:
            raise ValueError("handler failed")

    def on_resume(self, event: GraphResumeEvent) -> None:
        self.events.append(event)


class Plain(BaseCallbackHandler):
    def __init__(self) -> None:
        self.calls: list[str] = []

    def on_custom_event(self, name: str, data: Any, **kwargs: Any) -> None:
        self.calls.append(name)


class State(TypedDict):
    answer: Any


def asking_graph(**compile_kwargs: Any) -> Any:
    def ask(state: State) -> dict[str, Any]:
        return {"answer": interrupt("which one?")}

    builder = StateGraph(State).add_node("ask", ask).add_edge(START, "ask")
    return builder.compile(checkpointer=InMemorySaver(), **compile_kwargs)


def test_interrupt_then_resume_reach_graph_handlers_only() -> None:
    graph, handler, plain = asking_graph(), Recording(), Plain()
    config = {"configurable": {"thread_id": "t"}, "callbacks": [handler, plain]}

    first = graph.invoke({"answer": None}, config)
    [paused] = handler.events
    assert isinstance(paused, GraphInterruptEvent) and paused.status == "pending"
    assert paused.checkpoint_ns == () and paused.run_id is not None
    assert [i.value for i in paused.interrupts] == ["which one?"] == [i.value for i in first["__interrupt__"]]
    assert all(isinstance(i, Interrupt) for i in paused.interrupts)

    assert graph.invoke(Command(resume="b"), config) == {"answer": "b"}
    resumed = handler.events[1]
    assert isinstance(resumed, GraphResumeEvent) and resumed.checkpoint_id == paused.checkpoint_id
    assert len(handler.events) == 2 and plain.calls == []


async def test_the_async_run_delivers_the_same_events() -> None:
    graph, handler = asking_graph(), Recording()
    config = {"configurable": {"thread_id": "t"}, "callbacks": CallbackManager.configure([handler])}
    await graph.ainvoke({"answer": None}, config)
    assert await graph.ainvoke(Command(resume="a"), config) == {"answer": "a"}
    assert [type(e).__name__ for e in handler.events] == ["GraphInterruptEvent", "GraphResumeEvent"]


def test_a_breakpoint_is_an_interrupt_with_its_status() -> None:
    graph, handler = asking_graph(interrupt_before=["ask"]), Recording()
    graph.invoke({"answer": None}, {"configurable": {"thread_id": "t"}, "callbacks": [handler]})
    [event] = handler.events
    assert event.status == "interrupt_before" and event.interrupts == ()


def test_a_failing_handler_is_logged_unless_it_asks_to_raise(caplog: pytest.LogCaptureFixture) -> None:
    graph = asking_graph()
    quiet = Recording(fail=True)
    first = graph.invoke({"answer": None}, {"configurable": {"thread_id": "q"}, "callbacks": [quiet]})
    assert "__interrupt__" in first and len(quiet.events) == 1
    assert "handler failed" in caplog.text

    with pytest.raises(ValueError, match="handler failed"):
        graph.invoke(
            {"answer": None},
            {"configurable": {"thread_id": "r"}, "callbacks": [Recording(fail=True, raise_error=True)]},
        )
