"""The first transcript every user sees: a two-node graph with a reducer key."""

import operator
from typing import Annotated, TypedDict

from stategraph.graph import END, START, StateGraph


class State(TypedDict):
    x: Annotated[list, operator.add]
    n: int


def test_chain_appends_through_reducer_and_streams_values_and_updates() -> None:
    graph = (
        StateGraph(State)
        .add_node("a", lambda s: {"x": ["a"], "n": 1})
        .add_node("b", lambda s: {"x": ["b"]})
        .add_edge(START, "a")
        .add_edge("a", "b")
        .add_edge("b", END)
        .compile()
    )
    assert graph.invoke({"x": []}) == {"x": ["a", "b"], "n": 1}
    assert list(graph.stream({"x": []}, stream_mode=["updates", "values"])) == [
        ("values", {"x": []}),
        ("updates", {"a": {"x": ["a"], "n": 1}}),
        ("values", {"x": ["a"], "n": 1}),
        ("updates", {"b": {"x": ["b"]}}),
        ("values", {"x": ["a", "b"], "n": 1}),
    ]
