"""The model side of ``create_react_agent``: prompt, tool binding, model resolution, history check.

Everything here prepares or checks one model call; the graph around it is in ``_react_agent``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any, Union, cast

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, SystemMessage, ToolMessage
from langchain_core.runnables import (
    Runnable,
    RunnableBinding,
    RunnableConfig,
    RunnableSequence,
)
from langchain_core.tools import BaseTool

from stategraph.errors import ErrorCode, create_error_message

__all__ = [
    "Prompt",
    "abuild_model_input",
    "build_model_input",
    "get_state_value",
    "init_model",
    "should_bind_tools",
    "unwrap_chat_model",
    "validate_chat_history",
]

Prompt = Union[SystemMessage, str, Callable[[Any], Any], Runnable[Any, Any]]


def get_state_value(state: Any, key: str, default: Any = None) -> Any:
    return state.get(key, default) if isinstance(state, dict) else getattr(state, key, default)


def _prompt_input(prompt: Prompt | None, state: Any) -> list[BaseMessage] | None:
    """The model input for the prompt forms that need no call (None, str, SystemMessage)."""
    messages = list(get_state_value(state, "messages") or [])
    if prompt is None:
        return messages
    if isinstance(prompt, str):
        return [SystemMessage(content=prompt), *messages]
    if isinstance(prompt, SystemMessage):
        return [prompt, *messages]
    return None


def build_model_input(prompt: Prompt | None, state: Any, config: RunnableConfig) -> Any:
    """What the model is called with: the state's messages behind the prompt."""
    fixed = _prompt_input(prompt, state)
    if fixed is not None:
        return fixed
    if isinstance(prompt, Runnable):
        return prompt.invoke(state, config)
    if inspect.iscoroutinefunction(prompt):
        raise RuntimeError(
            "The prompt is an async function but the agent was invoked synchronously. Use "
            "ainvoke()/astream(), or give a sync prompt function."
        )
    if callable(prompt):
        result = prompt(state, **_prompt_kwargs(prompt, config))
        # A prompt function may build a Runnable (``SystemMessage(...) + messages`` is a
        # ChatPromptTemplate): run it on the same state, as LangGraph does.
        return result.invoke(state, config) if isinstance(result, Runnable) else result
    raise ValueError(f"Got unexpected type for `prompt`: {type(prompt)}")


# What a prompt function may ask for by parameter name, as a node can.
_PROMPT_INJECTABLE = ("config", "store", "runtime", "writer")


def _prompt_kwargs(prompt: Callable[..., Any], config: RunnableConfig) -> dict[str, Any]:
    try:
        parameters = inspect.signature(prompt).parameters
    except (TypeError, ValueError):
        return {}
    wanted = [name for name in _PROMPT_INJECTABLE if name in parameters]
    if not wanted:
        return {}
    from stategraph.prebuilt._tool_node import _current_runtime

    runtime = _current_runtime(config)
    values = {"config": config, "store": runtime.store, "runtime": runtime, "writer": runtime.stream_writer}
    return {name: values[name] for name in wanted}


async def abuild_model_input(prompt: Prompt | None, state: Any, config: RunnableConfig) -> Any:
    fixed = _prompt_input(prompt, state)
    if fixed is not None:
        return fixed
    if isinstance(prompt, Runnable):
        return await prompt.ainvoke(state, config)
    if callable(prompt):
        result = prompt(state, **_prompt_kwargs(prompt, config))
        if inspect.isawaitable(result):
            result = await result
        return await result.ainvoke(state, config) if isinstance(result, Runnable) else result
    raise ValueError(f"Got unexpected type for `prompt`: {type(prompt)}")


def check_prompt(prompt: Any) -> None:
    if prompt is None or isinstance(prompt, (str, SystemMessage, Runnable)) or callable(prompt):
        return
    raise ValueError(f"Got unexpected type for `prompt`: {type(prompt)}")


def init_model(spec: str) -> BaseChatModel:
    """A chat model from ``"provider:model"``, through ``langchain.chat_models.init_chat_model``."""
    try:
        from langchain.chat_models import init_chat_model  # type: ignore[import-not-found]
    except ImportError as error:
        raise ImportError(
            "Please install langchain (`pip install langchain`) to use '<provider>:<model>' "
            f"string syntax for `model` parameter (got {spec!r}); or pass a chat model object."
        ) from error
    return cast(BaseChatModel, init_chat_model(spec))


def _first_model_step(model: Any) -> Any:
    if isinstance(model, RunnableSequence):
        return next((step for step in model.steps if isinstance(step, (RunnableBinding, BaseChatModel))), model)
    return model


def should_bind_tools(model: Any, tools: Sequence[BaseTool], builtin_count: int = 0) -> bool:
    """Whether ``model`` still needs ``bind_tools``; a model bound already must match ``tools``."""
    model = _first_model_step(model)
    if not isinstance(model, RunnableBinding) or "tools" not in model.kwargs:
        return True
    bound = model.kwargs["tools"]
    if len(tools) != len(bound) - builtin_count:
        raise ValueError(
            "Number of tools in the model.bind_tools() and tools passed to create_react_agent "
            f"must match Got {len(tools)} tools, expected {len(bound) - builtin_count}"
        )
    bound_names = set()
    for entry in bound:
        if entry.get("type") == "function":
            bound_names.add(entry["function"]["name"])
        elif entry.get("name"):
            bound_names.add(entry["name"])
    missing = {tool.name for tool in tools} - bound_names
    if missing:
        raise ValueError(f"Missing tools '{missing}' in the model.bind_tools()")
    return False


def unwrap_chat_model(model: Any) -> BaseChatModel:
    """The chat model inside a binding or sequence (for ``with_structured_output``)."""
    model = _first_model_step(model)
    if isinstance(model, RunnableBinding):
        model = model.bound
    if not isinstance(model, BaseChatModel):
        raise TypeError(
            "Expected `model` to be a ChatModel or RunnableBinding (e.g. model.bind_tools(...)), "
            f"got {type(model)}"
        )
    return model


def validate_chat_history(messages: Sequence[BaseMessage]) -> None:
    """Every tool call of an AI message must have its ``ToolMessage`` before the model runs."""
    answered = {message.tool_call_id for message in messages if isinstance(message, ToolMessage)}
    unanswered = [
        call
        for message in messages
        if isinstance(message, AIMessage)
        for call in message.tool_calls
        if call["id"] not in answered
    ]
    if not unanswered:
        return
    raise ValueError(
        create_error_message(
            message="Found AIMessages with tool_calls that do not have a corresponding "
            f"ToolMessage. Here are the first few of those tool calls: {unanswered[:3]}.\n\n"
            "Every tool call (LLM requesting to call a tool) in the message history MUST have "
            "a corresponding ToolMessage (result of a tool invocation to return to the LLM) - "
            "this is required by most LLM providers.",
            error_code=ErrorCode.INVALID_CHAT_HISTORY,
        )
    )
