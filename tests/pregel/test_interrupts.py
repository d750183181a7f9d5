"""Human-in-the-loop: interrupt(), resume, breakpoints (api_spec §7.1, §7.2, §7.7, A.3–A.5)."""

from __future__ import annotations

import asyncio
import operator
from typing import Annotated, Any, Callable, TypedDict

import pytest
import typing_extensions

from stategraph.errors import EmptyInputError, InvalidUpdateError, ResumeError
from stategraph.graph import END, START, StateGraph
from stategraph.types import Command, Interrupt, interrupt


class S(TypedDict):
    x: Annotated[list, operator.add]


def thread(name: str = "t") -> dict[str, Any]:
    return {"configurable": {"thread_id": name}}


def appender(name: str) -> Callable[[S], dict[str, list[str]]]:
    return lambda state: {"x": [name]}


def two_question_graph(saver: Any, log: list[str]) -> Any:
    def ask(state: S) -> dict[str, list[str]]:
        log.append("ask-start")
        first = interrupt("q1")
        second = interrupt({"q": 2})
        return {"x": [first, second]}

    return StateGraph(S).add_node(ask).add_edge(START, "ask").compile(checkpointer=saver)


def test_two_interrupts_in_one_node_are_answered_in_order_and_rerun_the_node(checkpointer: Any) -> None:
    log: list[str] = []
    graph = two_question_graph(checkpointer, log)
    config = thread()

    first = graph.invoke({"x": []}, config)
    assert first["x"] == []
    [pending] = first["__interrupt__"]
    assert isinstance(pending, Interrupt) and pending.value == "q1" and len(pending.id) == 32

    state = graph.get_state(config)
    assert state.next == ("ask",)
    assert state.interrupts == (pending,)
    assert state.metadata is not None
    assert (state.metadata["source"], state.metadata["step"], state.metadata["parents"]) == ("loop", 0, {})

    second = list(graph.stream(Command(resume="A"), config, stream_mode="updates"))
    [[next_pending]] = [chunk["__interrupt__"] for chunk in second]
    # Each interrupt of a task has its own id: the namespace's, then namespace|answers-so-far.
    assert next_pending == Interrupt(value={"q": 2}, id=next_pending.id)
    assert next_pending.id != pending.id and len(next_pending.id) == 32
    assert graph.get_state(config).interrupts == (next_pending,)

    final = list(graph.stream(Command(resume="B"), config, stream_mode=["updates", "values"]))
    assert final == [
        ("values", {"x": []}),
        ("updates", {"ask": {"x": ["A", "B"]}}),
        ("values", {"x": ["A", "B"]}),
    ]
    assert log == ["ask-start"] * 3
    assert graph.get_state(config).next == ()


def test_parallel_interrupts_resume_together_by_id_and_finished_sibling_runs_once(checkpointer: Any) -> None:
    ran: list[str] = []

    def ok(state: S) -> dict[str, list[str]]:
        ran.append("ok")
        return {"x": ["ok"]}

    graph = (
        StateGraph(S)
        .add_node("p", lambda s: {"x": ["p=" + interrupt("q-p")]})
        .add_node("q", lambda s: {"x": ["q=" + interrupt("q-q")]})
        .add_node("ok", ok)
        .add_edge(START, "p")
        .add_edge(START, "q")
        .add_edge(START, "ok")
        .compile(checkpointer=checkpointer)
    )
    config = thread()
    result = graph.invoke({"x": []}, config)
    assert result["x"] == ["ok"]
    by_value = {i.value: i.id for i in result["__interrupt__"]}
    assert set(by_value) == {"q-p", "q-q"} and by_value["q-p"] != by_value["q-q"]

    state = graph.get_state(config)
    assert state.next == ("p", "q")
    assert {t.name: t.result for t in state.tasks}["ok"] == {"x": ["ok"]}

    with pytest.raises(RuntimeError, match="When there are multiple pending interrupts, you must specify the interrupt id"):
        graph.invoke(Command(resume="X"), config)

    final = graph.invoke(Command(resume={by_value["q-p"]: "ans-q-p", by_value["q-q"]: "ans-q-q"}), config)
    assert final == {"x": ["ok", "p=ans-q-p", "q=ans-q-q"]}
    assert ran == ["ok"]


def breakpoint_graph(saver: Any) -> Any:
    return (
        StateGraph(S)
        .add_node("a", appender("a"))
        .add_node("b", appender("b"))
        .add_node("c", appender("c"))
        .add_edge(START, "a")
        .add_edge("a", "b")
        .add_edge("b", "c")
        .compile(checkpointer=saver, interrupt_before=["b"], interrupt_after=["b"])
    )


def test_static_breakpoints_stop_before_and_after_and_resume_with_none(checkpointer: Any) -> None:
    graph = breakpoint_graph(checkpointer)
    config = thread()
    assert list(graph.stream({"x": []}, config, stream_mode="updates")) == [
        {"a": {"x": ["a"]}},
        {"__interrupt__": ()},
    ]
    state = graph.get_state(config)
    assert (state.next, state.interrupts) == (("b",), ())

    assert graph.invoke(None, config) == {"x": ["a", "b"]}
    assert graph.get_state(config).next == ("c",)
    assert graph.invoke(None, config) == {"x": ["a", "b", "c"]}
    assert graph.get_state(config).next == ()


def test_update_state_infers_the_last_node_and_as_node_schedules_its_successors(checkpointer: Any) -> None:
    graph = breakpoint_graph(checkpointer)
    config = thread()
    graph.invoke({"x": []}, config)
    graph.invoke(None, config)
    graph.invoke(None, config)

    graph.update_state(config, {"x": ["manual"]})
    state = graph.get_state(config)
    assert state.metadata is not None and (state.metadata["source"], state.metadata["step"]) == ("update", 4)
    assert state.next == ()
    assert state.values == {"x": ["a", "b", "c", "manual"]}

    graph.update_state(config, {"x": ["as_a"]}, as_node="a")
    assert graph.get_state(config).next == ("b",)
    history = [(h.metadata["source"], h.metadata["step"]) for h in graph.get_state_history(config)]
    assert history == [
        ("update", 5),
        ("update", 4),
        ("loop", 3),
        ("loop", 2),
        ("loop", 1),
        ("loop", 0),
        ("input", -1),
    ]


def test_update_state_reports_ambiguity_and_unknown_nodes(checkpointer: Any) -> None:
    graph = (
        StateGraph(S)
        .add_node("a", appender("a"))
        .add_node("b", appender("b"))
        .add_edge(START, "a")
        .add_edge(START, "b")
        .compile(checkpointer=checkpointer)
    )
    config = thread()
    graph.invoke({"x": []}, config)
    with pytest.raises(InvalidUpdateError, match="Ambiguous update, specify as_node"):
        graph.update_state(config, {"x": ["?"]})
    with pytest.raises(InvalidUpdateError, match="Node nope does not exist"):
        graph.update_state(config, {"x": ["?"]}, as_node="nope")


def test_new_input_abandons_the_interrupted_task(checkpointer: Any) -> None:
    graph = two_question_graph(checkpointer, [])
    config = thread()
    graph.invoke({"x": []}, config)
    assert graph.get_state(config).next == ("ask",)
    result = graph.invoke({"x": ["fresh"]}, config)
    assert result["x"] == ["fresh"]
    assert result["__interrupt__"][0].value == "q1"


def test_resume_errors_name_the_problem(checkpointer: Any) -> None:
    graph = StateGraph(S).add_node("a", appender("a")).add_edge(START, "a").compile(checkpointer=checkpointer)
    config = thread()
    graph.invoke({"x": []}, config)
    with pytest.raises(ResumeError, match="has no pending interrupt"):
        graph.invoke(Command(resume="late"), config)
    with pytest.raises(EmptyInputError, match="Received empty Command input"):
        graph.invoke(Command(), config)
    with pytest.raises(EmptyInputError, match="Received no input for __start__"):
        graph.invoke(None, thread("never-used"))


def test_interrupt_and_resume_need_a_checkpointer() -> None:
    graph = two_question_graph(None, [])
    with pytest.raises(RuntimeError, match="Cannot use Command\\(resume=...\\) without checkpointer"):
        graph.invoke(Command(resume="x"))


def test_checkpointer_requires_a_thread_id(checkpointer: Any) -> None:
    graph = two_question_graph(checkpointer, [])
    with pytest.raises(ValueError, match="Checkpointer requires one or more of the following 'configurable' keys"):
        graph.invoke({"x": []})


def test_interrupt_inside_a_subgraph_resumes_without_rerunning_finished_subgraph_nodes(checkpointer: Any) -> None:
    calls: list[str] = []

    def before(state: S) -> dict[str, list[str]]:
        calls.append("before")
        return {"x": ["before"]}

    def ask(state: S) -> dict[str, list[str]]:
        calls.append("ask")
        return {"x": ["ans=" + interrupt("q?")]}

    child = StateGraph(S).add_node(before).add_node(ask).add_edge(START, "before").add_edge("before", "ask").compile()
    graph = StateGraph(S).add_node("child", child).add_edge(START, "child").compile(checkpointer=checkpointer)
    config = thread()
    first = graph.invoke({"x": []}, config)
    assert first["__interrupt__"][0].value == "q?"

    state = graph.get_state(config, subgraphs=True)
    assert state.next == ("child",)
    assert state.tasks[0].state.next == ("ask",)
    assert graph.invoke(Command(resume="yes"), config) == {"x": ["before", "ans=yes"]}
    assert calls == ["before", "ask", "ask"]


def test_interrupt_inside_a_tool_like_helper_called_by_a_node_propagates(checkpointer: Any) -> None:
    def helper(query: str) -> str:
        return interrupt({"query": query})["data"]

    graph = (
        StateGraph(S)
        .add_node("n", lambda s: {"x": [helper("help?")]})
        .add_edge(START, "n")
        .compile(checkpointer=checkpointer)
    )
    config = thread()
    assert graph.invoke({"x": []}, config)["__interrupt__"][0].value == {"query": "help?"}
    assert graph.invoke(Command(resume={"data": "human says hi"}), config) == {"x": ["human says hi"]}


def test_async_interrupt_and_resume(checkpointer: Any) -> None:
    async def ask(state: S) -> dict[str, list[str]]:
        return {"x": [interrupt("q")]}

    graph = StateGraph(S).add_node(ask).add_edge(START, "ask").compile(checkpointer=checkpointer)
    config = thread()

    async def run() -> tuple[Any, Any]:
        first = await graph.ainvoke({"x": []}, config)
        chunks = [c async for c in graph.astream(Command(resume="async"), config, stream_mode="values")]
        return first, chunks

    first, chunks = asyncio.run(run())
    assert first["__interrupt__"][0].value == "q"
    assert chunks == [{"x": []}, {"x": ["async"]}]


def test_values_stream_shows_the_interrupt_after_successful_siblings(checkpointer: Any) -> None:
    graph = (
        StateGraph(S)
        .add_node("ok", appender("ok"))
        .add_node("ask", lambda s: {"x": [interrupt("why?")]})
        .add_edge(START, "ok")
        .add_edge(START, "ask")
        .compile(checkpointer=checkpointer)
    )
    chunks = list(graph.stream({"x": []}, thread(), stream_mode="values"))
    assert chunks[0] == {"x": []}
    assert chunks[-1]["x"] == ["ok"]
    assert chunks[-1]["__interrupt__"][0].value == "why?"


def test_goto_command_input_steers_a_thread(checkpointer: Any) -> None:
    graph = (
        StateGraph(S)
        .add_node("a", appender("a"))
        .add_node("b", appender("b"))
        .add_edge(START, "a")
        .add_edge("a", END)
        .compile(checkpointer=checkpointer)
    )
    config = thread()
    graph.invoke({"x": []}, config)
    assert graph.invoke(Command(goto="b", update={"x": ["steer"]}), config) == {"x": ["a", "steer", "b"]}


def test_the_second_interrupt_of_a_node_is_answered_by_its_own_id(checkpointer: Any) -> None:
    log: list[str] = []
    graph = two_question_graph(checkpointer, log)
    config = thread("by-id")
    [first] = graph.invoke({"x": []}, config)["__interrupt__"]
    [second] = graph.invoke(Command(resume={first.id: "A"}), config)["__interrupt__"]
    assert second.value == {"q": 2}
    assert graph.invoke(Command(resume={second.id: "B"}), config) == {"x": ["A", "B"]}


class Decision(typing_extensions.TypedDict):  # pydantic needs this one before Python 3.12
    approve: bool
    note: str


def schema_graph(saver: Any, seen: list[Any], schema: Any) -> Any:
    def review(state: S) -> dict[str, list[str]]:
        answer = interrupt("approve?", response_schema=schema)
        seen.append(answer)
        return {"x": [repr(answer)]}

    return StateGraph(S).add_node(review).add_edge(START, "review").compile(checkpointer=saver)


def test_a_response_schema_is_surfaced_as_json_schema_and_validates_the_answer(checkpointer: Any) -> None:
    from pydantic import TypeAdapter, ValidationError

    from stategraph.errors import is_invalid_resume

    seen: list[Any] = []
    graph = schema_graph(checkpointer, seen, Decision)
    config = thread("schema")
    [pending] = graph.invoke({"x": []}, config)["__interrupt__"]
    assert pending.response_schema == TypeAdapter(Decision).json_schema()
    assert pending.response_schema["required"] == ["approve", "note"]

    with pytest.raises(ValidationError) as invalid:
        graph.invoke(Command(resume={"approve": "maybe"}), config)
    assert is_invalid_resume(invalid.value)
    assert graph.get_state(config).interrupts == (pending,)  # still waiting for a valid answer
    assert seen == []

    out = graph.invoke(Command(resume={"approve": "true", "note": "ok"}), config)
    assert seen == [{"approve": True, "note": "ok"}]  # validated and converted
    assert out == {"x": ["{'approve': True, 'note': 'ok'}"]}


def test_a_json_schema_dict_is_carried_as_given_and_not_enforced(checkpointer: Any) -> None:
    seen: list[Any] = []
    schema = {"type": "string", "enum": ["yes", "no"]}
    graph = schema_graph(checkpointer, seen, schema)
    config = thread("dict-schema")
    [pending] = graph.invoke({"x": []}, config)["__interrupt__"]
    assert pending.response_schema == schema
    assert repr(pending).endswith(f"response_schema={schema!r})")
    graph.invoke(Command(resume="perhaps"), config)
    assert seen == ["perhaps"]


def test_a_resume_at_a_checkpoint_the_thread_moved_past_reruns_its_finished_tasks(checkpointer: Any) -> None:
    """As LangGraph: only a resume at the thread's latest checkpoint hands finished tasks'
    writes back; addressed at an older one, they run again (the answer is still used)."""

    class Flagged(TypedDict, total=False):
        x: Annotated[list, operator.add]
        flag: bool

    runs: list[str] = []

    def done(state: Flagged) -> dict[str, Any]:
        runs.append("done")
        return {"x": ["flagged" if state.get("flag") else "plain"]}

    def ask(state: Flagged) -> dict[str, Any]:
        return {"x": [interrupt("ok?")]}

    graph = (
        StateGraph(Flagged)
        .add_node("done", done)
        .add_node("ask", ask)
        .add_edge(START, "done")
        .add_edge(START, "ask")
        .compile(checkpointer=checkpointer)
    )
    graph.invoke({"x": []}, thread())
    paused = graph.get_state(thread()).config
    graph.update_state(thread(), None)  # the thread moves past the paused checkpoint
    result = graph.invoke(Command(resume="yes", update={"flag": True}), paused)
    assert runs == ["done", "done"]
    assert sorted(result["x"]) == ["flagged", "yes"]


def test_a_class_named_by_a_response_schema_can_be_kept_in_checkpointed_state(checkpointer: Any) -> None:
    """The validated answer is an instance of the program's own class; storing it in state
    must not fail as an unregistered type (the program named it, as a state schema would)."""
    import dataclasses

    @dataclasses.dataclass
    class Verdict:
        approved: bool

    class AnyState(TypedDict):
        answer: Any

    def review(state: AnyState) -> dict[str, Any]:
        return {"answer": interrupt("approve?", response_schema=Verdict)}

    graph = (
        StateGraph(AnyState).add_node(review).add_edge(START, "review").compile(checkpointer=checkpointer)
    )
    config = thread("verdict")
    graph.invoke({"answer": None}, config)
    assert graph.invoke(Command(resume={"approved": True}), config) == {"answer": Verdict(approved=True)}
    assert graph.get_state(config).values == {"answer": Verdict(approved=True)}


def test_an_invalid_answer_lets_the_siblings_answered_in_the_same_resume_finish(checkpointer: Any) -> None:
    """Async, as sync: an invalid answer is raised after the other tasks finish, so a sibling
    whose side effect already happened is not cancelled and run (with its effect) again."""
    from pydantic import ValidationError

    sent: list[str] = []

    async def send(state: S) -> dict[str, list[str]]:
        interrupt("send?", response_schema=Decision)
        sent.append("email")
        await asyncio.sleep(0.05)
        return {"x": ["sent"]}

    async def check(state: S) -> dict[str, list[str]]:
        interrupt("check?", response_schema=Decision)
        return {"x": ["checked"]}

    graph = (
        StateGraph(S)
        .add_node(send)
        .add_node(check)
        .add_edge(START, "send")
        .add_edge(START, "check")
        .compile(checkpointer=checkpointer)
    )
    config = thread("siblings")

    async def scenario() -> None:
        await graph.ainvoke({"x": []}, config)
        ids = {i.value: i.id for i in (await graph.aget_state(config)).interrupts}
        answers = {ids["send?"]: {"approve": True, "note": ""}, ids["check?"]: {"approve": "nope"}}
        with pytest.raises(ValidationError):
            await graph.ainvoke(Command(resume=answers), config)
        assert [i.value for i in (await graph.aget_state(config)).interrupts] == ["check?"]
        done = await graph.ainvoke(Command(resume={ids["check?"]: {"approve": False, "note": ""}}), config)
        assert sorted(done["x"]) == ["checked", "sent"]

    asyncio.run(scenario())
    assert sent == ["email"]


def parallel_questions(saver: Any) -> Any:
    def a(state: S) -> dict[str, list[str]]:
        return {"x": [f"a:{interrupt('a?')}"]}

    def b(state: S) -> dict[str, list[str]]:
        return {"x": [f"b:{interrupt('b?')}"]}

    return (
        StateGraph(S).add_node(a).add_node(b).add_edge(START, "a").add_edge(START, "b")
        .compile(checkpointer=saver)
    )


def strict(name: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": name, "__pregel_strict_resume": True}}


def test_strict_resume_refuses_what_matches_no_pending_interrupt_before_writing(checkpointer: Any) -> None:
    from stategraph.errors import UnknownInterruptError

    graph = parallel_questions(checkpointer)
    config = strict("strict")
    graph.invoke({"x": []}, config)
    ids = {i.value: i.id for i in graph.get_state(config).interrupts}
    pending = tuple(sorted(ids.values()))
    saved = len(list(checkpointer.list(config)))

    with pytest.raises(UnknownInterruptError, match="Unknown or already-consumed interrupt: f+") as unknown:
        graph.invoke(Command(resume={"f" * 32: "x"}), config)
    assert (unknown.value.reason, unknown.value.interrupt_ids, unknown.value.pending_ids) == (
        "not_pending", ("f" * 32,), pending,
    )
    with pytest.raises(UnknownInterruptError, match="names no interrupt") as empty:
        graph.invoke(Command(resume={}), config)
    assert (empty.value.reason, empty.value.pending_ids) == ("empty_map", pending)
    with pytest.raises(UnknownInterruptError, match="multiple pending interrupts") as ambiguous:
        graph.invoke(Command(resume="yes"), config)
    assert ambiguous.value.reason == "ambiguous"
    assert len(list(checkpointer.list(config))) == saved  # nothing was written

    graph.invoke(Command(resume={ids["a?"]: "yes"}), config)
    with pytest.raises(UnknownInterruptError, match=ids["a?"]) as answered:
        graph.invoke(Command(resume={ids["a?"]: "again"}), config)
    assert answered.value.pending_ids == (ids["b?"],)
    assert sorted(graph.invoke(Command(resume={ids["b?"]: "no"}), config)["x"]) == ["a:yes", "b:no"]


def test_strict_resume_does_not_check_a_map_addressed_to_a_superseded_checkpoint(checkpointer: Any) -> None:
    graph = parallel_questions(checkpointer)
    config = strict("superseded")
    graph.invoke({"x": []}, config)
    paused = graph.get_state(config).config
    ids = {i.value: i.id for i in graph.get_state(config).interrupts}
    graph.invoke(Command(resume={ids["a?"]: "yes", ids["b?"]: "no"}), config)

    at_paused = {"configurable": {**config["configurable"], **paused["configurable"]}}
    # Not refused in strict mode: the ids are those of the tasks this checkpoint reruns (the
    # output is LangGraph's: the state as the thread's own resume left it).
    again = graph.invoke(Command(resume={ids["a?"]: "again", ids["b?"]: "again"}), at_paused)
    assert sorted(again["x"]) == ["a:yes", "b:no"]


@pytest.mark.parametrize("durability", ["sync", "exit"])
def test_each_resume_with_an_update_keeps_every_earlier_update(checkpointer: Any, durability: str) -> None:
    """Command(resume=..., update=...) while the node asks again: the updates pile up on the
    same checkpoint, each applied once, and the state shows them before the run goes on."""

    def ask_three_times(state: S) -> dict[str, list[str]]:
        answers = [interrupt(str(question)) for question in range(1, 4)]
        return {"x": ["a:" + "".join(answers)]}

    graph = StateGraph(S).add_node("a", ask_three_times).add_edge(START, "a").compile(checkpointer=checkpointer)
    config = thread("updates")
    graph.invoke({"x": []}, config, durability=durability)
    graph.invoke(Command(resume="1", update={"x": ["u1"]}), config, durability=durability)
    graph.invoke(Command(resume="2", update={"x": ["u2"]}), config, durability=durability)
    assert graph.get_state(config).values == {"x": ["u1", "u2"]}
    result = graph.invoke(Command(resume="3", update={"x": ["u3"]}), config, durability=durability)
    assert result == {"x": ["u1", "u2", "u3", "a:123"]}
    assert graph.get_state(config).values == result


def test_an_answered_node_that_writes_nothing_counts_as_finished(checkpointer: Any) -> None:
    calls = {"a": 0, "b": 0}

    def a(state: S) -> None:
        calls["a"] += 1
        interrupt("A")

    def b(state: S) -> dict[str, list[str]]:
        calls["b"] += 1
        return {"x": [f"b:{interrupt('B')}"]}

    graph = (
        StateGraph(S).add_node("a", a).add_node("b", b).add_edge(START, "a").add_edge(START, "b")
        .compile(checkpointer=checkpointer)
    )
    config = thread("falsy")
    graph.invoke({"x": []}, config)
    ids = {i.value: i.id for i in graph.get_state(config).interrupts}
    graph.invoke(Command(resume={ids["A"]: "yes"}), config)
    snapshot = graph.get_state(config)
    assert [i.value for i in snapshot.interrupts] == ["B"]
    assert snapshot.next == ("b",)
    graph.invoke(Command(resume={ids["B"]: "ok"}), config)
    assert calls == {"a": 2, "b": 3}  # a is not run again once it finished
    assert graph.get_state(config).values == {"x": ["b:ok"]}


def test_a_plain_answer_is_refused_while_a_second_question_and_another_task_wait(checkpointer: Any) -> None:
    from stategraph.errors import ResumeError

    def a(state: S) -> dict[str, list[str]]:
        return {"x": [interrupt("A1") + interrupt("A2")]}

    def b(state: S) -> dict[str, list[str]]:
        return {"x": [interrupt("B")]}

    graph = (
        StateGraph(S).add_node("a", a).add_node("b", b).add_edge(START, "a").add_edge(START, "b")
        .compile(checkpointer=checkpointer)
    )
    config = thread("second-question")
    graph.invoke({"x": []}, config)
    first = {i.value: i.id for i in graph.get_state(config).interrupts}["A1"]
    graph.invoke(Command(resume={first: "one"}), config)
    assert sorted(i.value for i in graph.get_state(config).interrupts) == ["A2", "B"]
    with pytest.raises(ResumeError, match="multiple pending interrupts"):
        graph.invoke(Command(resume="ambiguous"), config)


def test_a_resume_map_naming_no_pending_interrupt_runs_on_and_leaves_them_waiting(
    checkpointer: Any,
) -> None:
    # As LangGraph's without strict mode: the id answers nothing, the interrupts are raised again.
    graph = parallel_questions(checkpointer)
    config = thread("unknown-id")
    graph.invoke({"x": []}, config)

    result = graph.invoke(Command(resume={"0" * 32: "x"}), config)

    assert sorted(i.value for i in result["__interrupt__"]) == ["a?", "b?"]
    assert sorted(i.value for i in graph.get_state(config).interrupts) == ["a?", "b?"]
    with pytest.raises(RuntimeError, match="multiple pending interrupts"):
        graph.invoke(Command(resume="yes"), config)


@pytest.mark.parametrize("durability", ["sync", "async", "exit"])
def test_parallel_interrupts_answered_one_run_at_a_time_apply_each_output_once(
    checkpointer: Any, durability: str
) -> None:
    builder = StateGraph(S)
    for name in "abc":
        builder.add_node(name, (lambda n: lambda state: {"x": [f"{n}:{interrupt(n.upper())}"]})(name))
        builder.add_edge(START, name)
    graph = builder.compile(checkpointer=checkpointer)
    config = thread(f"one-by-one-{durability}")
    result = graph.invoke({"x": []}, config, durability=durability)
    while pending := result.get("__interrupt__"):
        result = graph.invoke(Command(resume={pending[0].id: "yes"}), config, durability=durability)
    assert sorted(result["x"]) == ["a:yes", "b:yes", "c:yes"]
