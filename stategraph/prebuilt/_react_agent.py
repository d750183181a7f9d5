"""``create_react_agent``: a model that calls tools in a loop until it answers, as a compiled graph.

Nodes: ``agent`` (the model), ``tools`` (a ``ToolNode``), and optionally ``pre_model_hook``,
``post_model_hook`` and ``generate_structured_response``. In version ``v2`` each tool call is
sent to ``tools`` as its own task, so an interrupt in one tool does not re-run the others.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any, Literal, TypeVar, Union, cast

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AnyMessage,
    BaseMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.runnables import Runnable, RunnableConfig
from langchain_core.tools import BaseTool
from pydantic import BaseModel
from typing_extensions import NotRequired, TypedDict

from stategraph._deprecated import take_renamed
from stategraph._constants import END
from stategraph.graph._message import add_messages
from stategraph.managed import RemainingSteps
from stategraph.prebuilt._agent_model import (
    Prompt,
    abuild_model_input,
    build_model_input,
    check_prompt,
    get_state_value,
    init_model,
    should_bind_tools,
    unwrap_chat_model,
    validate_chat_history,
)
from stategraph.prebuilt._runnable import NodeRunnable
from stategraph.prebuilt._tool_node import ToolNode, _current_runtime
from stategraph.types import Send

__all__ = [
    "AgentState",
    "AgentStatePydantic",
    "AgentStateWithStructuredResponse",
    "AgentStateWithStructuredResponsePydantic",
    "StateSchema",
    "StateSchemaType",
    "StructuredResponse",
    "StructuredResponseSchema",
    "create_react_agent",
    "create_tool_calling_executor",
]

StructuredResponse = Union[dict[str, Any], BaseModel]
StructuredResponseSchema = Union[dict[str, Any], type[BaseModel]]
OUT_OF_STEPS = "Sorry, need more steps to process this request."


class AgentState(TypedDict):
    """The state of the agent."""

    messages: Annotated[Sequence[BaseMessage], add_messages]
    remaining_steps: NotRequired[RemainingSteps]


class AgentStatePydantic(BaseModel):
    """The state of the agent, as a pydantic model."""

    messages: Annotated[Sequence[BaseMessage], add_messages]
    remaining_steps: RemainingSteps = 25


# The state classes an agent accepts; LangGraph's names for annotating custom state schemas.
StateSchema = TypeVar("StateSchema", bound=Union[AgentState, AgentStatePydantic])
StateSchemaType = type[StateSchema]


class AgentStateWithStructuredResponse(AgentState):
    """The state of the agent with a structured response."""

    structured_response: StructuredResponse


class AgentStateWithStructuredResponsePydantic(AgentStatePydantic):
    """The state of the agent with a structured response, as a pydantic model."""

    structured_response: StructuredResponse


def _schema_keys(schema: Any) -> set[str]:
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return set(schema.model_fields)
    keys: set[str] = set()
    for klass in reversed(getattr(schema, "__mro__", (schema,))):
        keys.update(getattr(klass, "__annotations__", {}))
    return keys


class _AgentModel:
    """The ``agent`` node's model call: prompt, model (static or chosen per call), step budget."""

    def __init__(
        self,
        model: Any,
        prompt: Prompt | None,
        *,
        state_schema: Any,
        uses_pre_model_hook: bool,
        return_direct: set[str],
        name: str | None,
    ) -> None:
        self.model = model
        self.prompt = prompt
        self.dynamic = not isinstance(model, (str, Runnable)) and callable(model)
        self.async_dynamic = self.dynamic and inspect.iscoroutinefunction(model)
        self.pydantic_state = isinstance(state_schema, type) and issubclass(state_schema, BaseModel)
        self.uses_pre_model_hook = uses_pre_model_hook
        self.return_direct = return_direct
        self.name = name

    def resolve(self, state: Any, config: RunnableConfig) -> Any:
        if self.async_dynamic:
            raise RuntimeError(
                "Async model callable provided but agent invoked synchronously. Use "
                "agent.ainvoke() or agent.astream(), or provide a sync model callable."
            )
        return self.model(state, _current_runtime(config)) if self.dynamic else self.model

    async def aresolve(self, state: Any, config: RunnableConfig) -> Any:
        if self.async_dynamic:
            return await self.model(state, _current_runtime(config))
        return self.model(state, _current_runtime(config)) if self.dynamic else self.model

    def input_state(self, state: Any) -> Any:
        """The state the prompt sees: ``llm_input_messages`` (from a pre-model hook) as messages."""
        messages = get_state_value(state, "messages")
        expected = "'messages' key"
        if self.uses_pre_model_hook:
            messages = get_state_value(state, "llm_input_messages") or messages
            expected = "'llm_input_messages' or 'messages' key"
        if messages is None:
            raise ValueError(f"Expected input to call_model to have {expected}, but got {state}")
        validate_chat_history(messages)
        if self.pydantic_state:
            return state.model_copy(update={"messages": messages})
        return {**state, "messages": messages}

    def answer(self, state: Any, response: Any) -> dict[str, Any]:
        response.name = self.name
        if self._out_of_steps(state, response):
            response = AIMessage(id=response.id, content=OUT_OF_STEPS)
        return {"messages": [response]}

    def _out_of_steps(self, state: Any, response: Any) -> bool:
        remaining = get_state_value(state, "remaining_steps", None)
        if remaining is None or not isinstance(response, AIMessage):
            return False
        calls = response.tool_calls
        if remaining < 1 and calls and all(call["name"] in self.return_direct for call in calls):
            return True
        return remaining < 2 and bool(calls)

    def call(self, state: Any, config: RunnableConfig) -> dict[str, Any]:
        model = self.resolve(state, config)
        model_input = build_model_input(self.prompt, self.input_state(state), config)
        return self.answer(state, model.invoke(model_input, config))

    async def acall(self, state: Any, config: RunnableConfig) -> dict[str, Any]:
        model = await self.aresolve(state, config)
        model_input = await abuild_model_input(self.prompt, self.input_state(state), config)
        return self.answer(state, await model.ainvoke(model_input, config))

    def _structured_input(self, state: Any, response_format: Any) -> tuple[list[BaseMessage], Any]:
        messages = list(get_state_value(state, "messages"))
        schema = response_format
        if isinstance(response_format, tuple):
            system_prompt, schema = response_format
            messages = [SystemMessage(content=system_prompt), *messages]
        return messages, schema

    def structured(self, response_format: Any) -> NodeRunnable:
        def generate(state: Any, config: RunnableConfig) -> dict[str, Any]:
            messages, schema = self._structured_input(state, response_format)
            model = unwrap_chat_model(self.resolve(state, config)).with_structured_output(schema)
            return {"structured_response": model.invoke(messages, config)}

        async def agenerate(state: Any, config: RunnableConfig) -> dict[str, Any]:
            messages, schema = self._structured_input(state, response_format)
            model = unwrap_chat_model(await self.aresolve(state, config)).with_structured_output(schema)
            return {"structured_response": await model.ainvoke(messages, config)}

        return NodeRunnable(generate, agenerate, name="generate_structured_response")


def _tool_sends(calls: Sequence[Any], state: Any) -> list[Send]:
    return [
        Send("tools", {"__type": "tool_call_with_context", "tool_call": call, "state": state})
        for call in calls
    ]


def create_react_agent(
    model: str | Runnable[Any, Any] | Callable[..., BaseChatModel | Runnable[Any, Any] | Awaitable[Any]],
    tools: Sequence[BaseTool | Callable[..., Any] | dict[str, Any]] | ToolNode,
    *,
    prompt: Prompt | None = None,
    response_format: StructuredResponseSchema | tuple[str, StructuredResponseSchema] | None = None,
    pre_model_hook: Any | None = None,
    post_model_hook: Any | None = None,
    state_schema: Any | None = None,
    context_schema: type[Any] | None = None,
    checkpointer: Any = None,
    store: Any = None,
    interrupt_before: list[str] | None = None,
    interrupt_after: list[str] | None = None,
    debug: bool = False,
    version: Literal["v1", "v2"] = "v2",
    name: str | None = None,
    **deprecated_kwargs: Any,
) -> Any:
    """A graph that calls ``model``, runs the tools it asks for, and repeats until it answers.

    ``model``: a chat model, a ``"provider:model"`` string (needs ``langchain``), a model with
    tools bound already, or ``(state, runtime) -> model`` chosen per call. ``prompt``: a string
    or ``SystemMessage`` put first, or a callable/Runnable ``state -> model input``.
    ``response_format``: a schema (or ``(system_prompt, schema)``) for a final structured answer
    in ``structured_response``. ``pre_model_hook`` runs before every model call (it may return
    ``llm_input_messages`` to feed the model without changing state); ``post_model_hook`` after
    it. ``version="v2"`` sends each tool call to ``tools`` separately. The rest is passed to
    ``compile``. Unlike LangGraph, calling it emits no deprecation warning.
    """
    from stategraph.graph import StateGraph

    context_schema = context_schema or take_renamed(deprecated_kwargs, "config_schema")
    if deprecated_kwargs:
        raise TypeError(f"create_react_agent() got unexpected keyword arguments: {deprecated_kwargs}")
    if version not in ("v1", "v2"):
        raise ValueError(f"Invalid version {version}. Supported versions are 'v1' and 'v2'.")
    check_prompt(prompt)
    if state_schema is not None:
        required = {"messages", "remaining_steps"} | ({"structured_response"} if response_format is not None else set())
        missing = required - _schema_keys(state_schema)
        if missing:
            raise ValueError(f"Missing required key(s) {missing} in state_schema")
    else:
        state_schema = AgentStateWithStructuredResponse if response_format is not None else AgentState

    builtin_tools: list[dict[str, Any]] = []
    if isinstance(tools, ToolNode):
        tool_node = tools
    else:
        builtin_tools = [t for t in tools if isinstance(t, dict)]
        tool_node = ToolNode([t for t in tools if not isinstance(t, dict)])
    tool_classes = list(tool_node.tools_by_name.values())

    if isinstance(model, str):
        model = init_model(model)
    if isinstance(model, Runnable) and tool_classes + builtin_tools:
        if should_bind_tools(model, tool_classes, builtin_count=len(builtin_tools)):
            model = cast(BaseChatModel, model).bind_tools([*tool_classes, *builtin_tools])

    return_direct = {tool.name for tool in tool_classes if tool.return_direct}
    agent_model = _AgentModel(
        model,
        prompt,
        state_schema=state_schema,
        uses_pre_model_hook=pre_model_hook is not None,
        return_direct=return_direct,
        name=name,
    )
    input_schema = state_schema
    if pre_model_hook is not None:
        input_schema = _with_llm_input_messages(state_schema)

    workflow = StateGraph(state_schema, context_schema=context_schema)
    workflow.add_node("agent", NodeRunnable(agent_model.call, agent_model.acall, name="agent"), input_schema=input_schema)
    entrypoint = "agent"
    if pre_model_hook is not None:
        workflow.add_node("pre_model_hook", pre_model_hook)
        workflow.add_edge("pre_model_hook", "agent")
        entrypoint = "pre_model_hook"
    workflow.set_entry_point(entrypoint)
    if post_model_hook is not None:
        workflow.add_node("post_model_hook", post_model_hook)
    if response_format is not None:
        workflow.add_node("generate_structured_response", agent_model.structured(response_format))

    def compiled() -> Any:
        return workflow.compile(
            checkpointer=checkpointer,
            store=store,
            interrupt_before=interrupt_before,
            interrupt_after=interrupt_after,
            debug=debug,
            name=name,
        )

    finish = "generate_structured_response" if response_format is not None else END
    if not tool_classes:
        after_agent = "post_model_hook" if post_model_hook is not None else "agent"
        if post_model_hook is not None:
            workflow.add_edge("agent", "post_model_hook")
        if response_format is not None:
            workflow.add_edge(after_agent, "generate_structured_response")
        return compiled()

    workflow.add_node("tools", tool_node)

    def should_continue(state: Any) -> str | list[Send]:
        last = get_state_value(state, "messages")[-1]
        if not isinstance(last, AIMessage) or not last.tool_calls:
            return finish
        if version == "v1":
            return "tools"
        return _tool_sends(last.tool_calls, state)

    if post_model_hook is not None:
        workflow.add_edge("agent", "post_model_hook")  # the hook decides where to go next
    else:
        workflow.add_conditional_edges("agent", should_continue, path_map=["tools", finish])

    if post_model_hook is not None:

        def after_post_model_hook(state: Any) -> str | list[Send]:
            messages = get_state_value(state, "messages")
            answered = {m.tool_call_id for m in messages if isinstance(m, ToolMessage)}
            last_ai = next(m for m in reversed(messages) if isinstance(m, AIMessage))
            pending = [call for call in last_ai.tool_calls if call["id"] not in answered]
            if pending:
                return _tool_sends(pending, state)
            if isinstance(messages[-1], ToolMessage):
                return entrypoint
            return finish

        workflow.add_conditional_edges(
            "post_model_hook", after_post_model_hook, path_map=[entrypoint, "tools", finish]
        )

    if return_direct:

        def after_tools(state: Any) -> str:
            message: Any = None
            for message in reversed(get_state_value(state, "messages")):
                if not isinstance(message, ToolMessage):
                    break
                if message.name in return_direct:
                    return END
            # Parallel calls sent separately: the return-direct one may have run in another task.
            if isinstance(message, AIMessage) and any(c["name"] in return_direct for c in message.tool_calls):
                return END
            return entrypoint

        workflow.add_conditional_edges("tools", after_tools, path_map=[entrypoint, END])
    else:
        workflow.add_edge("tools", entrypoint)
    return compiled()


def _with_llm_input_messages(state_schema: Any) -> Any:
    """The agent node's input schema when a pre-model hook may set ``llm_input_messages``."""
    if isinstance(state_schema, type) and issubclass(state_schema, BaseModel):
        from pydantic import create_model

        return create_model(
            "CallModelInputSchema", llm_input_messages=(list[AnyMessage], ...), __base__=state_schema
        )

    class CallModelInputSchema(state_schema):  # type: ignore[misc]
        llm_input_messages: list[AnyMessage]

    return CallModelInputSchema


create_tool_calling_executor = create_react_agent
