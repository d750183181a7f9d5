"""``@task``: calls that run as durable tasks of the calling run (api_spec.md §8.2, §13.1).

Every test runs on the in-memory and the SQLite checkpointer (the ``checkpointer`` fixture).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest
from typing_extensions import TypedDict

from stategraph.errors import SerializationError
from stategraph.func import entrypoint, task
from stategraph.graph import START, StateGraph
from stategraph.types import Command, RetryPolicy, interrupt

from .support import Counter, thread

REPO = Path(__file__).resolve().parents[2]
NO_WAIT = RetryPolicy(initial_interval=0.0, jitter=False, max_attempts=3)

# -- futures ------------------------------------------------------------------------------------


def test_a_task_call_returns_a_future_resolved_with_result(checkpointer: Any) -> None:
    futures: list[Any] = []

    @task
    def add(a: int, b: int) -> int:
        return a + b

    @entrypoint(checkpointer=checkpointer)
    def main(_: Any) -> int:
        future = add(2, b=3)
        futures.append(future)
        return int(future.result())

    assert main.invoke({}, thread()) == 5
    assert futures[0].done()


async def test_a_task_call_in_an_async_entrypoint_is_awaitable(checkpointer: Any) -> None:
    @task
    async def add(a: int, b: int) -> int:
        return a + b

    @task
    def times(a: int, b: int) -> int:
        return a * b

    @entrypoint(checkpointer=checkpointer)
    async def main(_: Any) -> list[int]:
        return [await add(2, 3), await times(2, 3)]

    assert await main.ainvoke({}, thread()) == [5, 6]


def test_the_task_name_defaults_to_the_function_name_and_can_be_given(checkpointer: Any) -> None:
    @task(name="renamed")
    def original(x: int) -> int:
        return x

    @entrypoint(checkpointer=checkpointer)
    def main(x: int) -> int:
        return original(x).result()

    assert list(main.stream(1, thread())) == [{"renamed": 1}, {"main": 1}]


# -- concurrency ----------------------------------------------------------------------------------


class ConcurrencyProbe:
    """Counts how many calls are inside ``visit`` at once; each waits until all have arrived."""

    def __init__(self, parties: int) -> None:
        self.lock = threading.Lock()
        self.active = 0
        self.max_active = 0
        self.barrier = threading.Barrier(parties, timeout=10)

    def enter(self) -> None:
        with self.lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)

    def leave(self) -> None:
        with self.lock:
            self.active -= 1

    def visit(self) -> None:
        self.enter()
        try:
            # Each call waits for the others: only calls running concurrently get past this.
            self.barrier.wait()
        finally:
            self.leave()


def test_sync_tasks_started_together_run_concurrently(checkpointer: Any) -> None:
    probe = ConcurrencyProbe(3)

    @task
    def work(i: int) -> int:
        probe.visit()
        return i

    @entrypoint(checkpointer=checkpointer)
    def fan_out(n: int) -> list[int]:
        futures = [work(i) for i in range(n)]
        return [f.result() for f in futures]

    assert fan_out.invoke(3, thread()) == [0, 1, 2]
    assert probe.max_active == 3


async def test_async_tasks_started_together_run_concurrently(checkpointer: Any) -> None:
    lock = asyncio.Lock()
    state = {"active": 0, "max": 0}
    everyone_in = asyncio.Event()

    @task
    async def work(i: int) -> int:
        async with lock:
            state["active"] += 1
            state["max"] = max(state["max"], state["active"])
            if state["active"] == 3:
                everyone_in.set()
        await asyncio.wait_for(everyone_in.wait(), timeout=10)
        async with lock:
            state["active"] -= 1
        return i

    @entrypoint(checkpointer=checkpointer)
    async def fan_out(n: int) -> list[int]:
        futures = [work(i) for i in range(n)]
        return list(await asyncio.gather(*futures))

    assert await fan_out.ainvoke(3, thread()) == [0, 1, 2]
    assert state["max"] == 3


async def test_sync_tasks_started_together_from_an_async_entrypoint_run_concurrently(checkpointer: Any) -> None:
    probe = ConcurrencyProbe(3)

    @task
    def work(i: int) -> int:
        probe.visit()
        return i

    @entrypoint(checkpointer=checkpointer)
    async def fan_out(n: int) -> list[int]:
        return list(await asyncio.gather(*[work(i) for i in range(n)]))

    assert await fan_out.ainvoke(3, thread()) == [0, 1, 2]
    assert probe.max_active == 3


# -- results are durable: resume after an interrupt or a failure ---------------------------------------


def test_tasks_finished_before_an_interrupt_do_not_run_again_on_resume(
    checkpointer: Any, calls: Counter
) -> None:
    @task
    def before(x: int) -> int:
        calls.bump("before")
        return x + 1

    @task
    def after(x: int) -> int:
        calls.bump("after")
        return x * 2

    @entrypoint(checkpointer=checkpointer)
    def flow(x: int) -> dict[str, Any]:
        y = before(x).result()
        approved = interrupt({"y": y})
        return {"y": y, "approved": approved, "z": after(y).result()}

    flow.invoke(1, thread())
    assert (calls["before"], calls["after"]) == (1, 0)

    assert flow.invoke(Command(resume=True), thread()) == {"y": 2, "approved": True, "z": 4}
    assert (calls["before"], calls["after"]) == (1, 1)


class Checkout:
    """``reserve`` then ``charge``; ``charge`` fails while ``broken`` is set."""

    def __init__(self, checkpointer: Any, calls: Counter, *, is_async: bool) -> None:
        self.broken = True

        @task
        def reserve(order: str) -> str:
            calls.bump("reserve")
            return f"reserved {order}"

        @task
        def charge(order: str) -> str:
            calls.bump("charge")
            if self.broken:
                raise ConnectionRefusedError("payment service down")
            return f"charged {order}"

        if is_async:

            @entrypoint(checkpointer=checkpointer)
            async def checkout(order: str) -> list[str]:
                return [await reserve(order), await charge(order)]

        else:

            @entrypoint(checkpointer=checkpointer)
            def checkout(order: str) -> list[str]:
                return [reserve(order).result(), charge(order).result()]

        self.graph = checkout


def test_after_a_failure_a_rerun_reuses_the_results_of_tasks_that_finished(
    checkpointer: Any, calls: Counter
) -> None:
    checkout = Checkout(checkpointer, calls, is_async=False)

    with pytest.raises(ConnectionRefusedError, match="payment service down"):
        checkout.graph.invoke("o-1", thread())
    assert (calls["reserve"], calls["charge"]) == (1, 1)

    checkout.broken = False
    assert checkout.graph.invoke(None, thread()) == ["reserved o-1", "charged o-1"]
    assert (calls["reserve"], calls["charge"]) == (1, 2)


async def test_after_a_failure_an_async_rerun_reuses_the_results_of_tasks_that_finished(
    checkpointer: Any, calls: Counter
) -> None:
    checkout = Checkout(checkpointer, calls, is_async=True)

    with pytest.raises(ConnectionRefusedError, match="payment service down"):
        await checkout.graph.ainvoke("o-1", thread())
    assert (calls["reserve"], calls["charge"]) == (1, 1)

    checkout.broken = False
    assert await checkout.graph.ainvoke(None, thread()) == ["reserved o-1", "charged o-1"]
    assert (calls["reserve"], calls["charge"]) == (1, 2)


CRASHING_WORKFLOW = """
import os, sys
from stategraph.checkpoint.sqlite import SqliteSaver
from stategraph.func import entrypoint, task

db, log, mode = sys.argv[1:4]

def note(line):
    with open(log, "a") as f:
        f.write(line + "\\n")

@task
def reserve(order):
    note("reserve")
    return "reserved " + order

@task
def charge(order):
    note("charge")
    if mode == "crash":
        os._exit(17)  # the process dies: no exception, no cleanup
    return "charged " + order

with SqliteSaver.from_conn_string(db) as saver:
    @entrypoint(checkpointer=saver)
    def checkout(order):
        return [reserve(order).result(), charge(order).result()]

    config = {"configurable": {"thread_id": "order-1"}}
    print(checkout.invoke("o-1" if mode == "crash" else None, config))
"""


def test_after_a_process_crash_a_rerun_reuses_the_results_of_tasks_that_finished(tmp_path: Path) -> None:
    script = tmp_path / "checkout.py"
    script.write_text(textwrap.dedent(CRASHING_WORKFLOW))
    db, log = tmp_path / "c.sqlite", tmp_path / "log.txt"

    def run(mode: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(script), str(db), str(log), mode],
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=str(REPO),
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )

    crashed = run("crash")
    assert crashed.returncode == 17, crashed.stderr
    assert log.read_text().split() == ["reserve", "charge"]

    resumed = run("resume")
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.strip() == "['reserved o-1', 'charged o-1']"
    assert log.read_text().split() == ["reserve", "charge", "charge"]


def test_a_task_can_interrupt_and_receives_the_resume_value(checkpointer: Any, calls: Counter) -> None:
    @task
    def prepare(x: int) -> int:
        calls.bump("prepare")
        return x

    @task
    def confirm(amount: int) -> str:
        calls.bump("confirm")
        answer = interrupt(f"pay {amount}?")
        return f"{amount}: {answer}"

    @entrypoint(checkpointer=checkpointer)
    def pay(x: int) -> str:
        return confirm(prepare(x).result()).result()

    first = pay.invoke(40, thread())
    assert [i.value for i in first["__interrupt__"]] == ["pay 40?"]

    assert pay.invoke(Command(resume="ok"), thread()) == "40: ok"
    assert calls["prepare"] == 1
    assert calls["confirm"] == 2  # the interrupted task runs again, up to its interrupt()


def test_sibling_tasks_of_an_interrupted_task_do_not_run_again(checkpointer: Any, calls: Counter) -> None:
    @task
    def review(i: int) -> Any:
        calls.bump(f"review {i}")
        if i == 2:
            # Still running when its caller is interrupted: the run must wait for it and save it.
            threading.Event().wait(0.2)
        return interrupt(f"check item {i}") if i == 1 else f"item {i} ok"

    @entrypoint(checkpointer=checkpointer)
    def review_all(n: int) -> list[Any]:
        futures = [review(i) for i in range(n)]
        return [f.result() for f in futures]

    first = review_all.invoke(3, thread())
    assert [i.value for i in first["__interrupt__"]] == ["check item 1"]

    assert review_all.invoke(Command(resume="looks fine"), thread()) == ["item 0 ok", "looks fine", "item 2 ok"]
    assert [calls[f"review {i}"] for i in range(3)] == [1, 2, 1]


async def test_async_sibling_tasks_still_running_at_an_interrupt_are_awaited_and_saved(
    checkpointer: Any, calls: Counter
) -> None:
    @task
    async def review(i: int) -> Any:
        calls.bump(f"review {i}")
        if i == 2:
            await asyncio.sleep(0.2)
        return interrupt(f"check item {i}") if i == 1 else f"item {i} ok"

    @entrypoint(checkpointer=checkpointer)
    async def review_all(n: int) -> list[Any]:
        futures = [review(i) for i in range(n)]
        return [await f for f in futures]

    first = await review_all.ainvoke(3, thread())
    assert [i.value for i in first["__interrupt__"]] == ["check item 1"]
    assert calls["review 2"] == 1

    assert await review_all.ainvoke(Command(resume="fine"), thread()) == ["item 0 ok", "fine", "item 2 ok"]
    assert [calls[f"review {i}"] for i in range(3)] == [1, 2, 1]


def test_each_task_runs_once_across_two_interrupts(checkpointer: Any, calls: Counter) -> None:
    @task
    def step(name: str) -> str:
        calls.bump(name)
        return name

    @entrypoint(checkpointer=checkpointer)
    def two_questions(_: Any) -> list[str]:
        first = step("one").result()
        answer_1 = interrupt("q1")
        second = step("two").result()
        answer_2 = interrupt("q2")
        return [first, answer_1, second, answer_2, step("three").result()]

    assert [i.value for i in two_questions.invoke({}, thread())["__interrupt__"]] == ["q1"]
    assert [i.value for i in two_questions.invoke(Command(resume="A"), thread())["__interrupt__"]] == ["q2"]
    assert two_questions.invoke(Command(resume="B"), thread()) == ["one", "A", "two", "B", "three"]
    assert (calls["one"], calls["two"], calls["three"]) == (1, 1, 1)


def test_the_entrypoint_can_handle_a_task_error(checkpointer: Any) -> None:
    @task
    def parse(text: str) -> int:
        return int(text)

    @entrypoint(checkpointer=checkpointer)
    def parse_or_zero(text: str) -> int:
        try:
            return parse(text).result()  # type: ignore[no-any-return]
        except ValueError:
            return 0

    assert parse_or_zero.invoke("12", thread("a")) == 12
    assert parse_or_zero.invoke("twelve", thread("b")) == 0


# -- retries --------------------------------------------------------------------------------------


def test_retry_policy_retries_a_failing_task(checkpointer: Any, calls: Counter) -> None:
    @task(retry_policy=NO_WAIT)
    def flaky(x: int) -> int:
        calls.bump("flaky")
        if calls["flaky"] < 3:
            raise ConnectionError("try again")
        return x

    @entrypoint(checkpointer=checkpointer)
    def main(x: int) -> int:
        return flaky(x).result()

    assert main.invoke(7, thread()) == 7
    assert calls["flaky"] == 3


def test_retry_policy_gives_up_after_max_attempts(checkpointer: Any, calls: Counter) -> None:
    @task(retry_policy=RetryPolicy(initial_interval=0.0, jitter=False, max_attempts=2))
    def down(x: int) -> int:
        calls.bump("down")
        raise ConnectionError("still down")

    @entrypoint(checkpointer=checkpointer)
    def main(x: int) -> int:
        return down(x).result()

    with pytest.raises(ConnectionError, match="still down"):
        main.invoke(1, thread())
    assert calls["down"] == 2


def test_errors_the_retry_policy_does_not_match_are_not_retried(checkpointer: Any, calls: Counter) -> None:
    @task(retry_policy=NO_WAIT)
    def invalid(x: int) -> int:
        calls.bump("invalid")
        raise ValueError("bad input")

    @entrypoint(checkpointer=checkpointer)
    def main(x: int) -> int:
        return invalid(x).result()

    with pytest.raises(ValueError, match="bad input"):
        main.invoke(1, thread())
    assert calls["invalid"] == 1


async def test_retry_policy_retries_an_async_task(checkpointer: Any, calls: Counter) -> None:
    @task(retry_policy=RetryPolicy(initial_interval=0.0, jitter=False, retry_on=KeyError))
    async def flaky(x: int) -> int:
        calls.bump("flaky")
        if calls["flaky"] == 1:
            raise KeyError("first attempt")
        return x

    @entrypoint(checkpointer=checkpointer)
    async def main(x: int) -> int:
        return await flaky(x)

    assert await main.ainvoke(3, thread()) == 3
    assert calls["flaky"] == 2


# -- tasks in graph nodes -------------------------------------------------------------------------


class Numbers(TypedDict):
    n: int


def test_a_task_can_be_called_from_a_state_graph_node(checkpointer: Any, calls: Counter) -> None:
    @task
    def square(x: int) -> int:
        calls.bump("square")
        return x * x

    def node(state: Numbers) -> Numbers:
        return {"n": square(state["n"]).result()}

    builder = StateGraph(Numbers)
    builder.add_node("node", node)
    builder.add_edge(START, "node")
    graph = builder.compile(checkpointer=checkpointer)

    assert graph.invoke({"n": 4}, thread()) == {"n": 16}
    assert calls["square"] == 1


# -- misuse ------------------------------------------------------------------------------------------


def test_calling_a_task_outside_an_entrypoint_raises_naming_the_task() -> None:
    @task
    def lonely_step(x: int) -> int:
        return x

    with pytest.raises(RuntimeError, match=r"^Called get_config outside of a runnable context\. Task 'lonely_step'"):
        lonely_step(1)


def test_an_async_task_cannot_be_called_from_a_sync_entrypoint(checkpointer: Any) -> None:
    @task
    async def fetch(x: int) -> int:
        return x

    @entrypoint(checkpointer=checkpointer)
    def main(x: int) -> int:
        return fetch(x).result()  # type: ignore[no-any-return]

    with pytest.raises(RuntimeError, match="In an sync context async tasks cannot be called"):
        main.invoke(1, thread())


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_generator_tasks_are_rejected(kind: str) -> None:
    def numbers(n: int) -> Any:
        yield n

    async def anumbers(n: int) -> Any:
        yield n

    with pytest.raises(NotImplementedError, match="Generators are not supported in the Functional API"):
        task(numbers if kind == "sync" else anumbers)


# -- arguments and results must be storable ------------------------------------------------------------


class NotRegistered:
    """A plain class the serializer does not know."""


def test_an_argument_the_checkpointer_cannot_store_fails_naming_the_task(checkpointer: Any) -> None:
    class LocalThing:
        pass

    @task
    def consume(value: Any) -> str:
        return "consumed"

    @entrypoint(checkpointer=checkpointer)
    def main(_: Any) -> str:
        return consume(LocalThing()).result()  # type: ignore[no-any-return]

    with pytest.raises(SerializationError, match="consume") as raised:
        main.invoke({}, thread())
    assert isinstance(raised.value, TypeError)


def test_a_lambda_argument_fails_naming_the_task(checkpointer: Any) -> None:
    @task
    def apply(fn: Any) -> int:
        return int(fn())

    @entrypoint(checkpointer=checkpointer)
    def main(_: Any) -> int:
        return apply(lambda: 1).result()  # type: ignore[no-any-return]

    with pytest.raises(SerializationError, match="apply"):
        main.invoke({}, thread())


def test_a_result_the_checkpointer_cannot_store_fails_naming_the_task(checkpointer: Any, calls: Counter) -> None:
    @task
    def produce(x: int) -> Any:
        calls.bump("produce")
        return NotRegistered()

    @entrypoint(checkpointer=checkpointer)
    def main(x: int) -> Any:
        return produce(x).result()

    with pytest.raises(SerializationError, match="produce"):
        main.invoke(1, thread())


async def test_an_async_task_result_the_checkpointer_cannot_store_fails_naming_the_task(
    checkpointer: Any,
) -> None:
    @task
    async def produce_async(x: int) -> Any:
        return lambda: x

    @entrypoint(checkpointer=checkpointer)
    async def main(x: int) -> Any:
        return await produce_async(x)

    with pytest.raises(SerializationError, match="produce_async"):
        await main.ainvoke(1, thread())


def test_task_calls_appear_in_the_tasks_stream() -> None:
    @task
    def double(x: int) -> int:
        return 2 * x

    @entrypoint()
    def flow(x: int) -> int:
        return double(x).result() + 1

    events = list(flow.stream(3, stream_mode="tasks"))
    calls = [e for e in events if e["name"] == "double"]
    assert calls[0] == {"id": calls[0]["id"], "name": "double", "input": ((3,), {}), "triggers": ("__pregel_push",)}
    assert calls[1] == {"id": calls[0]["id"], "name": "double", "error": None, "result": {"__return__": 6}, "interrupts": []}
    assert events[-1]["name"] == "flow" and events[-1]["result"] == {"__end__": 7}


def test_arguments_a_caller_gives_override_what_the_engine_injects() -> None:
    from stategraph.store.memory import InMemoryStore

    seen: list[tuple[Any, Any]] = []

    @task
    def record(store: Any, writer: Any, label: str) -> None:
        seen.append((label, store))

    store = InMemoryStore()

    @entrypoint(store=store)
    def flow(inputs: Any) -> str:
        record(None, None, "given positionally").result()
        record(store="mine", writer=None, label="given by name").result()
        record(label="left out").result()
        return "ok"

    assert flow.invoke({}) == "ok"
    assert seen == [("given positionally", None), ("given by name", "mine"), ("left out", store)]


def test_a_call_whose_saved_result_is_reused_shows_in_the_debug_stream_without_a_result(
    checkpointer: Any,
) -> None:
    @task
    def lookup() -> bool:
        return False

    @entrypoint(checkpointer=checkpointer)
    def flow(inputs: Any) -> Any:
        lookup().result()
        return interrupt("more?")

    list(flow.stream({}, thread()))
    events = [(e["type"], e["payload"]["name"]) for e in flow.stream(Command(resume="y"), thread(), stream_mode="debug") if e["type"] != "checkpoint"]
    assert events == [("task", "flow"), ("task", "lookup"), ("task_result", "flow")]


def test_sync_tasks_of_an_async_run_save_through_an_async_only_saver(tmp_path: Path) -> None:
    """The saver's own loop is not running here (made by another asyncio.run), so its sync
    methods could never complete: the run saves the calls through its async methods."""
    from stategraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    @task
    def add(value: str) -> str:
        return value + "+"

    class AsyncOnly(AsyncSqliteSaver):
        def put_writes(self, *args: Any, **kwargs: Any) -> None:
            raise AssertionError("a sync save from an async run would wait on a loop that never runs")

    manager = AsyncOnly.from_conn_string(str(tmp_path / "calls.db"))
    saver_loop = asyncio.new_event_loop()  # stays open, never runs again
    saver = saver_loop.run_until_complete(manager.__aenter__())

    @entrypoint(checkpointer=saver)
    def flow(value: str) -> str:
        return add(add(value).result()).result()

    async def run() -> list[Any]:
        return [c async for c in flow.astream("v", thread(), durability="sync")]

    try:
        assert asyncio.run(asyncio.wait_for(run(), 20)) == [{"add": "v+"}, {"add": "v++"}, {"flow": "v++"}]
    finally:
        saver_loop.run_until_complete(manager.__aexit__(None, None, None))
        saver_loop.close()
