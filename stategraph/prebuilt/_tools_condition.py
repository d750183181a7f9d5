"""``tools_condition``: after the model speaks, go to the ``tools`` node or end."""

from __future__ import annotations

from typing import Any, Literal

__all__ = ["tools_condition"]


def tools_condition(state: Any, messages_key: str = "messages") -> Literal["tools", "__end__"]:
    """``"tools"`` if the last message asks for tool calls, else ``"__end__"``.

    ``state`` is a message list, or a dict / object holding one under ``messages_key``. Use it
    as ``builder.add_conditional_edges("chatbot", tools_condition)`` with a node named
    ``"tools"``.
    """
    if isinstance(state, list):
        messages = state
    elif isinstance(state, dict):
        messages = state.get(messages_key, [])
    else:
        messages = getattr(state, messages_key, [])
    if not messages:
        raise ValueError(
            f"No messages found in input state to tool_edge: {state}. tools_condition reads the "
            f"last message of state[{messages_key!r}]; pass messages_key=... if they live elsewhere."
        )
    last = messages[-1]
    if getattr(last, "tool_calls", None):
        return "tools"
    return "__end__"
