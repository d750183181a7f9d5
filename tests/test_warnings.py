"""LangGraph's deprecated spellings still work, and warn with LangGraph's categories and messages
(``stategraph.warnings``), so filters and tests written for LangGraph apply unchanged."""

from __future__ import annotations

import importlib
import sys
import warnings
from typing import Any

import pytest
from typing_extensions import TypedDict

from stategraph.checkpoint.memory import InMemorySaver
from stategraph.graph import START, StateGraph
from stategraph.types import RetryPolicy
from stategraph.warnings import (
    LangGraphDeprecatedSinceV05,
    LangGraphDeprecatedSinceV10,
    LangGraphDeprecatedSinceV11,
    LangGraphDeprecationWarning,
)


class State(TypedDict):
    x: int


class Context(TypedDict):
    user: str


def renamed(old: str, new: str) -> str:
    return f"`{old}` is deprecated and will be removed. Please use `{new}` instead."


def test_state_graph_keywords_renamed_in_0_5_and_1_0() -> None:
    with pytest.warns(LangGraphDeprecatedSinceV10, match=renamed("config_schema", "context_schema")):
        assert StateGraph(State, config_schema=Context).context_schema is Context
    with pytest.warns(LangGraphDeprecatedSinceV05, match=renamed("input", "input_schema")):
        assert StateGraph(State, input=State).input_schema is State
    with pytest.warns(LangGraphDeprecatedSinceV05, match=renamed("output", "output_schema")):
        assert StateGraph(State, output=State).output_schema is State


def test_add_node_retry_and_input_still_apply() -> None:
    policy = RetryPolicy(max_attempts=2)
    builder = StateGraph(State)
    with pytest.warns(LangGraphDeprecatedSinceV05, match=renamed("retry", "retry_policy")):
        builder.add_node("a", lambda state: {"x": 1}, retry=policy)
    with pytest.warns(LangGraphDeprecatedSinceV05, match=renamed("input", "input_schema")):
        builder.add_node("b", lambda state: {"x": 2}, input=State)
    assert builder.nodes["a"].retry_policy == policy
    assert builder.nodes["b"].input_schema is State


def test_functional_api_keywords() -> None:
    from stategraph.func import entrypoint, task

    with pytest.warns(LangGraphDeprecatedSinceV05, match=renamed("retry", "retry_policy")):

        @task(retry=RetryPolicy(max_attempts=2))
        def step(x: int) -> int:
            return x

    with pytest.warns(LangGraphDeprecatedSinceV10, match=renamed("config_schema", "context_schema")):

        @entrypoint(config_schema=Context)
        def flow(x: int) -> int:
            return step(x).result()

    assert flow.invoke(3) == 3
    assert flow.context_schema is Context


def test_pregel_config_type_and_config_schema() -> None:
    from stategraph.channels import LastValue
    from stategraph.pregel import NodeBuilder, Pregel

    node = NodeBuilder().subscribe_only("input").do(lambda x: x + 1).write_to("output")
    with pytest.warns(LangGraphDeprecatedSinceV10, match=renamed("config_type", "context_schema")):
        app = Pregel(
            nodes={"one": node},
            channels={"input": LastValue(int), "output": LastValue(int)},
            input_channels="input",
            output_channels="output",
            config_type=Context,
        )
    assert app.context_schema is Context and app.invoke(1) == 2
    with pytest.warns(LangGraphDeprecatedSinceV10, match="`config_schema` is deprecated. Use `get_context_jsonschema`"):
        model = app.config_schema()
    assert "configurable" in model.model_fields
    with pytest.warns(LangGraphDeprecatedSinceV10, match="`get_config_jsonschema` is deprecated"):
        schema = app.get_config_jsonschema()
    assert "configurable" in schema["properties"]
    assert app.get_context_jsonschema()["properties"]["user"]["type"] == "string"


def test_checkpoint_during_maps_to_durability() -> None:
    graph = StateGraph(State).add_node("a", lambda state: {"x": 1}).add_edge(START, "a")
    compiled = graph.compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "t"}}
    with pytest.warns(LangGraphDeprecatedSinceV10, match=renamed("checkpoint_during", "durability")):
        assert compiled.invoke({"x": 0}, config, checkpoint_during=False) == {"x": 1}


def test_graph_output_item_access_is_deprecated_since_1_1() -> None:
    from stategraph.types import interrupt

    def ask(state: State) -> dict[str, Any]:
        return {"x": interrupt("how many?")}

    graph = StateGraph(State).add_node("ask", ask).add_edge(START, "ask")
    result = graph.compile(checkpointer=InMemorySaver()).invoke(
        {"x": 0}, {"configurable": {"thread_id": "t"}}, version="v2"
    )
    with pytest.warns(LangGraphDeprecatedSinceV11, match="Accessing GraphOutput via `result\\[key\\]`"):
        assert result["__interrupt__"] == result.interrupts
    with pytest.warns(LangGraphDeprecatedSinceV11, match="Accessing GraphOutput via `key in result`"):
        assert "__interrupt__" in result
    with pytest.warns(LangGraphDeprecatedSinceV11):
        assert result["x"] == 0


def test_interrupt_id_node_interrupt_and_message_graph() -> None:
    from stategraph.errors import NodeInterrupt
    from stategraph.graph import MessageGraph
    from stategraph.types import Interrupt

    with pytest.warns(LangGraphDeprecatedSinceV10, match="`interrupt_id` is deprecated. Use `id` instead."):
        assert Interrupt(value="q", id="abc").interrupt_id == "abc"
    with pytest.warns(LangGraphDeprecatedSinceV10, match="NodeInterrupt is deprecated"):
        assert NodeInterrupt("stop").interrupts[0].value == "stop"
    with pytest.warns(LangGraphDeprecatedSinceV10, match="MessageGraph is deprecated in LangGraph v1.0.0"):
        MessageGraph()


def test_old_import_locations() -> None:
    import stategraph.constants as constants
    import stategraph.types as types

    with pytest.warns(LangGraphDeprecatedSinceV10, match="Importing Send from stategraph.constants is deprecated"):
        assert constants.Send is types.Send
    with pytest.warns(LangGraphDeprecatedSinceV10, match="Importing PREVIOUS from stategraph.constants is deprecated. This constant is now private"):
        assert constants.PREVIOUS == "__previous__"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert constants.START == "__start__"  # the public names do not warn
    with pytest.raises(AttributeError):
        constants.NOT_A_CONSTANT  # noqa: B018
    sys.modules.pop("stategraph.pregel.types", None)
    with pytest.warns(LangGraphDeprecatedSinceV10, match="Importing from stategraph.pregel.types is deprecated. Please use .from stategraph.types import"):
        old = importlib.import_module("stategraph.pregel.types")
    assert old.StateSnapshot is types.StateSnapshot


def test_a_config_parameter_typed_as_dict_gets_langgraphs_user_warning() -> None:
    builder = StateGraph(State)

    def node_with_dict_config(state: State, config: dict) -> dict[str, Any]:  # type: ignore[type-arg]
        return {"x": len(config["configurable"])}

    with pytest.warns(UserWarning, match="The 'config' parameter should be typed as 'RunnableConfig'"):
        builder.add_node(node_with_dict_config)

    from langchain_core.runnables import RunnableConfig

    def node_with_runnable_config(state: State, config: RunnableConfig) -> dict[str, Any]:
        return {"x": 0}

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        builder.add_node(node_with_runnable_config)


def test_the_categories_are_deprecation_warnings() -> None:
    for category in (LangGraphDeprecatedSinceV05, LangGraphDeprecatedSinceV10, LangGraphDeprecatedSinceV11):
        assert issubclass(category, LangGraphDeprecationWarning)
        assert issubclass(category, DeprecationWarning)


def test_node_interrupt_warns_and_names_stategraphs_interrupt() -> None:
    from stategraph.errors import NodeInterrupt

    with pytest.warns(
        LangGraphDeprecatedSinceV10,
        match="NodeInterrupt is deprecated. Please use `stategraph.types.interrupt` instead.",
    ):
        NodeInterrupt("stop")
