"""A graph composed with LangChain's LCEL: ``graph | step``, ``graph.pipe``, ``graph.map()``."""

from __future__ import annotations

import asyncio
import operator
from typing import Annotated, Any, TypedDict

import pytest
from langchain_core.runnables import RunnableLambda, RunnablePassthrough

from stategraph.graph import START, StateGraph


class Count(TypedDict):
    n: int
    seen: Annotated[list[str], operator.add]


def doubler() -> Any:
    def double(state: Count) -> dict[str, Any]:
        return {"n": state["n"] * 2, "seen": ["double"]}

    return StateGraph(Count).add_node("double", double).add_edge(START, "double").compile()


def test_a_graph_piped_into_a_step_runs_and_streams_its_own_chunks() -> None:
    chain = doubler() | RunnablePassthrough()

    assert chain.invoke({"n": 2, "seen": []}) == {"n": 4, "seen": ["double"]}
    assert list(chain.stream({"n": 2, "seen": []})) == [{"double": {"n": 4, "seen": ["double"]}}]
    assert doubler().pipe(RunnableLambda(lambda out: out["n"] + 1)).invoke({"n": 5, "seen": []}) == 11


def test_async_composition_awaits_the_graph() -> None:
    async def run() -> tuple[int, list[Any]]:
        value = await (doubler() | RunnableLambda(lambda out: out["n"])).ainvoke({"n": 3, "seen": []})
        chunks = [c async for c in (doubler() | RunnablePassthrough()).astream({"n": 1, "seen": []})]
        return value, chunks

    assert asyncio.run(run()) == (6, [{"double": {"n": 2, "seen": ["double"]}}])


def test_a_mapped_graph_inside_a_node_runs_once_per_item() -> None:
    inner = doubler().map()

    class Outer(TypedDict):
        numbers: list[int]

    def each(state: Outer) -> dict[str, Any]:
        return {"numbers": [out["n"] for out in inner.invoke([{"n": n, "seen": []} for n in state["numbers"]])]}

    outer = StateGraph(Outer).add_node("each", each).add_edge(START, "each").compile()

    assert outer.invoke({"numbers": [1, 2, 3]}) == {"numbers": [2, 4, 6]}


def test_a_node_given_as_a_dict_runs_its_steps_side_by_side() -> None:
    class Pair(TypedDict, total=False):
        n: int
        doubled: int
        text: str

    graph = (
        StateGraph(Pair)
        .add_node("both", {"doubled": lambda s: s["n"] * 2, "text": lambda s: str(s["n"])})
        .add_edge(START, "both")
        .compile()
    )

    assert graph.invoke({"n": 21}) == {"n": 21, "doubled": 42, "text": "21"}


@pytest.mark.filterwarnings("ignore:astream_log is deprecated")  # LangChain's, not ours
def test_astream_log_reports_the_run_and_its_final_output() -> None:
    async def run() -> Any:
        final = None
        async for patch in doubler().astream_log({"n": 4, "seen": []}):
            final = patch if final is None else final + patch
        return final.state

    state = asyncio.run(run())
    assert state["final_output"] == {"double": {"n": 8, "seen": ["double"]}}  # as LangGraph's
    assert "double" in state["logs"]
