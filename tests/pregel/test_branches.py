"""Replays and edits of a checkpoint the thread has moved past start branches of their own:
nothing they write is stored on that checkpoint, so its other children, and later replays of
it, never see it."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

import pytest

from stategraph.graph import END, START, StateGraph
from stategraph.types import Command


class Log(TypedDict):
    log: Annotated[list, operator.add]


def thread(name: str = "t") -> dict[str, Any]:
    return {"configurable": {"thread_id": name}}


def two_steps(saver: Any) -> Any:
    builder = StateGraph(Log)
    builder.add_node("a", lambda state: {"log": ["a"]})
    builder.add_node("b", lambda state: {"log": ["b"]})
    builder.add_edge(START, "a")
    builder.add_edge("a", "b")
    builder.add_edge("b", END)
    return builder.compile(checkpointer=saver)


@pytest.mark.parametrize("durability", ["sync", "async", "exit"])
@pytest.mark.parametrize(
    "command", [Command(update={"log": ["cmd"]}), Command(goto="a")], ids=["update", "goto"]
)
def test_a_command_replaying_an_old_checkpoint_is_not_repeated_by_a_later_replay(
    checkpointer: Any, durability: str, command: Command
) -> None:
    graph = two_steps(checkpointer)
    config = thread()
    graph.invoke({"log": ["in"]}, config, interrupt_before=["b"], durability=durability)
    paused = graph.get_state(config)
    graph.invoke(None, config, durability=durability)
    branch = graph.get_state(config)

    graph.invoke(command, paused.config, durability=durability)

    assert graph.get_state(branch.config).values == branch.values == {"log": ["in", "a", "b"]}
    assert graph.invoke(None, paused.config, durability=durability) == {"log": ["in", "a", "b"]}


def test_an_update_of_a_checkpoint_the_thread_moved_past_is_not_stored_on_it(checkpointer: Any) -> None:
    graph = two_steps(checkpointer)
    config = thread()
    graph.invoke({"log": ["in"]}, config, interrupt_before=["b"])
    paused = graph.get_state(config)
    graph.update_state(config, {"log": ["later"]}, as_node="a")
    edited = graph.update_state(paused.config, {"log": ["edit"]}, as_node="b")

    cleared = graph.update_state(paused.config, None, as_node=END)

    assert graph.get_state(edited).values == {"log": ["in", "a", "edit"]}
    assert graph.get_state(cleared).values == {"log": ["in", "a"]}
    assert graph.get_state(cleared).next == ()


def test_an_update_of_the_latest_checkpoint_by_id_is_its_planned_tasks_result(checkpointer: Any) -> None:
    graph = two_steps(checkpointer)
    config = thread()
    graph.invoke({"log": ["in"]}, config, interrupt_before=["b"])
    paused = graph.get_state(config)

    graph.update_state(paused.config, {"log": ["edit"]}, as_node="b")

    # The task planned for b shows the update as its result on the checkpoint it was planned on.
    (task,) = graph.get_state(paused.config).tasks
    assert (task.name, task.result) == ("b", {"log": ["edit"]})


def test_an_exit_durability_run_leaves_the_triggers_older_checkpoints_read(checkpointer: Any) -> None:
    graph = two_steps(checkpointer)
    config = thread()
    graph.invoke({"log": ["in"]}, config, interrupt_before=["b"], durability="exit")
    paused = graph.get_state(config)
    assert paused.next == ("b",)

    graph.invoke(Command(update={"log": ["cmd"]}), paused.config, durability="exit")

    assert graph.get_state(paused.config).next == ("b",)
    assert graph.invoke(None, paused.config, durability="exit") == {"log": ["in", "a", "b"]}


def test_replaying_an_update_checkpoint_in_place_asks_its_answered_questions_again(checkpointer: Any) -> None:
    from stategraph.types import interrupt

    subgraph = (
        StateGraph(Log)
        .add_node("a", lambda s: {"log": [f"a:{interrupt('a')}"]})
        .add_node("b", lambda s: {"log": [f"b:{interrupt('b')}"]})
        .add_edge(START, "a")
        .add_edge(START, "b")
        .compile(checkpointer=True)
    )
    graph = StateGraph(Log).add_node("sub", subgraph).add_edge(START, "sub").compile(checkpointer=checkpointer)
    config = thread()

    def subgraph_head() -> dict:
        return graph.get_state(config, subgraphs=True).tasks[0].state.config

    graph.invoke({"log": []}, config)
    graph.update_state(subgraph_head(), {"log": ["u"]}, as_node="__start__")
    asked = graph.invoke(None, config)["__interrupt__"]
    first = next(i for i in asked if i.value == "a")
    graph.invoke(Command(resume={first.id: "yes"}), config)

    replayed = graph.invoke(None, subgraph_head())
    assert sorted(i.value for i in replayed["__interrupt__"]) == ["a", "b"]
