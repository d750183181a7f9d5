"""create_react_agent (api_spec §10.3) driven by scripted models."""

from __future__ import annotations

import importlib.util
from typing import Annotated, Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.runnables import RunnableLambda
from langchain_core.tools import InjectedToolCallId, tool
from pydantic import BaseModel
from typing_extensions import TypedDict

from stategraph.checkpoint.memory import InMemorySaver
from stategraph.graph.message import add_messages
from stategraph.prebuilt import InjectedStore, ToolNode, create_react_agent
from stategraph.prebuilt.chat_agent_executor import AgentState
from stategraph.testing import ScriptedChatModel, tool_call
from stategraph.types import Command


@tool
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


@tool(return_direct=True)
def final_answer(text: str) -> str:
    """Answer and stop."""
    return text


def kinds(messages: list[Any]) -> list[str]:
    return [m.type for m in messages]


def test_agent_calls_tools_until_the_model_answers() -> None:
    model = ScriptedChatModel([tool_call("add", {"a": 1, "b": 2}), "1 + 2 = 3"])
    agent = create_react_agent(model, [add])
    result = agent.invoke({"messages": [("user", "what is 1 + 2?")]})
    assert kinds(result["messages"]) == ["human", "ai", "tool", "ai"]
    assert result["messages"][2].content == "3"
    assert result["messages"][-1].content == "1 + 2 = 3"


def test_agent_name_is_set_on_its_messages() -> None:
    agent = create_react_agent(ScriptedChatModel(["hi"]), [add], name="helper")
    assert agent.invoke({"messages": [("user", "hello")]})["messages"][-1].name == "helper"


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_parallel_tool_calls_in_both_versions(version: str) -> None:
    model = ScriptedChatModel([[tool_call("add", {"a": 1, "b": 1}), tool_call("add", {"a": 2, "b": 2})], "done"])
    agent = create_react_agent(model, [add], version=version)  # type: ignore[arg-type]
    updates = [u for u in agent.stream({"messages": [("user", "go")]}, stream_mode="updates") if "tools" in u]
    # v1 runs both calls in one task; v2 sends each call to its own task
    assert len(updates) == (1 if version == "v1" else 2)
    results = [m.content for u in updates for m in u["tools"]["messages"]]
    assert sorted(results) == ["2", "4"]


def test_v2_tool_results_keep_call_order() -> None:
    model = ScriptedChatModel([[tool_call("add", {"a": 1, "b": 1}), tool_call("add", {"a": 2, "b": 2})], "done"])
    result = create_react_agent(model, [add]).invoke({"messages": [("user", "go")]})
    assert [m.content for m in result["messages"] if isinstance(m, ToolMessage)] == ["2", "4"]


def test_string_prompt_is_sent_first_as_a_system_message() -> None:
    model = ScriptedChatModel(["ok"])
    create_react_agent(model, [add], prompt="Be terse.").invoke({"messages": [("user", "hi")]})
    (seen,) = model.calls
    assert isinstance(seen[0], SystemMessage) and seen[0].content == "Be terse."
    assert seen[1].content == "hi"


def test_system_message_callable_and_runnable_prompts() -> None:
    for prompt in (
        SystemMessage("sys"),
        lambda state: [SystemMessage("sys"), *state["messages"]],
        RunnableLambda(lambda state: [SystemMessage("sys"), *state["messages"]]),
    ):
        model = ScriptedChatModel(["ok"])
        create_react_agent(model, [add], prompt=prompt).invoke({"messages": [("user", "hi")]})
        assert [m.content for m in model.calls[0]] == ["sys", "hi"]


def test_prompt_of_unknown_type_is_rejected() -> None:
    with pytest.raises(ValueError, match="Got unexpected type for `prompt`"):
        create_react_agent(ScriptedChatModel(["x"]), [add], prompt=42)  # type: ignore[arg-type]


class Weather(BaseModel):
    city: str
    degrees: int


def test_response_format_adds_a_structured_response() -> None:
    model = ScriptedChatModel(["It is 22 in Paris.", tool_call("Weather", {"city": "Paris", "degrees": 22})])
    result = create_react_agent(model, [add], response_format=Weather).invoke({"messages": [("user", "weather?")]})
    assert result["structured_response"] == Weather(city="Paris", degrees=22)


def test_response_format_tuple_prepends_its_system_prompt() -> None:
    model = ScriptedChatModel(["It is 22.", tool_call("Weather", {"city": "Rome", "degrees": 22})])
    create_react_agent(model, [add], response_format=("Extract the weather.", Weather)).invoke(
        {"messages": [("user", "weather?")]}
    )
    assert model.calls[1][0].content == "Extract the weather."


def test_pre_model_hook_can_feed_the_model_other_messages() -> None:
    model = ScriptedChatModel(["ok"])

    def keep_last(state: dict[str, Any]) -> dict[str, Any]:
        return {"llm_input_messages": state["messages"][-1:]}

    result = create_react_agent(model, [add], pre_model_hook=keep_last).invoke(
        {"messages": [("user", "old"), ("assistant", "older answer"), ("user", "new")]}
    )
    assert [m.content for m in model.calls[0]] == ["new"]
    assert len(result["messages"]) == 4


def test_post_model_hook_runs_after_each_model_call() -> None:
    seen: list[str] = []

    def audit(state: dict[str, Any]) -> dict[str, Any]:
        seen.append(state["messages"][-1].type)
        return {}

    model = ScriptedChatModel([tool_call("add", {"a": 1, "b": 2}), "3"])
    result = create_react_agent(model, [add], post_model_hook=audit).invoke({"messages": [("user", "1+2")]})
    assert seen == ["ai", "ai"]
    assert result["messages"][-1].content == "3"


def test_running_out_of_steps_answers_instead_of_failing() -> None:
    model = ScriptedChatModel([tool_call("add", {"a": 1, "b": 1})], cycle=True)
    result = create_react_agent(model, [add]).invoke({"messages": [("user", "loop")]}, {"recursion_limit": 6})
    assert result["messages"][-1].content == "Sorry, need more steps to process this request."


def test_unanswered_tool_calls_in_history_are_rejected() -> None:
    history = [HumanMessage("hi"), AIMessage("", tool_calls=[tool_call("add", {"a": 1, "b": 1}, id="dangling")])]
    with pytest.raises(ValueError, match="INVALID_CHAT_HISTORY"):
        create_react_agent(ScriptedChatModel(["x"]), [add]).invoke({"messages": history})


def test_return_direct_tool_ends_the_run() -> None:
    model = ScriptedChatModel([tool_call("final_answer", {"text": "42"})])
    result = create_react_agent(model, [add, final_answer]).invoke({"messages": [("user", "answer")]})
    assert result["messages"][-1].content == "42" and isinstance(result["messages"][-1], ToolMessage)


def test_interrupt_before_tools_pauses_until_resumed() -> None:
    model = ScriptedChatModel([tool_call("add", {"a": 2, "b": 3}), "5"])
    agent = create_react_agent(model, [add], checkpointer=InMemorySaver(), interrupt_before=["tools"])
    config = {"configurable": {"thread_id": "t"}}
    agent.invoke({"messages": [("user", "2+3")]}, config)
    assert agent.get_state(config).next == ("tools",)
    result = agent.invoke(None, config)
    assert result["messages"][-1].content == "5"


def test_pre_bound_model_must_match_the_tools() -> None:
    with pytest.raises(ValueError, match="Missing tools"):
        create_react_agent(ScriptedChatModel(["x"]).bind_tools([final_answer]), [add])
    with pytest.raises(ValueError, match="must match"):
        create_react_agent(ScriptedChatModel(["x"]).bind_tools([add, final_answer]), [add])
    agent = create_react_agent(ScriptedChatModel(["bound"]).bind_tools([add]), [add])
    assert agent.invoke({"messages": [("user", "x")]})["messages"][-1].content == "bound"


def test_model_string_needs_langchain() -> None:
    if importlib.util.find_spec("langchain") is not None:  # pragma: no cover - environment
        pytest.skip("langchain is installed")
    with pytest.raises(ImportError, match="pip install langchain"):
        create_react_agent("openai:gpt-4.1", [add])


def test_custom_state_schema_must_have_the_agent_keys() -> None:
    class Incomplete(TypedDict):
        messages: Annotated[list, add_messages]

    with pytest.raises(ValueError, match="Missing required key"):
        create_react_agent(ScriptedChatModel(["x"]), [add], state_schema=Incomplete)

    class Extended(AgentState):
        user: str

    agent = create_react_agent(ScriptedChatModel(["x"]), [add], state_schema=Extended)
    assert agent.invoke({"messages": [("user", "hi")], "user": "ann"})["user"] == "ann"


def test_dynamic_model_is_chosen_per_call() -> None:
    fast = ScriptedChatModel(["fast answer"])
    chosen: list[int] = []

    def pick(state: dict[str, Any], runtime: Any) -> Any:
        chosen.append(len(state["messages"]))
        return fast.bind_tools([add])

    result = create_react_agent(pick, [add]).invoke({"messages": [("user", "hi")]})
    assert result["messages"][-1].content == "fast answer" and chosen == [1]


async def test_async_agent_and_async_dynamic_model() -> None:
    model = ScriptedChatModel([tool_call("add", {"a": 1, "b": 2}), "3"])

    async def pick(state: dict[str, Any], runtime: Any) -> Any:
        return model.bind_tools([add])

    agent = create_react_agent(pick, [add])
    result = await agent.ainvoke({"messages": [("user", "1+2")]})
    assert kinds(result["messages"]) == ["human", "ai", "tool", "ai"]
    with pytest.raises(RuntimeError, match="Async model callable provided but agent invoked synchronously"):
        agent.invoke({"messages": [("user", "1+2")]})


def test_agent_without_tools_just_answers() -> None:
    result = create_react_agent(ScriptedChatModel(["plain"]), []).invoke({"messages": [("user", "hi")]})
    assert kinds(result["messages"]) == ["human", "ai"]


def test_tool_node_can_be_passed_as_tools() -> None:
    node = ToolNode([add], handle_tool_errors="oops")
    model = ScriptedChatModel([tool_call("add", {"a": "bad"}), "recovered"])
    result = create_react_agent(model, node).invoke({"messages": [("user", "x")]})
    assert [m.content for m in result["messages"] if isinstance(m, ToolMessage)] == ["oops"]


def test_tools_reach_the_agents_store() -> None:
    from stategraph.store.memory import InMemoryStore

    @tool
    def remember(fact: str, store: Annotated[Any, InjectedStore()]) -> str:
        """Remember a fact."""
        store.put(("facts",), "latest", {"fact": fact})
        return "saved"

    store = InMemoryStore()
    model = ScriptedChatModel([tool_call("remember", {"fact": "sky is blue"}), "noted"])
    create_react_agent(model, [remember], store=store).invoke({"messages": [("user", "remember")]})
    assert store.get(("facts",), "latest").value == {"fact": "sky is blue"}


def test_tool_returning_a_command_updates_agent_state() -> None:
    class State(AgentState):
        mood: str

    @tool
    def set_mood(mood: str, tool_call_id: Annotated[str, InjectedToolCallId]) -> Command:
        """Set the mood."""
        return Command(update={"mood": mood, "messages": [ToolMessage("mood set", tool_call_id=tool_call_id)]})

    model = ScriptedChatModel([tool_call("set_mood", {"mood": "happy"}), "done"])
    result = create_react_agent(model, [set_mood], state_schema=State).invoke({"messages": [("user", "cheer up")]})
    assert result["mood"] == "happy" and result["messages"][-1].content == "done"


def test_pydantic_agent_state() -> None:
    from stategraph.prebuilt.chat_agent_executor import AgentStatePydantic

    model = ScriptedChatModel([tool_call("add", {"a": 1, "b": 2}), "3"])
    result = create_react_agent(model, [add], state_schema=AgentStatePydantic).invoke({"messages": [("user", "1+2")]})
    assert result["messages"][-1].content == "3"


def test_pydantic_agent_state_with_v1_tools_node() -> None:
    from stategraph.prebuilt.chat_agent_executor import AgentStatePydantic

    model = ScriptedChatModel([tool_call("add", {"a": 1, "b": 2}), "3"])
    agent = create_react_agent(model, [add], state_schema=AgentStatePydantic, version="v1")
    assert agent.invoke({"messages": [("user", "1+2")]})["messages"][-1].content == "3"
