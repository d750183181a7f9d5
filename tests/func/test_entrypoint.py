"""``@entrypoint``: a function run as a durable graph (api_spec.md §8.1, Appendix A.8).

Every test runs on the in-memory and the SQLite checkpointer (the ``checkpointer`` fixture).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Optional

import pytest
from pydantic import BaseModel

from langchain_core.runnables import RunnableConfig
from stategraph.config import get_store, get_stream_writer
from stategraph.errors import ResumeError
from stategraph.func import entrypoint, task
from stategraph.runtime import Runtime
from stategraph.store.memory import InMemoryStore
from stategraph.types import Command, Interrupt, interrupt

from .support import Counter, thread

# -- running: sync and async functions under every driver ----------------------------------


def make_greeter(checkpointer: Any, calls: Counter, *, is_async: bool) -> Any:
    @task
    def shout(text: str) -> str:
        calls.bump("shout")
        return text.upper()

    if is_async:

        @entrypoint(checkpointer=checkpointer)
        async def greet(name: str) -> str:
            return await shout(f"hello {name}")

    else:

        @entrypoint(checkpointer=checkpointer)
        def greet(name: str) -> str:
            return shout(f"hello {name}").result()

    return greet


@pytest.mark.parametrize("driver", ["invoke", "stream"])
def test_sync_entrypoint_runs_under_the_sync_drivers(checkpointer: Any, calls: Counter, driver: str) -> None:
    greet = make_greeter(checkpointer, calls, is_async=False)

    if driver == "invoke":
        assert greet.invoke("ada", thread()) == "HELLO ADA"
    else:
        assert list(greet.stream("ada", thread())) == [{"shout": "HELLO ADA"}, {"greet": "HELLO ADA"}]
    assert calls["shout"] == 1
    assert greet.get_state(thread()).values == "HELLO ADA"


@pytest.mark.parametrize("is_async", [False, True], ids=["sync-function", "async-function"])
@pytest.mark.parametrize("driver", ["ainvoke", "astream"])
async def test_entrypoint_runs_under_the_async_drivers(
    checkpointer: Any, calls: Counter, is_async: bool, driver: str
) -> None:
    greet = make_greeter(checkpointer, calls, is_async=is_async)

    if driver == "ainvoke":
        assert await greet.ainvoke("ada", thread()) == "HELLO ADA"
    else:
        chunks = [chunk async for chunk in greet.astream("ada", thread())]
        assert chunks == [{"shout": "HELLO ADA"}, {"greet": "HELLO ADA"}]
    assert calls["shout"] == 1
    assert (await greet.aget_state(thread())).values == "HELLO ADA"


async def test_sync_invoke_works_while_an_event_loop_is_running(checkpointer: Any, calls: Counter) -> None:
    # As in a notebook cell: plain invoke() called by code that runs inside an event loop.
    greet = make_greeter(checkpointer, calls, is_async=False)

    assert greet.invoke("ada", thread()) == "HELLO ADA"
    assert calls["shout"] == 1


def test_the_graph_is_langgraph_and_its_node_is_named_after_the_function(checkpointer: Any, calls: Counter) -> None:
    greet = make_greeter(checkpointer, calls, is_async=False)

    assert greet.name == greet.get_name() == "LangGraph"
    assert list(greet.nodes) == ["greet"]
    assert list(greet.stream("x", thread()))[-1] == {"greet": "HELLO X"}
    drawing = greet.get_graph()
    assert list(drawing.nodes) == ["greet", "__start__", "__end__"]
    assert [(e.source, e.target) for e in drawing.edges] == [("__start__", "greet"), ("greet", "__end__")]
    assert greet.get_input_jsonschema() == {"title": "LangGraphInput", "type": "string"}
    assert greet.get_output_jsonschema() == {"title": "LangGraphOutput", "type": "string"}


def test_final_takes_keywords_only() -> None:
    with pytest.raises(TypeError):
        entrypoint.final(1, 2)  # type: ignore[misc]
    assert entrypoint.final(value=1, save=2).save == 2


def test_stream_mode_values_shows_only_the_return_value(checkpointer: Any, calls: Counter) -> None:
    greet = make_greeter(checkpointer, calls, is_async=False)

    assert list(greet.stream("bo", thread(), stream_mode="values")) == ["HELLO BO"]


# -- previous and entrypoint.final --------------------------------------------------------------


def test_previous_is_what_the_last_run_on_the_thread_returned(checkpointer: Any) -> None:
    seen: list[Any] = []

    @entrypoint(checkpointer=checkpointer)
    def accumulate(number: int, *, previous: Any = None) -> int:
        seen.append(previous)
        return number + (previous or 0)

    assert accumulate.invoke(1, thread("a")) == 1
    assert accumulate.invoke(2, thread("a")) == 3
    assert accumulate.invoke(10, thread("b")) == 10
    assert seen == [None, 1, None]


async def test_previous_reaches_an_async_entrypoint(checkpointer: Any) -> None:
    seen: list[Any] = []

    @entrypoint(checkpointer=checkpointer)
    async def accumulate(number: int, *, previous: Any = None) -> int:
        seen.append(previous)
        return number + (previous or 0)

    assert await accumulate.ainvoke(5, thread()) == 5
    assert await accumulate.ainvoke(1, thread()) == 6
    assert seen == [None, 5]


def test_final_returns_value_and_saves_save_for_the_next_run(checkpointer: Any) -> None:
    seen: list[Any] = []

    @entrypoint(checkpointer=checkpointer)
    def count_words(text: str, *, previous: Any = None) -> Any:
        seen.append(previous)
        total = (previous or 0) + len(text.split())
        return entrypoint.final(value=f"{total} words so far", save=total)

    assert count_words.invoke("one two", thread()) == "2 words so far"
    assert count_words.get_state(thread()).values == "2 words so far"
    assert count_words.invoke("three", thread()) == "3 words so far"
    assert seen == [None, 2]


def test_final_can_be_streamed_as_the_entrypoint_update(checkpointer: Any) -> None:
    @entrypoint(checkpointer=checkpointer)
    def wf(value: int) -> Any:
        return entrypoint.final(value={"shown": value}, save="hidden")

    assert list(wf.stream(1, thread())) == [{"wf": {"shown": 1}}]


# -- interrupts -----------------------------------------------------------------------------------


def test_interrupt_pauses_the_run_and_command_resume_answers_it(checkpointer: Any) -> None:
    @entrypoint(checkpointer=checkpointer)
    def ask(question: str) -> str:
        answer = interrupt({"question": question})
        return f"{question} -> {answer}"

    first = ask.invoke("ship it?", thread())
    assert list(first) == ["__interrupt__"]
    [pending] = first["__interrupt__"]
    assert isinstance(pending, Interrupt)
    assert pending.value == {"question": "ship it?"}
    assert ask.get_state(thread()).interrupts == (pending,)
    assert ask.get_state(thread()).next == ("ask",)

    assert ask.invoke(Command(resume="yes"), thread()) == "ship it? -> yes"
    assert ask.get_state(thread()).interrupts == ()
    assert ask.get_state(thread()).next == ()


async def test_interrupt_in_an_async_entrypoint_resumes_with_ainvoke(checkpointer: Any) -> None:
    @entrypoint(checkpointer=checkpointer)
    async def ask(question: str) -> str:
        answer = interrupt(question)
        return f"{question} -> {answer}"

    first = await ask.ainvoke("ok?", thread())
    assert [i.value for i in first["__interrupt__"]] == ["ok?"]
    assert await ask.ainvoke(Command(resume="fine"), thread()) == "ok? -> fine"


def test_get_state_values_is_none_until_a_run_completes(checkpointer: Any) -> None:
    @entrypoint(checkpointer=checkpointer)
    def ask(question: str) -> str:
        return str(interrupt(question))

    ask.invoke("q", thread())
    assert ask.get_state(thread()).values is None

    ask.invoke(Command(resume="answer"), thread())
    assert ask.get_state(thread()).values == "answer"


def test_an_interrupted_new_run_still_outputs_the_previous_return_value(checkpointer: Any) -> None:
    @entrypoint(checkpointer=checkpointer)
    def ask(question: str) -> dict[str, Any]:
        return {"answer": interrupt(question)}

    ask.invoke("first", thread())
    assert ask.invoke(Command(resume="one"), thread()) == {"answer": "one"}

    second = ask.invoke("second", thread())
    assert second["answer"] == "one"
    assert [i.value for i in second["__interrupt__"]] == ["second"]


def test_command_resume_on_a_thread_without_pending_interrupt_raises(checkpointer: Any) -> None:
    @entrypoint(checkpointer=checkpointer)
    def echo(value: Any) -> Any:
        return value

    with pytest.raises(ResumeError, match="has no pending interrupt"):
        echo.invoke(Command(resume="hello"), thread("never-ran"))

    echo.invoke(1, thread("done"))
    with pytest.raises(ResumeError, match="has no pending interrupt"):
        echo.invoke(Command(resume="hello"), thread("done"))
    assert echo.get_state(thread("done")).values == 1


# -- Appendix A.8 ----------------------------------------------------------------------------------


def make_a8_workflow(checkpointer: Any, calls: Counter, seen_previous: list[Any], *, is_async: bool) -> Any:
    @task
    def double(x: int) -> int:
        calls.bump("double")
        return 2 * x

    if is_async:

        @entrypoint(checkpointer=checkpointer)
        async def wf(inputs: dict[str, Any], *, previous: Any = None) -> Any:
            seen_previous.append(previous)
            vals = [await double(i) for i in range(3)]
            ans = interrupt({"vals": vals})
            return entrypoint.final(value={"vals": vals, "ans": ans}, save=sum(vals))

    else:

        @entrypoint(checkpointer=checkpointer)
        def wf(inputs: dict[str, Any], *, previous: Any = None) -> Any:
            seen_previous.append(previous)
            vals = [double(i).result() for i in range(3)]
            ans = interrupt({"vals": vals})
            return entrypoint.final(value={"vals": vals, "ans": ans}, save=sum(vals))

    return wf


def check_a8_transcript(first: list[Any], resumed: list[Any]) -> None:
    assert first[:3] == [{"double": 0}, {"double": 2}, {"double": 4}]
    assert len(first) == 4
    assert list(first[3]) == ["__interrupt__"]
    pending = first[3]["__interrupt__"]
    assert isinstance(pending, tuple)
    assert [i.value for i in pending] == [{"vals": [0, 2, 4]}]
    assert resumed == [{"wf": {"vals": [0, 2, 4], "ans": "yes"}}]


def test_appendix_a8_transcript_sync(checkpointer: Any, calls: Counter) -> None:
    seen_previous: list[Any] = []
    wf = make_a8_workflow(checkpointer, calls, seen_previous, is_async=False)

    first = list(wf.stream({}, thread(), stream_mode="updates"))
    resumed = list(wf.stream(Command(resume="yes"), thread(), stream_mode="updates"))

    check_a8_transcript(first, resumed)
    assert calls["double"] == 3
    assert wf.get_state(thread()).values == {"vals": [0, 2, 4], "ans": "yes"}

    list(wf.stream({}, thread()))
    assert seen_previous[-1] == 6


async def test_appendix_a8_transcript_async(checkpointer: Any, calls: Counter) -> None:
    seen_previous: list[Any] = []
    wf = make_a8_workflow(checkpointer, calls, seen_previous, is_async=True)

    first = [chunk async for chunk in wf.astream({}, thread(), stream_mode="updates")]
    resumed = [chunk async for chunk in wf.astream(Command(resume="yes"), thread(), stream_mode="updates")]

    check_a8_transcript(first, resumed)
    assert calls["double"] == 3

    await wf.ainvoke({}, thread())
    assert seen_previous[-1] == 6


# -- injected values: config, store, context ---------------------------------------------------------


def test_config_is_injected(checkpointer: Any) -> None:
    @entrypoint(checkpointer=checkpointer)
    def which_thread(_: Any, *, config: RunnableConfig) -> str:
        return str(config["configurable"]["thread_id"])

    assert which_thread.invoke(None or {}, thread("t-42")) == "t-42"


def test_store_is_injected_and_reachable_from_tasks(checkpointer: Any) -> None:
    store = InMemoryStore()

    @task
    def remember(fact: str) -> None:
        get_store().put(("facts",), fact, {"text": fact})

    @entrypoint(checkpointer=checkpointer, store=store)
    def learn(fact: str, *, store: Any) -> list[str]:
        remember(fact).result()
        return sorted(item.key for item in store.search(("facts",)))

    assert learn.invoke("sky is blue", thread("a")) == ["sky is blue"]
    assert learn.invoke("grass is green", thread("b")) == ["grass is green", "sky is blue"]
    assert store.get(("facts",), "sky is blue").value == {"text": "sky is blue"}


@dataclass(frozen=True)
class UserContext:
    user: str


def test_context_schema_reaches_the_entrypoint_as_runtime_context(checkpointer: Any) -> None:
    @entrypoint(checkpointer=checkpointer, context_schema=UserContext)
    def hello(greeting: str, *, runtime: Runtime[UserContext]) -> str:
        return f"{greeting}, {runtime.context.user}"

    assert hello.invoke("hi", thread(), context=UserContext(user="ada")) == "hi, ada"


# -- streaming ------------------------------------------------------------------------------------


def test_updates_show_task_results_then_the_return_value(checkpointer: Any) -> None:
    @task
    def first(x: int) -> int:
        return x + 1

    @task
    def second(x: int) -> int:
        return x * 10

    @entrypoint(checkpointer=checkpointer)
    def pipeline(x: int) -> int:
        return second(first(x).result()).result()

    assert list(pipeline.stream(1, thread())) == [{"first": 2}, {"second": 20}, {"pipeline": 20}]


def test_custom_stream_carries_writes_from_tasks_and_the_entrypoint(checkpointer: Any) -> None:
    @task
    def step(x: int) -> int:
        get_stream_writer()({"task": x})
        return x

    @entrypoint(checkpointer=checkpointer)
    def main(x: int, *, writer: Any) -> int:
        writer("entrypoint start")
        step(x).result()
        get_stream_writer()("entrypoint end")
        return x

    assert list(main.stream(7, thread(), stream_mode="custom")) == [
        "entrypoint start",
        {"task": 7},
        "entrypoint end",
    ]


async def test_custom_stream_from_an_async_entrypoint(checkpointer: Any) -> None:
    @task
    async def step(x: int) -> int:
        get_stream_writer()({"task": x})
        return x

    @entrypoint(checkpointer=checkpointer)
    async def main(x: int, *, writer: Any) -> int:
        writer("start")
        await step(x)
        return x

    chunks = [c async for c in main.astream(3, thread(), stream_mode=["custom", "updates"])]
    assert chunks == [
        ("custom", "start"),
        ("custom", {"task": 3}),
        ("updates", {"step": 3}),
        ("updates", {"main": 3}),
    ]


def test_messages_stream_shows_chat_model_tokens_from_a_task(checkpointer: Any) -> None:
    from langchain_core.messages import AIMessageChunk, HumanMessage

    from stategraph.testing import ScriptedChatModel

    model = ScriptedChatModel(responses=["Refund approved for order 17"])

    @task
    def call_model(question: str) -> str:
        return str(model.invoke([HumanMessage(question)]).content)

    @entrypoint(checkpointer=checkpointer)
    def assistant(question: str) -> str:
        return call_model(question).result()

    chunks = list(assistant.stream("refund?", thread(), stream_mode="messages"))

    assert len(chunks) > 1
    for message, metadata in chunks:
        assert isinstance(message, AIMessageChunk)
        assert metadata["langgraph_node"] == "call_model"
    assert "".join(str(m.content) for m, _ in chunks) == "Refund approved for order 17"


# -- definition errors ------------------------------------------------------------------------------


def test_an_entrypoint_without_parameters_is_rejected() -> None:
    def no_input() -> int:
        return 1

    with pytest.raises(ValueError, match="Entrypoint function must have at least one parameter"):
        entrypoint()(no_input)


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_generator_entrypoints_are_rejected(kind: str) -> None:
    def numbers(n: int) -> Any:
        yield n

    async def anumbers(n: int) -> Any:
        yield n
        await asyncio.sleep(0)

    with pytest.raises(NotImplementedError, match="Generators are not supported in the Functional API"):
        entrypoint()(numbers if kind == "sync" else anumbers)


def test_final_annotations_give_the_output_schema() -> None:
    @entrypoint()
    def untyped(inputs: Any, *, previous: Any) -> entrypoint.final:
        return entrypoint.final(value="a", save=1)

    @entrypoint()
    def typed(inputs: Any, *, previous: Any) -> entrypoint.final[str, int]:
        return entrypoint.final(value="a", save=1)

    assert untyped.get_output_jsonschema() == {"title": "LangGraphOutput"}
    assert typed.get_output_jsonschema() == {"title": "LangGraphOutput", "type": "string"}
    with pytest.raises(TypeError):

        @entrypoint()
        def half_typed(inputs: Any, *, previous: Any) -> entrypoint.final[int]:  # type: ignore[type-arg]
            return entrypoint.final(value=1, save=1)


def test_a_partial_task_is_named_after_its_function() -> None:
    import functools

    def tag(label: str, value: str) -> str:
        return f"{value}|{label}"

    tagged = task(functools.partial(tag, "x"))

    @entrypoint()
    def flow(value: str) -> str:
        return tagged(value).result()

    assert list(flow.stream("v", stream_mode="updates")) == [{"tag": "v|x"}, {"flow": "v|x"}]


def test_task_updates_are_streamed_while_the_entrypoint_runs() -> None:
    import threading

    first_seen = threading.Event()

    @task
    def step(n: int) -> int:
        return n

    @entrypoint()
    def flow(inputs: Any) -> int:
        step(1).result()
        # The first task's update reaches the reader before the entrypoint goes on.
        assert first_seen.wait(5), "the first task's update was not streamed before the entrypoint returned"
        return step(2).result()

    chunks = []
    for chunk in flow.stream({}, stream_mode="updates"):
        chunks.append(chunk)
        if chunk == {"step": 1}:
            first_seen.set()
    assert chunks == [{"step": 1}, {"step": 2}, {"flow": 2}]


class Order(BaseModel):  # a class no graph schema names
    item: str
    note: Optional[str] = None


class Receipt(BaseModel):
    text: str


def test_the_classes_an_entrypoint_and_its_tasks_annotate_may_be_checkpointed() -> None:
    from stategraph.checkpoint.memory import InMemorySaver

    @task
    def price(order: Order) -> Receipt:
        return Receipt(text=f"{order.item}: 3 EUR")

    @entrypoint(checkpointer=InMemorySaver())
    def shop(order: Order) -> Order:
        receipt = price(order).result()
        note = interrupt("note?")
        return Order(item=receipt.text, note=note)

    config = {"configurable": {"thread_id": "t"}}
    stopped = shop.invoke(Order(item="tea"), config)
    assert [i.value for i in stopped["__interrupt__"]] == ["note?"]
    assert shop.invoke(Command(resume="thanks"), config) == Order(item="tea: 3 EUR", note="thanks")
