"""Which compiled graph a node runs, found without running it: through closures, globals,
attribute paths its code loads, nested functions and ``__wrapped__``."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

import pytest

from stategraph.graph import END, START, StateGraph


class State(TypedDict):
    log: Annotated[list, operator.add]


def leaf(tag: str) -> Any:
    builder = StateGraph(State).add_node(tag, lambda s: {"log": [tag]})
    graph = builder.add_edge(START, tag).add_edge(tag, END).compile()
    graph.name = tag
    return graph


def detected(node: Any) -> Any:
    graph = StateGraph(State).add_node("n", node).add_edge(START, "n").add_edge("n", END).compile()
    subgraphs = graph.nodes["n"].subgraphs
    return subgraphs[0].name if subgraphs else None


class Box:
    def __init__(self, payload: Any) -> None:
        self.payload = payload


class ListWithAttribute(list):
    pass


class Lazy:
    """Touching ``graph`` would run code: detection must not."""

    touched = False

    @property
    def graph(self) -> Any:
        Lazy.touched = True
        return leaf("from_property")


CHAIN = Box(Box(leaf("global_chain")))
GLOBAL_GRAPH = leaf("global")


def through_a_global_chain() -> Any:
    def node(state: State) -> Any:
        return CHAIN.payload.payload.invoke(state)

    return node


def through_a_nested_function() -> Any:
    holder = Box(leaf("nested"))

    def node(state: State) -> Any:
        def inner() -> Any:
            return holder.payload.invoke(state)

        return inner()

    return node


def through_wrapped() -> Any:
    sub = leaf("wrapped")

    def inner(state: State) -> Any:
        return sub.invoke(state)

    def wrapper(state: State) -> Any:
        return {"log": []}

    wrapper.__wrapped__ = inner  # type: ignore[attr-defined]
    return wrapper


def through_a_list_subclass() -> Any:
    holder = ListWithAttribute()
    holder.payload = leaf("list_subclass")  # type: ignore[attr-defined]

    def node(state: State) -> Any:
        return holder.payload.invoke(state)

    return node


def beside_an_empty_cell() -> Any:
    sub = leaf("beside_empty")

    def node(state: State) -> Any:
        return unassigned, sub.invoke(state)  # noqa: F821

    return node
    unassigned = 1  # never runs: its cell stays empty


def a_global_only_a_nested_function_names() -> Any:
    def node(state: State) -> Any:
        def inner() -> Any:
            return GLOBAL_GRAPH.invoke(state)

        return inner()

    return node


def a_path_the_compiler_dropped() -> Any:
    holder = Box(leaf("dropped"))

    def node(state: State) -> Any:
        if False:
            holder.payload.invoke(state)
        return {"log": []}

    return node


@pytest.mark.parametrize(
    "make, expected",
    [
        (through_a_global_chain, "global_chain"),
        (through_a_nested_function, "nested"),
        (through_wrapped, "wrapped"),
        (through_a_list_subclass, "list_subclass"),
        (beside_an_empty_cell, "beside_empty"),
        (a_global_only_a_nested_function_names, None),
        (a_path_the_compiler_dropped, None),
    ],
)
def test_the_subgraph_a_node_reaches_is_found(make: Any, expected: Any) -> None:
    assert detected(make()) == expected


def test_finding_a_subgraph_runs_no_property_of_the_users_objects() -> None:
    holder = Lazy()

    def node(state: State) -> Any:
        return holder.graph.invoke(state)

    assert detected(node) is None
    assert Lazy.touched is False
