"""The StateGraph builder (api_spec.md §2.1–2.8): nodes, edges, branches, sequences, compile checks.

Every validation error of the builder and of ``compile()`` is matched on LangGraph's message.
"""


import logging
import operator
import re
from typing import Annotated, Any, Literal, TypedDict

import pytest

from stategraph.constants import END, START
from stategraph.errors import InvalidUpdateError
from stategraph.graph import StateGraph
from stategraph.types import Send


class State(TypedDict):
    x: Annotated[list, operator.add]


def append(name: str) -> Any:
    def node(state: State) -> dict[str, Any]:
        return {"x": [name]}

    node.__name__ = name
    return node


def exact(message: str) -> str:
    return re.escape(message)


# ---------------------------------------------------------------------------- chaining


def test_every_builder_method_returns_the_builder() -> None:
    builder = StateGraph(State)
    assert builder.add_node("a", append("a")) is builder
    assert builder.add_node("b", append("b")) is builder
    assert builder.add_edge(START, "a") is builder
    assert builder.add_edge(["a"], "b") is builder
    assert builder.add_conditional_edges("b", lambda s: END) is builder
    assert builder.add_sequence([("c", append("c"))]) is builder
    assert builder.set_entry_point("c") is builder
    assert builder.set_finish_point("c") is builder
    assert builder.set_conditional_entry_point(lambda s: "a") is builder


def test_builder_exposes_nodes_edges_branches_and_waiting_edges() -> None:
    def route(state: State) -> str:
        return END

    builder = (
        StateGraph(State)
        .add_node("a", append("a"))
        .add_node("b", append("b"))
        .add_node("c", append("c"))
        .add_edge(START, "a")
        .add_edge(START, "b")
        .add_edge(["a", "b"], "c")
        .add_conditional_edges("c", route)
    )
    assert set(builder.nodes) == {"a", "b", "c"}
    assert builder.edges == {(START, "a"), (START, "b")}
    assert builder.waiting_edges == {(("a", "b"), "c")}
    assert set(builder.branches) == {"c"}
    assert set(builder.branches["c"]) == {"route"}
    assert builder.compiled is False
    builder.compile()
    assert builder.compiled is True


def test_a_node_spec_holds_a_callable_as_func_and_a_graph_as_itself() -> None:
    class Counter:
        def __init__(self) -> None:
            self.calls = 0

        def __call__(self, state: State) -> dict[str, Any]:
            self.calls += 1
            return {}

    counter = Counter()
    inner = StateGraph(State).add_node("x", append("x")).add_edge(START, "x").compile()
    builder = StateGraph(State).add_node("count", counter).add_node("inner", inner)
    builder.add_edge(START, "count").add_edge("count", "inner")
    assert builder.nodes["count"].runnable.func is counter  # as LangGraph's RunnableCallable
    assert builder.nodes["inner"].runnable is inner
    assert builder.compile().invoke({"x": []}) == {"x": ["x"]}
    assert builder.nodes["count"].runnable.func.calls == 1


# ---------------------------------------------------------------------------- add_node


def test_node_name_is_inferred_from_a_function() -> None:
    def my_node(state: State) -> dict[str, Any]:
        return {"x": ["ran"]}

    builder = StateGraph(State).add_node(my_node)
    assert list(builder.nodes) == ["my_node"]


def test_lambda_node_is_named_lambda() -> None:
    builder = StateGraph(State).add_node(lambda s: {"x": ["l"]})
    assert list(builder.nodes) == ["<lambda>"]


def test_callable_object_without_name_is_named_after_its_class() -> None:
    class Doubler:
        def __call__(self, state: dict) -> dict[str, Any]:
            return {"x": ["d"]}

    builder = StateGraph(State).add_node(Doubler())
    assert list(builder.nodes) == ["Doubler"]


def test_compiled_graph_node_is_named_after_the_graph() -> None:
    child = StateGraph(State).add_node("inner", append("inner")).add_edge(START, "inner")
    default = StateGraph(State).add_node(child.compile())
    named = StateGraph(State).add_node(child.compile(name="child"))
    assert list(default.nodes) == ["LangGraph"]
    assert list(named.nodes) == ["child"]


def test_a_named_node_without_an_action_is_rejected() -> None:
    with pytest.raises(Exception):
        StateGraph(State).add_node("a")


def test_duplicate_node_name_is_rejected() -> None:
    builder = StateGraph(State).add_node("a", append("a"))
    with pytest.raises(ValueError, match=exact("Node `a` already present.")):
        builder.add_node("a", append("a"))


@pytest.mark.parametrize("name", [START, END])
def test_start_and_end_are_reserved_node_names(name: str) -> None:
    with pytest.raises(ValueError, match=exact(f"Node `{name}` is reserved.")):
        StateGraph(State).add_node(name, append("x"))


@pytest.mark.parametrize(("name", "character"), [("a|b", "|"), ("a:b", ":")])
def test_namespace_separators_are_not_allowed_in_node_names(name: str, character: str) -> None:
    message = f"'{character}' is a reserved character and is not allowed in the node names."
    with pytest.raises(ValueError, match=exact(message)):
        StateGraph(State).add_node(name, append("x"))


def test_adding_a_node_after_compile_warns_and_leaves_the_compiled_graph_alone(
    caplog: pytest.LogCaptureFixture,
) -> None:
    builder = StateGraph(State).add_node("a", append("a")).add_edge(START, "a")
    graph = builder.compile()
    with caplog.at_level(logging.WARNING):
        builder.add_node("b", append("b"))
        builder.add_edge("a", "b")
    assert any(
        record.levelno == logging.WARNING and "compiled" in record.getMessage()
        for record in caplog.records
    )
    assert graph.invoke({"x": []}) == {"x": ["a"]}


# ---------------------------------------------------------------------------- add_edge


def test_end_cannot_be_the_start_of_an_edge() -> None:
    builder = StateGraph(State).add_node("a", append("a"))
    with pytest.raises(ValueError, match=exact("END cannot be a start node")):
        builder.add_edge(END, "a")


def test_start_cannot_be_the_end_of_an_edge() -> None:
    builder = StateGraph(State).add_node("a", append("a"))
    with pytest.raises(ValueError, match=exact("START cannot be an end node")):
        builder.add_edge("a", START)


def test_single_edge_to_an_unknown_node_is_only_caught_at_compile() -> None:
    builder = StateGraph(State).add_node("a", append("a")).add_edge(START, "a")
    builder.add_edge("a", "ghost")  # no error yet
    with pytest.raises(ValueError, match=exact("Found edge ending at unknown node `ghost`")):
        builder.compile()


def test_waiting_edge_needs_its_sources_to_exist() -> None:
    builder = StateGraph(State).add_node("a", append("a")).add_node("c", append("c"))
    with pytest.raises(ValueError, match=exact("Need to add_node `ghost` first")):
        builder.add_edge(["a", "ghost"], "c")


def test_waiting_edge_needs_its_target_to_exist() -> None:
    builder = StateGraph(State).add_node("a", append("a")).add_node("b", append("b"))
    with pytest.raises(ValueError, match=exact("Need to add_node `ghost` first")):
        builder.add_edge(["a", "b"], "ghost")


def test_waiting_edge_cannot_start_at_end() -> None:
    builder = StateGraph(State).add_node("a", append("a"))
    with pytest.raises(ValueError, match=exact("END cannot be a start node")):
        builder.add_edge(["a", END], "a")


def test_a_waiting_edge_to_end_is_accepted_and_each_source_ends() -> None:
    builder = (
        StateGraph(State)
        .add_node("a", append("a"))
        .add_node("b", append("b"))
        .add_edge(START, "a")
        .add_edge(START, "b")
        .add_edge(["a", "b"], END)
    )
    graph = builder.compile()
    assert graph.invoke({"x": []}) == {"x": ["a", "b"]}
    assert {(e.source, e.target) for e in graph.get_graph().edges} == {
        (START, "a"), (START, "b"), ("a", END), ("b", END),
    }


def test_set_entry_point_and_finish_point_are_edges_from_start_and_to_end() -> None:
    builder = StateGraph(State).add_node("a", append("a")).set_entry_point("a").set_finish_point("a")
    assert builder.edges == {(START, "a"), ("a", END)}
    assert builder.compile().invoke({"x": []}) == {"x": ["a"]}


# ---------------------------------------------------------------------------- add_conditional_edges


def test_two_branches_with_one_name_on_a_source_are_rejected() -> None:
    def route(state: State) -> str:
        return END

    builder = StateGraph(State).add_node("a", append("a")).add_conditional_edges("a", route)
    with pytest.raises(ValueError, match=exact("Branch with name `route` already exists for node `a`")):
        builder.add_conditional_edges("a", route)


def test_lambda_branches_are_named_condition() -> None:
    builder = StateGraph(State).add_node("a", append("a")).add_conditional_edges("a", lambda s: END)
    assert set(builder.branches["a"]) == {"condition"}
    with pytest.raises(ValueError, match=exact("already exists for node `a`")):
        builder.add_conditional_edges("a", lambda s: END)


def test_path_map_translates_the_returned_key() -> None:
    graph = (
        StateGraph(State)
        .add_node("a", append("a"))
        .add_node("b", append("b"))
        .add_conditional_edges(START, lambda s: "go", {"go": "b", "stop": END})
        .compile()
    )
    assert graph.invoke({"x": []}) == {"x": ["b"]}


def test_path_map_list_is_an_identity_map() -> None:
    graph = (
        StateGraph(State)
        .add_node("a", append("a"))
        .add_node("b", append("b"))
        .add_conditional_edges(START, lambda s: "b", ["a", "b"])
        .compile()
    )
    assert graph.invoke({"x": []}) == {"x": ["b"]}


def test_path_returning_a_key_missing_from_the_path_map_raises_key_error() -> None:
    graph = (
        StateGraph(State)
        .add_node("a", append("a"))
        .add_conditional_edges(START, lambda s: "nowhere", {"go": "a"})
        .compile()
    )
    with pytest.raises(KeyError):
        graph.invoke({"x": []})


def test_branch_may_return_a_list_of_names_and_sends() -> None:
    graph = (
        StateGraph(State)
        .add_node("a", append("a"))
        .add_node("b", lambda s: {"x": [f"b{s['x']}"]})
        .add_conditional_edges(START, lambda s: ["a", Send("b", {"x": [1]})])
        .compile()
    )
    assert graph.invoke({"x": []}) == {"x": ["a", "b[1]"]}


def test_branch_returning_end_schedules_nothing() -> None:
    graph = (
        StateGraph(State)
        .add_node("a", append("a"))
        .add_edge(START, "a")
        .add_conditional_edges("a", lambda s: [END])
        .compile()
    )
    assert graph.invoke({"x": []}) == {"x": ["a"]}


@pytest.mark.parametrize("bad", [None, START])
def test_branch_returning_none_or_start_is_not_a_valid_destination(bad: Any) -> None:
    graph = (
        StateGraph(State)
        .add_node("a", append("a"))
        .add_edge(START, "a")
        .add_conditional_edges("a", lambda s: bad)
        .compile()
    )
    with pytest.raises(ValueError, match="Branch did not return a valid destination"):
        graph.invoke({"x": []})


def test_branch_sending_to_end_is_an_invalid_update() -> None:
    graph = (
        StateGraph(State)
        .add_node("a", append("a"))
        .add_edge(START, "a")
        .add_conditional_edges("a", lambda s: Send(END, {}))
        .compile()
    )
    with pytest.raises(InvalidUpdateError, match="Cannot send a packet to the END node"):
        graph.invoke({"x": []})


def test_branch_naming_an_unknown_node_at_runtime_is_ignored() -> None:
    graph = (
        StateGraph(State)
        .add_node("a", append("a"))
        .add_edge(START, "a")
        .add_conditional_edges("a", lambda s: "ghost")
        .compile()
    )
    assert graph.invoke({"x": []}) == {"x": ["a"]}


def test_literal_return_annotation_declares_the_targets_checked_at_compile() -> None:
    def route(state: State) -> Literal["b", "ghost"]:
        return "b"

    builder = (
        StateGraph(State)
        .add_node("a", append("a"))
        .add_node("b", append("b"))
        .add_edge(START, "a")
        .add_conditional_edges("a", route)
    )
    with pytest.raises(ValueError, match=exact("At 'a' node, 'route' branch found unknown target 'ghost'")):
        builder.compile()


def test_path_map_target_must_be_a_node_or_end() -> None:
    def cond(state: State) -> str:
        return "x"

    builder = (
        StateGraph(State)
        .add_node("a", append("a"))
        .add_edge(START, "a")
        .add_conditional_edges("a", cond, {"x": "ghost", "y": END})
    )
    with pytest.raises(ValueError, match=exact("At 'a' node, 'cond' branch found unknown target 'ghost'")):
        builder.compile()


def test_conditional_entry_point_is_a_branch_from_start() -> None:
    graph = (
        StateGraph(State)
        .add_node("a", append("a"))
        .add_node("b", append("b"))
        .set_conditional_entry_point(lambda s: "b")
        .compile()
    )
    assert graph.invoke({"x": []}) == {"x": ["b"]}


# ---------------------------------------------------------------------------- add_sequence


def test_add_sequence_adds_nodes_chained_by_edges() -> None:
    builder = StateGraph(State).add_sequence([append("a"), ("second", append("b")), append("c")])
    assert list(builder.nodes) == ["a", "second", "c"]
    assert builder.edges == {("a", "second"), ("second", "c")}
    graph = builder.add_edge(START, "a").compile()
    assert graph.invoke({"x": []}) == {"x": ["a", "b", "c"]}


def test_add_sequence_requires_a_node() -> None:
    with pytest.raises(ValueError, match=exact("Sequence requires at least one node.")):
        StateGraph(State).add_sequence([])


def test_add_sequence_with_duplicate_names_suggests_name_action_tuples() -> None:
    with pytest.raises(ValueError, match="tuple"):
        StateGraph(State).add_sequence([lambda s: {}, lambda s: {}])


# ---------------------------------------------------------------------------- compile validation


def test_edge_from_an_unknown_node_fails_compile() -> None:
    builder = StateGraph(State).add_node("a", append("a")).add_edge(START, "a").add_edge("ghost", "a")
    with pytest.raises(ValueError, match=exact("Found edge starting at unknown node 'ghost'")):
        builder.compile()


def test_branch_from_an_unknown_node_fails_compile() -> None:
    builder = (
        StateGraph(State)
        .add_node("a", append("a"))
        .add_edge(START, "a")
        .add_conditional_edges("ghost", lambda s: "a")
    )
    with pytest.raises(ValueError, match=exact("Found edge starting at unknown node 'ghost'")):
        builder.compile()


def test_graph_without_an_entry_point_fails_compile() -> None:
    builder = StateGraph(State).add_node("a", append("a"))
    message = "Graph must have an entrypoint: add at least one edge from START to another node"
    with pytest.raises(ValueError, match=exact(message)):
        builder.compile()


def test_conditional_edge_from_start_counts_as_an_entry_point() -> None:
    builder = StateGraph(State).add_node("a", append("a")).add_conditional_edges(START, lambda s: "a")
    assert builder.compile().invoke({"x": []}) == {"x": ["a"]}


def test_declared_destinations_must_exist() -> None:
    builder = (
        StateGraph(State)
        .add_node("a", append("a"), destinations=("ghost",))
        .add_edge(START, "a")
    )
    with pytest.raises(ValueError, match=exact("Found edge ending at unknown node `ghost`")):
        builder.compile()


@pytest.mark.parametrize("kind", ["interrupt_before", "interrupt_after"])
def test_interrupt_nodes_must_exist(kind: str) -> None:
    builder = StateGraph(State).add_node("a", append("a")).add_edge(START, "a")
    with pytest.raises(ValueError, match=exact("Interrupt node `ghost` not found")):
        builder.compile(**{kind: ["ghost"]})


def test_timeout_on_a_sync_node_fails_compile() -> None:
    builder = StateGraph(State).add_node("a", append("a"), timeout=1.0).add_edge(START, "a")
    with pytest.raises(ValueError, match="Node timeouts are only supported for async nodes"):
        builder.compile()


def test_an_invalid_checkpointer_is_a_type_error() -> None:
    builder = StateGraph(State).add_node("a", append("a")).add_edge(START, "a")
    with pytest.raises(TypeError, match="Invalid checkpointer provided"):
        builder.compile(checkpointer="memory")


def test_checkpointer_true_cannot_run_as_a_root_graph() -> None:
    graph = StateGraph(State).add_node("a", append("a")).add_edge(START, "a").compile(checkpointer=True)
    with pytest.raises(RuntimeError, match=exact("checkpointer=True cannot be used for root graphs.")):
        graph.invoke({"x": []})


def test_unreachable_nodes_and_nodes_without_outgoing_edges_are_allowed() -> None:
    graph = (
        StateGraph(State)
        .add_node("a", append("a"))
        .add_node("island", append("island"))
        .add_edge(START, "a")
        .compile()
    )
    assert graph.invoke({"x": []}) == {"x": ["a"]}


def test_compiled_graph_is_named_langgraph_unless_named() -> None:
    builder = StateGraph(State).add_node("a", append("a")).add_edge(START, "a")
    assert builder.compile().get_name() == "LangGraph"
    assert builder.compile(name="mine").get_name() == "mine"


def test_compiled_state_graph_streams_updates_by_default() -> None:
    graph = StateGraph(State).add_node("a", append("a")).add_edge(START, "a").compile()
    assert list(graph.stream({"x": []})) == [{"a": {"x": ["a"]}}]
