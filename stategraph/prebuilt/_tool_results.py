"""What tools return, turned into what a ``ToolNode`` writes: ``ToolMessage``s and ``Command``s.

A tool's return value becomes message content; a tool returning a ``Command`` must answer its own
tool call inside the command; the results of one node run are combined into one update.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Literal, Union, cast

from langchain_core.messages import (
    RemoveMessage,
    ToolCall,
    ToolMessage,
    convert_to_messages,
)

from stategraph.graph._message import REMOVE_ALL_MESSAGES
from stategraph.types import Command, Send

try:
    from langchain_core.tools.base import TOOL_MESSAGE_BLOCK_TYPES
except ImportError:  # pragma: no cover - older langchain-core
    TOOL_MESSAGE_BLOCK_TYPES = ("text", "image_url", "image", "json")  # type: ignore[assignment]

__all__ = ["InputKind", "ToolOutput", "combine_outputs", "msg_content_output", "normalize_response"]

InputKind = Literal["list", "dict", "tool_calls"]
ToolOutput = Union[ToolMessage, Command[Any], list[Union[ToolMessage, Command[Any]]]]


def msg_content_output(output: Any) -> str | list[dict[str, Any]]:
    """Message content for a tool's output: strings and content blocks as they are, else JSON."""
    if isinstance(output, str) or (
        isinstance(output, list)
        and all(isinstance(block, dict) and block.get("type") in TOOL_MESSAGE_BLOCK_TYPES for block in output)
    ):
        return output
    try:
        return json.dumps(output, ensure_ascii=False)
    except Exception:
        return str(output)


def normalize_response(response: Any, call: ToolCall, kind: InputKind, messages_key: str) -> ToolOutput:
    """Check and tidy what ``tool.invoke(call)`` returned."""
    if isinstance(response, Command):
        return _checked_command(response, call, kind, messages_key, require_answer=True)
    if isinstance(response, ToolMessage):
        response.content = msg_content_output(response.content)  # type: ignore[assignment]
        return response
    if isinstance(response, list):
        if all(isinstance(item, (Command, ToolMessage)) for item in response):
            return _checked_list(response, call, kind, messages_key)
        raise TypeError(
            f"Tool {call['name']} returned a list with invalid element types: expected all "
            "Command or ToolMessage"
        )
    raise TypeError(f"Tool {call['name']} returned unexpected type: {type(response)}")


def _checked_list(
    response: list[Command[Any] | ToolMessage], call: ToolCall, kind: InputKind, messages_key: str
) -> list[Command[Any] | ToolMessage]:
    # Exactly one element, top-level or inside a Command's update, answers the tool call.
    answers = 0
    for item in response:
        if isinstance(item, ToolMessage):
            answers += item.tool_call_id == call["id"]
        elif isinstance(item.update, dict):
            answers += sum(
                1
                for message in _as_list(item.update.get(messages_key, []))
                if isinstance(message, ToolMessage) and message.tool_call_id == call["id"]
            )
    if answers != 1:
        raise ValueError(
            f"Tool {call['name']} returned a list with {answers} messages bound to tool_call_id "
            f"{call['id']!r}; expected exactly one terminating ToolMessage."
        )
    checked: list[Command[Any] | ToolMessage] = []
    for item in response:
        if isinstance(item, Command):
            checked.append(_checked_command(item, call, kind, messages_key, require_answer=False))
        else:
            item.content = msg_content_output(item.content)  # type: ignore[assignment]
            checked.append(item)
    return checked


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _checked_command(
    command: Command[Any], call: ToolCall, kind: InputKind, messages_key: str, *, require_answer: bool
) -> Command[Any]:
    update = command.update
    if isinstance(update, dict):
        if kind not in ("dict", "tool_calls"):
            raise ValueError(
                "Tools can provide a dict in Command.update only when using dict with "
                f"'{messages_key}' key as ToolNode input, got: {update} for tool '{call['name']}'"
            )
        messages = convert_to_messages(_as_list(update.get(messages_key, [])))
        new_update: Any = {**update, messages_key: messages} if messages_key in update else update
    elif isinstance(update, list):
        if kind != "list":
            raise ValueError(
                "Tools can provide a list of messages in Command.update only when using list of "
                f"messages as ToolNode input, got: {update} for tool '{call['name']}'"
            )
        messages = convert_to_messages(update)
        new_update = messages
    else:
        return command
    if len(messages) == 1 and isinstance(messages[0], RemoveMessage) and messages[0].id == REMOVE_ALL_MESSAGES:
        return dataclasses.replace(command, update=new_update)
    answered = False
    for position, message in enumerate(messages):
        if isinstance(message, ToolMessage) and message.tool_call_id == call["id"]:
            messages[position] = message.model_copy(update={"name": call["name"]})
            answered = True
    if require_answer and command.graph is None and not answered:
        example = (
            '`Command(update={"messages": [ToolMessage("Success", tool_call_id=tool_call_id), ...]}, ...)`'
            if kind == "dict"
            else '`Command(update=[ToolMessage("Success", tool_call_id=tool_call_id), ...], ...)`'
        )
        raise ValueError(
            f"Expected to have a matching ToolMessage in Command.update for tool "
            f"'{call['name']}', got: {messages}. Every tool call (LLM requesting to call a tool) "
            "in the message history MUST have a corresponding ToolMessage. You can fix it by "
            f"modifying the tool to return {example}."
        )
    return dataclasses.replace(command, update=new_update)


def combine_outputs(outputs: list[ToolOutput], kind: InputKind, messages_key: str) -> Any:
    """The node's return value: plain messages as before, or a list of updates and Commands.

    Parent-graph Commands that only route with ``Send``s are merged into one.
    """
    flat: list[ToolMessage | Command[Any]] = []
    for output in outputs:
        if isinstance(output, list):
            flat.extend(output)
        else:
            flat.append(output)
    if not any(isinstance(output, Command) for output in flat):
        return flat if kind == "list" else {messages_key: flat}
    combined: list[Any] = []
    parent: Command[Any] | None = None
    for output in flat:
        if not isinstance(output, Command):
            combined.append([output] if kind == "list" else {messages_key: [output]})
        elif (
            output.graph == Command.PARENT
            and isinstance(output.goto, list)
            and all(isinstance(send, Send) for send in output.goto)
        ):
            sends = cast(list[Send], output.goto)
            parent = (
                Command(graph=Command.PARENT, goto=sends)
                if parent is None
                else dataclasses.replace(parent, goto=[*cast(list[Send], parent.goto), *sends])
            )
        else:
            combined.append(output)
    if parent is not None:
        combined.append(parent)
    return combined
