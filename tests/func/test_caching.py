"""Node and task caching: ``CachePolicy(key_func, ttl)`` with a graph cache (api_spec.md §9.6, §13.2).

Each test runs on both caches (``InMemoryCache``, ``SqliteCache``, on a fake clock) and both
checkpointers (in-memory, SQLite).
"""

from __future__ import annotations

from typing import Any

import pytest
from typing_extensions import TypedDict

from stategraph.func import entrypoint, task
from stategraph.graph import START, StateGraph
from stategraph.types import CachePolicy

from .support import Counter, FakeClock, thread

CACHED = {"__metadata__": {"cached": True}}

# -- graph nodes ------------------------------------------------------------------------------------


class Order(TypedDict, total=False):
    customer: str
    amount: int
    quote: str
    summary: str


def build_quote_graph(
    checkpointer: Any, cache: Any, calls: Counter, policy: CachePolicy | None = None, *, fail_first: bool = False
) -> Any:
    def quote(state: Order) -> Order:
        calls.bump("quote")
        if fail_first and calls["quote"] == 1:
            raise ConnectionError("pricing service down")
        return {"quote": f"{state['customer']}: {state['amount'] * 2}"}

    builder = StateGraph(Order)
    builder.add_node("quote", quote, cache_policy=policy or CachePolicy())
    builder.add_edge(START, "quote")
    return builder.compile(checkpointer=checkpointer, cache=cache)


def test_a_second_run_with_the_same_input_does_not_call_the_node(
    checkpointer: Any, cache: Any, calls: Counter
) -> None:
    graph = build_quote_graph(checkpointer, cache, calls)

    first = list(graph.stream({"customer": "ada", "amount": 5}, thread("a")))
    second = list(graph.stream({"customer": "ada", "amount": 5}, thread("b")))

    assert first == [{"quote": {"quote": "ada: 10"}}]
    assert second == [{"quote": {"quote": "ada: 10"}, **CACHED}]
    assert calls["quote"] == 1
    assert graph.get_state(thread("b")).values == {"customer": "ada", "amount": 5, "quote": "ada: 10"}


def test_a_different_input_calls_the_node_again(checkpointer: Any, cache: Any, calls: Counter) -> None:
    graph = build_quote_graph(checkpointer, cache, calls)

    graph.invoke({"customer": "ada", "amount": 5}, thread("a"))
    result = graph.invoke({"customer": "ada", "amount": 6}, thread("b"))

    assert result["quote"] == "ada: 12"
    assert calls["quote"] == 2


def test_key_func_decides_which_inputs_share_an_entry(checkpointer: Any, cache: Any, calls: Counter) -> None:
    by_customer = CachePolicy(key_func=lambda state: state["customer"])
    graph = build_quote_graph(checkpointer, cache, calls, by_customer)

    graph.invoke({"customer": "ada", "amount": 5}, thread("a"))
    same_customer = list(graph.stream({"customer": "ada", "amount": 99}, thread("b")))
    graph.invoke({"customer": "bob", "amount": 5}, thread("c"))

    assert same_customer == [{"quote": {"quote": "ada: 10"}, **CACHED}]
    assert calls["quote"] == 2


def test_an_entry_expires_after_its_ttl(checkpointer: Any, cache: Any, clock: FakeClock, calls: Counter) -> None:
    graph = build_quote_graph(checkpointer, cache, calls, CachePolicy(ttl=60))
    order: Order = {"customer": "ada", "amount": 5}

    graph.invoke(order, thread("a"))
    clock.advance(59)
    graph.invoke(order, thread("b"))
    assert calls["quote"] == 1

    clock.advance(2)
    assert list(graph.stream(order, thread("c"))) == [{"quote": {"quote": "ada: 10"}}]
    assert calls["quote"] == 2


def test_clear_cache_makes_the_node_run_again(checkpointer: Any, cache: Any, calls: Counter) -> None:
    graph = build_quote_graph(checkpointer, cache, calls)
    order: Order = {"customer": "ada", "amount": 5}

    graph.invoke(order, thread("a"))
    graph.clear_cache()
    graph.invoke(order, thread("b"))

    assert calls["quote"] == 2


def test_clear_cache_of_some_nodes_keeps_the_others(checkpointer: Any, cache: Any, calls: Counter) -> None:
    def quote(state: Order) -> Order:
        calls.bump("quote")
        return {"quote": str(state["amount"] * 2)}

    def summarize(state: Order) -> Order:
        calls.bump("summarize")
        return {"summary": f"{state['customer']} pays {state['quote']}"}

    builder = StateGraph(Order)
    builder.add_node("quote", quote, cache_policy=CachePolicy())
    builder.add_node("summarize", summarize, cache_policy=CachePolicy())
    builder.add_edge(START, "quote")
    builder.add_edge("quote", "summarize")
    graph = builder.compile(checkpointer=checkpointer, cache=cache)
    order: Order = {"customer": "ada", "amount": 5}

    graph.invoke(order, thread("a"))
    graph.clear_cache(nodes=["quote"])
    second = list(graph.stream(order, thread("b")))

    assert second == [{"quote": {"quote": "10"}}, {"summarize": {"summary": "ada pays 10"}, **CACHED}]
    assert (calls["quote"], calls["summarize"]) == (2, 1)


def test_a_failed_node_is_not_cached(checkpointer: Any, cache: Any, calls: Counter) -> None:
    graph = build_quote_graph(checkpointer, cache, calls, fail_first=True)
    order: Order = {"customer": "ada", "amount": 5}

    with pytest.raises(ConnectionError):
        graph.invoke(order, thread("a"))
    assert list(graph.stream(order, thread("b"))) == [{"quote": {"quote": "ada: 10"}}]
    assert list(graph.stream(order, thread("c"))) == [{"quote": {"quote": "ada: 10"}, **CACHED}]
    assert calls["quote"] == 2


async def test_cached_nodes_are_reused_by_the_async_driver(checkpointer: Any, cache: Any, calls: Counter) -> None:
    graph = build_quote_graph(checkpointer, cache, calls)
    order: Order = {"customer": "ada", "amount": 5}

    await graph.ainvoke(order, thread("a"))
    second = [chunk async for chunk in graph.astream(order, thread("b"))]

    assert second == [{"quote": {"quote": "ada: 10"}, **CACHED}]
    assert calls["quote"] == 1


# -- tasks ----------------------------------------------------------------------------------------


class PriceWorkflow:
    """An entrypoint calling the cached task ``price``; counts calls of ``price``."""

    def __init__(self, checkpointer: Any, cache: Any, calls: Counter, policy: CachePolicy) -> None:
        @task(cache_policy=policy)
        def price(item: str, quantity: int = 1, *, note: str = "") -> int:
            calls.bump("price")
            return len(item) * quantity

        @entrypoint(checkpointer=checkpointer, cache=cache)
        def order(request: dict[str, Any]) -> int:
            return price(request["item"], request.get("quantity", 1), note=request.get("note", "")).result()

        self.price = price
        self.order = order


def test_a_cached_task_runs_once_for_equal_arguments(checkpointer: Any, cache: Any, calls: Counter) -> None:
    flow = PriceWorkflow(checkpointer, cache, calls, CachePolicy())

    first = list(flow.order.stream({"item": "apple", "quantity": 2}, thread("a")))
    second = list(flow.order.stream({"item": "apple", "quantity": 2}, thread("b")))

    assert first == [{"price": 10}, {"order": 10}]
    assert second == [{"price": 10, **CACHED}, {"order": 10}]
    assert calls["price"] == 1


def test_a_cached_task_runs_again_for_other_arguments(checkpointer: Any, cache: Any, calls: Counter) -> None:
    flow = PriceWorkflow(checkpointer, cache, calls, CachePolicy())

    flow.order.invoke({"item": "apple", "quantity": 2}, thread("a"))
    assert flow.order.invoke({"item": "apple", "quantity": 3}, thread("b")) == 15
    assert calls["price"] == 2


def test_a_task_key_func_receives_the_call_arguments(checkpointer: Any, cache: Any, calls: Counter) -> None:
    received: list[Any] = []

    def by_item_and_quantity(item: str, quantity: int = 1, *, note: str = "") -> str:
        received.append((item, quantity, note))
        return f"{item}x{quantity}"

    flow = PriceWorkflow(checkpointer, cache, calls, CachePolicy(key_func=by_item_and_quantity))

    flow.order.invoke({"item": "pear", "quantity": 2, "note": "first"}, thread("a"))
    again = list(flow.order.stream({"item": "pear", "quantity": 2, "note": "second"}, thread("b")))

    assert again == [{"price": 8, **CACHED}, {"order": 8}]
    assert calls["price"] == 1
    assert ("pear", 2, "second") in received


def test_task_clear_cache_makes_the_task_run_again(checkpointer: Any, cache: Any, calls: Counter) -> None:
    flow = PriceWorkflow(checkpointer, cache, calls, CachePolicy())

    flow.order.invoke({"item": "fig"}, thread("a"))
    flow.price.clear_cache(cache)
    assert list(flow.order.stream({"item": "fig"}, thread("b"))) == [{"price": 3}, {"order": 3}]
    assert calls["price"] == 2


async def test_task_aclear_cache_makes_the_task_run_again(checkpointer: Any, cache: Any, calls: Counter) -> None:
    flow = PriceWorkflow(checkpointer, cache, calls, CachePolicy())

    await flow.order.ainvoke({"item": "fig"}, thread("a"))
    await flow.price.aclear_cache(cache)
    await flow.order.ainvoke({"item": "fig"}, thread("b"))
    assert calls["price"] == 2


def test_a_task_entry_expires_after_its_ttl(checkpointer: Any, cache: Any, clock: FakeClock, calls: Counter) -> None:
    flow = PriceWorkflow(checkpointer, cache, calls, CachePolicy(ttl=10))

    flow.order.invoke({"item": "kiwi"}, thread("a"))
    clock.advance(9)
    flow.order.invoke({"item": "kiwi"}, thread("b"))
    assert calls["price"] == 1

    clock.advance(1)
    flow.order.invoke({"item": "kiwi"}, thread("c"))
    assert calls["price"] == 2


async def test_an_async_task_is_cached(checkpointer: Any, cache: Any, calls: Counter) -> None:
    @task(cache_policy=CachePolicy())
    async def lookup(sku: str) -> str:
        calls.bump("lookup")
        return sku.upper()

    @entrypoint(checkpointer=checkpointer, cache=cache)
    async def main(sku: str) -> str:
        return await lookup(sku)

    await main.ainvoke("ab-1", thread("a"))
    second = [chunk async for chunk in main.astream("ab-1", thread("b"))]

    assert second == [{"lookup": "AB-1", **CACHED}, {"main": "AB-1"}]
    assert calls["lookup"] == 1
