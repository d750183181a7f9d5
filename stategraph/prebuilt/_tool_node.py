"""``ToolNode``: runs the tool calls of the latest AI message, in parallel, and answers each one.

Input: graph state with a messages key, a message list, a list of tool calls, or one call with
its state (what ``create_react_agent`` sends). Output: ``ToolMessage``s in call order, or
``Command``s when tools return them. Failures follow ``handle_tool_errors``; interrupts always
propagate, so ``interrupt()`` works inside tools.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any, cast

from langchain_core.messages import AIMessage, ToolCall, ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.config import get_config_list, get_executor_for_config
from langchain_core.tools import BaseTool
from langchain_core.tools import tool as create_tool
from pydantic import ValidationError

from stategraph.errors import GraphBubbleUp, is_invalid_resume
from stategraph.prebuilt._injection import (
    ToolInjections,
    ToolRuntime,
    inject_arguments,
    injections_of,
)
from stategraph.prebuilt._runnable import NodeRunnable
from stategraph.prebuilt._tool_call import (
    AsyncToolCallWrapper,
    ToolCallRequest,
    ToolCallWrapper,
    is_tool_call_with_context,
)
from stategraph.prebuilt._tool_commands import (
    unwrap_tool_return,
    with_command_passthrough,
)
from stategraph.prebuilt._tool_errors import (
    INVALID_TOOL_NAME_ERROR_TEMPLATE,
    ErrorHandling,
    ToolErrorPolicy,
    invocation_error,
)
from stategraph.prebuilt._tool_results import (
    InputKind,
    ToolOutput,
    combine_outputs,
    normalize_response,
)
from stategraph.runtime import Runtime

__all__ = ["ToolNode"]

_DEFAULT_ERROR_HANDLING: Any = object()


def _current_runtime(config: RunnableConfig | None = None) -> Runtime[Any]:
    # The runtime the config carries (the engine puts the task's there, and so may a caller
    # running the node by hand, as with LangGraph); else the current task's; standalone an
    # empty one, so tools that need no store or context still run.
    from stategraph._context import current_task

    runtime = ((config or {}).get("configurable") or {}).get("__pregel_runtime")
    if runtime is not None:
        return cast(Runtime[Any], runtime)
    task = current_task.get()
    return task.runtime if task is not None else Runtime()


def _read_graph_state(config: RunnableConfig) -> Any:
    """The state this node would receive from an edge, for tool calls sent without one."""
    from stategraph._context import current_task

    task = current_task.get()
    read_state = getattr(task, "read_state", None) if task is not None else None
    if read_state is None:
        read_state = (config.get("configurable") or {}).get("__pregel_read_state")
    return read_state() if read_state is not None else {}


class ToolNode(NodeRunnable):
    """A graph node that runs the tools an AI message asks for.

    ``tools``: ``BaseTool``s or plain functions (turned into tools from their signature and
    docstring). ``handle_tool_errors``: by default only bad arguments from the model become
    error messages; ``True`` catches every error, a string is the message for every error, an
    exception type (or tuple) catches those, a callable ``(e) -> str`` catches the types its
    annotation names, ``False`` catches nothing. ``messages_key``: where the messages live in
    the state. ``wrap_tool_call`` / ``awrap_tool_call``: interceptors around each call.

    Unlike LangGraph's current release, a ``ToolNode`` also runs outside a graph
    (``ToolNode([add]).invoke([ai_message])``); tools needing the store then fail with a clear
    message.
    """

    def __init__(
        self,
        tools: Sequence[BaseTool | Callable[..., Any]],
        *,
        name: str = "tools",
        tags: list[str] | None = None,
        handle_tool_errors: ErrorHandling = _DEFAULT_ERROR_HANDLING,
        messages_key: str = "messages",
        wrap_tool_call: ToolCallWrapper | None = None,
        awrap_tool_call: AsyncToolCallWrapper | None = None,
    ) -> None:
        super().__init__(self._run, self._arun, name=name, tags=tags)
        self._tools_by_name: dict[str, BaseTool] = {}
        self._injections: dict[str, ToolInjections] = {}
        self._runnable_tools: dict[str, BaseTool] = {}  # copies that let Commands through
        for candidate in tools:
            tool = candidate if isinstance(candidate, BaseTool) else create_tool(candidate)
            self._tools_by_name[tool.name] = tool
            self._injections[tool.name] = injections_of(tool)
            self._runnable_tools[tool.name] = with_command_passthrough(tool)
        self._handle_tool_errors = handle_tool_errors
        self._error_policy = (
            ToolErrorPolicy.default()
            if handle_tool_errors is _DEFAULT_ERROR_HANDLING
            else ToolErrorPolicy.from_setting(handle_tool_errors)
        )
        self._messages_key = messages_key
        self._wrap_tool_call = wrap_tool_call
        self._awrap_tool_call = awrap_tool_call

    @property
    def tools_by_name(self) -> dict[str, BaseTool]:
        return self._tools_by_name

    # -- the node body -----------------------------------------------------------------------

    def _run(self, input: Any, config: RunnableConfig) -> Any:
        calls, kind = self._parse_input(input)
        requests = self._requests(input, calls, config)
        if len(requests) == 1:
            outputs = [self._run_one(requests[0], kind)]
        else:
            with get_executor_for_config(config) as executor:
                outputs = list(executor.map(self._run_one, requests, [kind] * len(requests)))
        return combine_outputs(outputs, kind, self._messages_key)

    async def _arun(self, input: Any, config: RunnableConfig) -> Any:
        calls, kind = self._parse_input(input)
        requests = self._requests(input, calls, config)
        outputs = await asyncio.gather(*(self._arun_one(request, kind) for request in requests))
        return combine_outputs(list(outputs), kind, self._messages_key)

    def _parse_input(self, input: Any) -> tuple[list[ToolCall], InputKind]:
        if isinstance(input, list):
            if input and isinstance(input[-1], dict) and input[-1].get("type") == "tool_call":
                return cast(list[ToolCall], input), "tool_calls"
            messages, kind = input, "list"
        elif is_tool_call_with_context(input):
            return [input["tool_call"]], "tool_calls"
        elif isinstance(input, dict):
            messages, kind = input.get(self._messages_key, []), "dict"
        else:
            messages, kind = getattr(input, self._messages_key, []), "dict"
        if not messages:
            raise ValueError("No message found in input")
        latest = next((m for m in reversed(messages) if isinstance(m, AIMessage)), None)
        if latest is None:
            raise ValueError("No AIMessage found in input")
        return list(latest.tool_calls), cast(InputKind, kind)

    def _requests(self, input: Any, calls: list[ToolCall], config: RunnableConfig) -> list[ToolCallRequest]:
        runtime = _current_runtime(config)
        state = self._state_for_tools(input, config)
        tools = list(self._tools_by_name.values())
        return [
            ToolCallRequest(
                tool_call=call,
                tool=self._tools_by_name.get(call["name"]),
                state=state,
                runtime=ToolRuntime(
                    state=state,
                    context=runtime.context,
                    config=call_config,
                    stream_writer=runtime.stream_writer,
                    tool_call_id=call.get("id"),
                    store=runtime.store,
                    tools=tools,
                    execution_info=runtime.execution_info,
                    server_info=runtime.server_info,
                ),
            )
            for call, call_config in zip(calls, get_config_list(config, len(calls)))
        ]

    @staticmethod
    def _state_for_tools(input: Any, config: RunnableConfig) -> Any:
        if is_tool_call_with_context(input):
            return input["state"]
        if isinstance(input, list) and input and isinstance(input[-1], dict) and input[-1].get("type") == "tool_call":
            return _read_graph_state(config)
        return input

    # -- one call ----------------------------------------------------------------------------

    def _run_one(self, request: ToolCallRequest, kind: InputKind) -> ToolOutput:
        if self._wrap_tool_call is None:
            return self._execute(request, kind)
        try:
            return self._wrap_tool_call(request, lambda req: cast(Any, self._execute(req, kind)))
        except GraphBubbleUp:
            raise
        except Exception as error:
            if is_invalid_resume(error):
                raise
            return self._error_message(error, request.tool_call)

    async def _arun_one(self, request: ToolCallRequest, kind: InputKind) -> ToolOutput:
        try:
            if self._awrap_tool_call is not None:

                async def execute(req: ToolCallRequest) -> Any:
                    return await self._aexecute(req, kind)

                return await self._awrap_tool_call(request, execute)
            if self._wrap_tool_call is not None:
                return self._wrap_tool_call(request, lambda req: cast(Any, self._execute(req, kind)))
        except GraphBubbleUp:
            raise
        except Exception as error:
            if is_invalid_resume(error):
                raise
            return self._error_message(error, request.tool_call)
        return await self._aexecute(request, kind)

    def _execute(self, request: ToolCallRequest, kind: InputKind) -> ToolOutput:
        prepared = self._prepare(request)
        if isinstance(prepared, ToolMessage):
            return prepared
        tool, arguments, injections = prepared
        call = request.tool_call
        try:
            try:
                response = unwrap_tool_return(tool.invoke(arguments, request.runtime.config))
            except ValidationError as error:
                if is_invalid_resume(error):
                    raise  # the answer to an interrupt() inside the tool: answer it again
                raise invocation_error(call["name"], error, call["args"], injections.hidden) from error
            return normalize_response(response, call, kind, self._messages_key)
        except GraphBubbleUp:
            raise
        except Exception as error:
            if is_invalid_resume(error):
                raise
            return self._error_message(error, call)

    async def _aexecute(self, request: ToolCallRequest, kind: InputKind) -> ToolOutput:
        prepared = self._prepare(request)
        if isinstance(prepared, ToolMessage):
            return prepared
        tool, arguments, injections = prepared
        call = request.tool_call
        try:
            try:
                response = unwrap_tool_return(await tool.ainvoke(arguments, request.runtime.config))
            except ValidationError as error:
                if is_invalid_resume(error):
                    raise  # the answer to an interrupt() inside the tool: answer it again
                raise invocation_error(call["name"], error, call["args"], injections.hidden) from error
            return normalize_response(response, call, kind, self._messages_key)
        except GraphBubbleUp:
            raise
        except Exception as error:
            if is_invalid_resume(error):
                raise
            return self._error_message(error, call)

    def _prepare(self, request: ToolCallRequest) -> ToolMessage | tuple[BaseTool, ToolCall, ToolInjections]:
        """The tool and its arguments (injected values in place), or the unknown-tool answer."""
        call = request.tool_call
        tool = request.tool if request.tool is not None else self._tools_by_name.get(call["name"])
        if tool is None:
            return ToolMessage(
                INVALID_TOOL_NAME_ERROR_TEMPLATE.format(
                    requested_tool=call["name"], available_tools=", ".join(self._tools_by_name)
                ),
                name=call["name"],
                tool_call_id=call["id"],
                status="error",
            )
        if self._tools_by_name.get(tool.name) is tool:
            injections = self._injections[tool.name]
            runnable = self._runnable_tools[tool.name]
        else:  # a tool swapped in by an interceptor
            injections = injections_of(tool)
            runnable = with_command_passthrough(tool)
        injected = inject_arguments(call, injections, request.runtime, self._messages_key)
        return runnable, ToolCall(**{**injected, "type": "tool_call"}), injections

    def _error_message(self, error: Exception, call: ToolCall) -> ToolMessage:
        content = self._error_policy.message_for(error)
        if content is None:
            raise error
        return ToolMessage(content=content, name=call["name"], tool_call_id=call["id"], status="error")

