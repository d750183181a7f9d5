"""ToolNode on its own (api_spec §10.1, Appendix A.10): inputs, errors, injection, commands."""

from __future__ import annotations

import asyncio
import threading
from typing import Annotated, Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import InjectedToolCallId, tool

from stategraph.errors import GraphBubbleUp, GraphInterrupt
from stategraph.prebuilt import InjectedState, InjectedStore, ToolNode, ToolRuntime
from stategraph.prebuilt.tool_node import ToolCallRequest, ToolInvocationError
from stategraph.types import Command, Interrupt, Send


@tool
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


@tool
def fail(x: str) -> str:
    """Always fails."""
    raise ValueError("bad " + x)


@tool
def st(x: str) -> str:
    """Returns a string."""
    return "s:" + x


@tool
def obj() -> dict:
    """Returns a dict."""
    return {"k": [1, 2]}


def call(name: str, args: dict[str, Any] | None = None, id: str = "1") -> dict[str, Any]:
    return {"name": name, "args": args or {}, "id": id, "type": "tool_call"}


def ai(*calls: dict[str, Any]) -> AIMessage:
    return AIMessage("", tool_calls=list(calls))


def contents(output: Any) -> list[str]:
    messages = output["messages"] if isinstance(output, dict) else output
    return [m.content for m in messages]


# -- Appendix A.10 -------------------------------------------------------------------------------


def test_handle_tool_errors_true_transcript_matches_langgraph() -> None:
    node = ToolNode([add, fail, st, obj], handle_tool_errors=True)
    calls = [
        call("add", {"a": 1, "b": 2}, "1"),
        call("add", {"a": "x"}, "2"),
        call("fail", {"x": "x"}, "3"),
        call("nope", {}, "4"),
        call("obj", {}, "5"),
        call("st", {"x": "y"}, "6"),
    ]
    messages = node.invoke({"messages": [ai(*calls)]})["messages"]
    assert [(m.tool_call_id, m.name, m.status) for m in messages] == [
        ("1", "add", "success"),
        ("2", "add", "error"),
        ("3", "fail", "error"),
        ("4", "nope", "error"),
        ("5", "obj", "success"),
        ("6", "st", "success"),
    ]
    assert [m.content for m in messages] == [
        "3",
        "Error: ToolInvocationError(\"Error invoking tool 'add' with kwargs {'a': 'x'} with error:\\n"
        " a: Input should be a valid integer, unable to parse string as an integer\\nb: Field required\\n"
        " Please fix the error and try again.\")\n Please fix your mistakes.",
        "Error: ValueError('bad x')\n Please fix your mistakes.",
        "Error: nope is not a valid tool, try one of [add, fail, st, obj].",
        '{"k": [1, 2]}',
        "s:y",
    ]


# -- handle_tool_errors ----------------------------------------------------------------------------


def test_default_handling_turns_bad_arguments_into_the_invocation_message() -> None:
    (message,) = ToolNode([add]).invoke([ai(call("add", {"a": "x", "b": 1}))])
    assert message.status == "error"
    assert message.content == (
        "Error invoking tool 'add' with kwargs {'a': 'x', 'b': 1} with error:\n"
        " a: Input should be a valid integer, unable to parse string as an integer\n"
        " Please fix the error and try again."
    )


def test_default_handling_re_raises_tool_failures() -> None:
    with pytest.raises(ValueError, match="bad x"):
        ToolNode([fail]).invoke([ai(call("fail", {"x": "x"}))])


def test_string_handling_uses_the_string_for_every_error() -> None:
    out = ToolNode([fail, add], handle_tool_errors="try again").invoke(
        [ai(call("fail", {"x": "x"}, "1"), call("add", {"a": "x"}, "2"))]
    )
    assert contents(out) == ["try again", "try again"]


def test_exception_type_handling_catches_only_that_type() -> None:
    node = ToolNode([fail], handle_tool_errors=ValueError)
    assert contents(node.invoke([ai(call("fail", {"x": "y"}))])) == [
        "Error: ValueError('bad y')\n Please fix your mistakes."
    ]
    with pytest.raises(ValueError):
        ToolNode([fail], handle_tool_errors=(KeyError, TypeError)).invoke([ai(call("fail", {"x": "y"}))])


def test_callable_handling_catches_the_types_it_annotates() -> None:
    def handler(error: KeyError | ValueError) -> str:
        return f"handled {type(error).__name__}"

    assert contents(ToolNode([fail], handle_tool_errors=handler).invoke([ai(call("fail", {"x": "y"}))])) == [
        "handled ValueError"
    ]

    def only_key_errors(error: KeyError) -> str:
        return "never"

    with pytest.raises(ValueError, match="bad y"):
        ToolNode([fail], handle_tool_errors=only_key_errors).invoke([ai(call("fail", {"x": "y"}))])


def test_unannotated_callable_catches_everything() -> None:
    node = ToolNode([fail], handle_tool_errors=lambda error: f"caught {error}")
    assert contents(node.invoke([ai(call("fail", {"x": "z"}))])) == ["caught bad z"]


def test_callable_annotated_with_a_non_exception_type_is_rejected_at_construction() -> None:
    def handler(error: int) -> str:
        return ""

    with pytest.raises(ValueError, match="Arbitrary types are not supported"):
        ToolNode([fail], handle_tool_errors=handler)


def test_false_handling_lets_bad_arguments_raise() -> None:
    with pytest.raises(ToolInvocationError):
        ToolNode([add], handle_tool_errors=False).invoke([ai(call("add", {"a": "x"}))])


def test_unknown_tool_always_answers_with_an_error_message() -> None:
    (message,) = ToolNode([add, st], handle_tool_errors=False).invoke([ai(call("nope"))])
    assert message.content == "Error: nope is not a valid tool, try one of [add, st]."
    assert (message.name, message.status, message.tool_call_id) == ("nope", "error", "1")


@pytest.mark.parametrize("handling", [True, "msg", Exception, lambda e: "x", False])
def test_interrupts_in_tools_always_propagate(handling: Any) -> None:
    @tool
    def asks() -> str:
        """Asks a human."""
        raise GraphInterrupt((Interrupt("question?"),))

    with pytest.raises(GraphInterrupt):
        ToolNode([asks], handle_tool_errors=handling).invoke([ai(call("asks"))])


def test_other_bubble_up_signals_propagate() -> None:
    @tool
    def bubbles() -> str:
        """Bubbles up."""
        raise GraphBubbleUp()

    with pytest.raises(GraphBubbleUp):
        ToolNode([bubbles], handle_tool_errors=True).invoke([ai(call("bubbles"))])


# -- inputs and outputs -------------------------------------------------------------------------


def test_message_list_input_gives_a_message_list() -> None:
    out = ToolNode([add]).invoke([HumanMessage("hi"), ai(call("add", {"a": 1, "b": 2}))])
    assert isinstance(out, list) and isinstance(out[0], ToolMessage) and out[0].content == "3"


def test_tool_calls_come_from_the_most_recent_ai_message() -> None:
    old = ai(call("st", {"x": "old"}, "o"))
    latest = ai(call("st", {"x": "new"}, "n"))
    out = ToolNode([st]).invoke({"messages": [old, ToolMessage("r", tool_call_id="o"), latest, HumanMessage("later")]})
    assert contents(out) == ["s:new"]


def test_tool_call_list_input_runs_those_calls() -> None:
    out = ToolNode([add]).invoke([call("add", {"a": 2, "b": 2})])
    assert contents(out) == ["4"]


def test_tool_call_with_context_runs_one_call_with_its_state() -> None:
    @tool
    def count(state: Annotated[dict, InjectedState]) -> int:
        """Counts messages."""
        return len(state["messages"])

    payload = {
        "__type": "tool_call_with_context",
        "tool_call": call("count"),
        "state": {"messages": [HumanMessage("a"), HumanMessage("b")]},
    }
    assert contents(ToolNode([count]).invoke(payload)) == ["2"]


def test_object_state_with_a_messages_attribute_is_accepted() -> None:
    class State:
        messages = [ai(call("st", {"x": "attr"}))]

    assert contents(ToolNode([st]).invoke(State())) == ["s:attr"]


def test_custom_messages_key() -> None:
    out = ToolNode([st], messages_key="chat").invoke({"chat": [ai(call("st", {"x": "k"}))]})
    assert list(out) == ["chat"] and out["chat"][0].content == "s:k"


def test_no_messages_raises() -> None:
    with pytest.raises(ValueError, match="No message found in input"):
        ToolNode([st]).invoke({"messages": []})


def test_no_ai_message_raises() -> None:
    with pytest.raises(ValueError, match="No AIMessage found in input"):
        ToolNode([st]).invoke({"messages": [HumanMessage("hi")]})


def test_plain_functions_become_tools() -> None:
    def multiply(a: int, b: int) -> int:
        """Multiply two numbers."""
        return a * b

    node = ToolNode([multiply])
    assert list(node.tools_by_name) == ["multiply"]
    assert contents(node.invoke([ai(call("multiply", {"a": 3, "b": 4}))])) == ["12"]


def test_node_name_defaults_to_tools() -> None:
    assert ToolNode([add]).name == "tools" and ToolNode([add]).get_name() == "tools"
    assert ToolNode([add], name="my_tools").get_name() == "my_tools"


def test_content_blocks_are_kept_and_unserialisable_values_become_strings() -> None:
    @tool
    def blocks() -> list:
        """Content blocks."""
        return [{"type": "text", "text": "hello"}]

    class Opaque:
        def __str__(self) -> str:
            return "opaque!"

    @tool
    def opaque() -> Any:
        """Not JSON."""
        return Opaque()

    out = ToolNode([blocks, opaque]).invoke([ai(call("blocks", id="1"), call("opaque", id="2"))])
    assert out[0].content == [{"type": "text", "text": "hello"}]
    assert out[1].content == "opaque!"


# -- parallelism ----------------------------------------------------------------------------------


def test_sync_calls_run_in_parallel_threads_and_keep_call_order() -> None:
    barrier = threading.Barrier(3, timeout=10)

    @tool
    def meet(tag: str) -> str:
        """Waits for the other calls."""
        barrier.wait()  # breaks (and fails the test) unless all three run at once
        return tag

    out = ToolNode([meet]).invoke([ai(*(call("meet", {"tag": t}, t) for t in ("c", "a", "b")))])
    assert [(m.tool_call_id, m.content) for m in out] == [("c", "c"), ("a", "a"), ("b", "b")]


async def test_async_calls_run_concurrently_and_keep_call_order() -> None:
    first, second = asyncio.Event(), asyncio.Event()

    @tool
    async def ping() -> str:
        """Needs pong to run concurrently."""
        first.set()
        await asyncio.wait_for(second.wait(), timeout=10)
        return "ping"

    @tool
    async def pong() -> str:
        """Needs ping to run concurrently."""
        second.set()
        await asyncio.wait_for(first.wait(), timeout=10)
        return "pong"

    out = await ToolNode([ping, pong]).ainvoke([ai(call("pong", id="1"), call("ping", id="2"))])
    assert contents(out) == ["pong", "ping"]


async def test_async_invoke_of_sync_tools() -> None:
    out = await ToolNode([add], handle_tool_errors=True).ainvoke({"messages": [ai(call("add", {"a": 1, "b": 1}), call("add", {"a": "z"}, "2"))]})
    assert contents(out)[0] == "2" and contents(out)[1].startswith("Error: ToolInvocationError(")


# -- injection -----------------------------------------------------------------------------------


@tool
def whole_state(x: int, state: Annotated[dict, InjectedState]) -> str:
    """Sees the whole state."""
    return f"{x}:{sorted(state)}"


@tool
def one_field(foo: Annotated[str, InjectedState("foo")]) -> str:
    """Sees one key."""
    return foo


@tool
def optional_field(foo: Annotated[str | None, InjectedState("foo")] = None) -> str:
    """One optional key."""
    return str(foo)


def test_injected_state_receives_the_state_and_is_hidden_from_the_model() -> None:
    assert "state" not in whole_state.tool_call_schema.model_json_schema()["properties"]
    state = {"messages": [ai(call("whole_state", {"x": 1}))], "foo": "bar"}
    assert contents(ToolNode([whole_state]).invoke(state)) == ["1:['foo', 'messages']"]


def test_injected_state_field_and_forged_values_are_replaced() -> None:
    state = {"messages": [ai(call("one_field", {"foo": "forged by the model"}))], "foo": "real"}
    assert contents(ToolNode([one_field]).invoke(state)) == ["real"]


def test_missing_injected_field_raises_unless_optional() -> None:
    with pytest.raises(KeyError):
        ToolNode([one_field]).invoke({"messages": [ai(call("one_field"))]})
    assert contents(ToolNode([optional_field]).invoke({"messages": [ai(call("optional_field"))]})) == ["None"]


def test_list_input_is_the_messages_state_for_injection() -> None:
    @tool
    def count(messages: Annotated[list, InjectedState("messages")]) -> int:
        """Counts."""
        return len(messages)

    assert contents(ToolNode([count]).invoke([HumanMessage("a"), ai(call("count"))])) == ["2"]
    with pytest.raises(ValueError, match="requires graph state dict as input"):
        ToolNode([one_field]).invoke([ai(call("one_field"))])


def test_injected_store_without_a_store_names_the_fix() -> None:
    @tool
    def remember(key: str, store: Annotated[Any, InjectedStore()]) -> str:
        """Uses the store."""
        return key

    assert "store" not in remember.tool_call_schema.model_json_schema()["properties"]
    with pytest.raises(ValueError, match="compile your graph with a store"):
        ToolNode([remember]).invoke([ai(call("remember", {"key": "k"}))])


def test_tool_runtime_carries_state_call_id_and_config() -> None:
    seen: dict[str, Any] = {}

    @tool
    def inspect_runtime(x: int, runtime: ToolRuntime) -> str:
        """Looks at its runtime."""
        seen["runtime"] = runtime
        return "ok"

    assert "runtime" not in inspect_runtime.tool_call_schema.model_json_schema()["properties"]
    state = {"messages": [ai(call("inspect_runtime", {"x": 1}, "call-9"))]}
    ToolNode([inspect_runtime]).invoke(state, {"configurable": {"user": "u1"}})
    runtime = seen["runtime"]
    assert runtime.tool_call_id == "call-9"
    assert runtime.state is state
    assert runtime.config["configurable"]["user"] == "u1"
    assert [t.name for t in runtime.tools] == ["inspect_runtime"]


def test_invocation_error_lists_only_model_controlled_arguments() -> None:
    @tool
    def needs(x: int, foo: Annotated[str, InjectedState("foo")]) -> str:
        """x from the model, foo from the state."""
        return foo

    out = ToolNode([needs]).invoke({"messages": [ai(call("needs", {"x": "bad"}))], "foo": "f"})
    assert "x: Input should be a valid integer" in contents(out)[0]
    assert "foo" not in contents(out)[0]


# -- tools returning Command ---------------------------------------------------------------------


def command_tool(update: Any, graph: str | None = None, goto: Any = ()) -> Any:
    @tool
    def commander(tool_call_id: Annotated[str, InjectedToolCallId]) -> Command:
        """Returns a command."""
        value = update(tool_call_id) if callable(update) else update
        return Command(update=value, graph=graph, goto=goto)

    return commander


def test_command_with_a_matching_tool_message_is_returned_with_the_name_set() -> None:
    commander = command_tool(lambda cid: {"messages": [ToolMessage("done", tool_call_id=cid)], "extra": 1})
    out = ToolNode([commander]).invoke({"messages": [ai(call("commander", id="c1"))]})
    (command,) = out
    assert isinstance(command, Command)
    assert command.update["extra"] == 1
    assert command.update["messages"][0].name == "commander"


def test_command_without_a_matching_tool_message_is_rejected() -> None:
    commander = command_tool({"messages": []})
    with pytest.raises(ValueError, match="Expected to have a matching ToolMessage in Command.update"):
        ToolNode([commander]).invoke({"messages": [ai(call("commander", id="c1"))]})


def test_parent_commands_need_no_tool_message_and_sends_are_merged() -> None:
    first = command_tool(None, graph=Command.PARENT, goto=[Send("a", 1)])
    second = command_tool(None, graph=Command.PARENT, goto=[Send("b", 2)])
    second.name = "second"
    out = ToolNode([first, second]).invoke({"messages": [ai(call("commander", id="1"), call("second", id="2"))]})
    assert out == [Command(graph=Command.PARENT, goto=[Send("a", 1), Send("b", 2)])]


def test_dict_update_with_list_input_is_rejected() -> None:
    commander = command_tool(lambda cid: {"messages": [ToolMessage("x", tool_call_id=cid)]})
    with pytest.raises(ValueError, match="only when using dict"):
        ToolNode([commander]).invoke([ai(call("commander", id="c1"))])


def test_list_update_with_list_input_is_accepted() -> None:
    commander = command_tool(lambda cid: [ToolMessage("x", tool_call_id=cid)])
    (command,) = ToolNode([commander]).invoke([ai(call("commander", id="c1"))])
    assert command.update[0].tool_call_id == "c1"


def test_commands_and_messages_are_combined_into_a_list_of_updates() -> None:
    commander = command_tool(lambda cid: {"messages": [ToolMessage("cmd", tool_call_id=cid)]})
    out = ToolNode([commander, st]).invoke({"messages": [ai(call("st", {"x": "1"}, "a"), call("commander", id="b"))]})
    assert isinstance(out, list) and len(out) == 2
    assert out[0] == {"messages": [ToolMessage("s:1", name="st", tool_call_id="a", id=out[0]["messages"][0].id)]}
    assert isinstance(out[1], Command)


def test_tool_returning_a_list_needs_exactly_one_answer() -> None:
    @tool
    def listy(tool_call_id: Annotated[str, InjectedToolCallId]) -> list:
        """Returns a list."""
        return [Command(update={"other": 1}), ToolMessage("answer", tool_call_id=tool_call_id)]

    out = ToolNode([listy]).invoke({"messages": [ai(call("listy", id="z"))]})
    assert isinstance(out[0], Command) and out[1] == {"messages": [out[1]["messages"][0]]}

    @tool
    def none_answered() -> list:
        """Answers nothing."""
        return [Command(update={"other": 1})]

    with pytest.raises(ValueError, match="expected exactly one terminating ToolMessage"):
        ToolNode([none_answered]).invoke({"messages": [ai(call("none_answered", id="z"))]})


# -- interceptors --------------------------------------------------------------------------------


def test_wrap_tool_call_can_retry_and_modify_the_request() -> None:
    attempts: list[dict[str, Any]] = []

    def retry_with_fixed_args(request: ToolCallRequest, execute: Any) -> Any:
        result = execute(request)
        attempts.append(request.tool_call["args"])
        if result.status == "error":
            fixed = {**request.tool_call, "args": {"a": 1, "b": 1}}
            result = execute(request.override(tool_call=fixed))
            attempts.append(fixed["args"])
        return result

    out = ToolNode([add], wrap_tool_call=retry_with_fixed_args).invoke([ai(call("add", {"a": "x"}))])
    assert contents(out) == ["2"] and len(attempts) == 2


def test_wrap_tool_call_can_answer_unknown_tools() -> None:
    def short_circuit(request: ToolCallRequest, execute: Any) -> Any:
        if request.tool is None:
            return ToolMessage("handled elsewhere", tool_call_id=request.tool_call["id"])
        return execute(request)

    assert contents(ToolNode([add], wrap_tool_call=short_circuit).invoke([ai(call("ghost"))])) == ["handled elsewhere"]


def test_wrapper_exceptions_follow_the_error_policy() -> None:
    def broken(request: ToolCallRequest, execute: Any) -> Any:
        raise RuntimeError("wrapper broke")

    out = ToolNode([add], handle_tool_errors=True, wrap_tool_call=broken).invoke([ai(call("add", {"a": 1, "b": 2}))])
    assert contents(out) == ["Error: RuntimeError('wrapper broke')\n Please fix your mistakes."]
    with pytest.raises(RuntimeError):
        ToolNode([add], wrap_tool_call=broken).invoke([ai(call("add", {"a": 1, "b": 2}))])


async def test_awrap_tool_call_wraps_async_execution() -> None:
    seen: list[str] = []

    async def wrapper(request: ToolCallRequest, execute: Any) -> Any:
        seen.append(request.tool_call["name"])
        return await execute(request)

    out = await ToolNode([add], awrap_tool_call=wrapper).ainvoke([ai(call("add", {"a": 2, "b": 3}))])
    assert contents(out) == ["5"] and seen == ["add"]


def test_custom_base_tool_and_async_tool_can_return_commands() -> None:
    from langchain_core.tools import BaseTool

    class Custom(BaseTool):
        name: str = "custom"
        description: str = "A BaseTool subclass returning a Command."

        def _run(self) -> Command:
            return Command(update={"messages": [ToolMessage("custom done", tool_call_id="1")]})

    @tool
    async def async_commander(tool_call_id: Annotated[str, InjectedToolCallId]) -> Command:
        """Async command."""
        return Command(update={"messages": [ToolMessage("async done", tool_call_id=tool_call_id)]}, goto="next")

    state = {"messages": [ai(call("custom", id="1"), call("async_commander", id="2"))]}
    out = asyncio.run(ToolNode([Custom(), async_commander]).ainvoke(state))
    assert [c.update["messages"][0].content for c in out] == ["custom done", "async done"]
    assert out[1].goto == "next"
    sync_out = ToolNode([Custom()]).invoke({"messages": [ai(call("custom", id="1"))]})
    assert sync_out[0].update["messages"][0].content == "custom done"


def test_tools_taking_a_config_still_receive_it() -> None:
    @tool
    def configured(x: int, config: RunnableConfig) -> str:
        """Reads its config."""
        return config["configurable"]["who"]

    out = ToolNode([configured]).invoke([ai(call("configured", {"x": 1}))], {"configurable": {"who": "me"}})
    assert contents(out) == ["me"]


def test_artifact_tools_keep_their_artifact() -> None:
    @tool(response_format="content_and_artifact")
    def with_artifact() -> tuple[str, dict]:
        """Content and artifact."""
        return "summary", {"raw": [1, 2, 3]}

    (message,) = ToolNode([with_artifact]).invoke([ai(call("with_artifact"))])
    assert message.content == "summary" and message.artifact == {"raw": [1, 2, 3]}
