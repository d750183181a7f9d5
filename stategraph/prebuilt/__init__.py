"""Prebuilt agent parts: ``ToolNode``, ``tools_condition``, ``create_react_agent``, ``ValidationNode``.

Needs langchain-core (tools, messages and chat models are its types).
"""

from stategraph.prebuilt.chat_agent_executor import (
    create_react_agent as create_react_agent,
)
from stategraph.prebuilt.tool_node import InjectedState as InjectedState
from stategraph.prebuilt.tool_node import InjectedStore as InjectedStore
from stategraph.prebuilt.tool_node import ToolNode as ToolNode
from stategraph.prebuilt.tool_node import ToolRuntime as ToolRuntime
from stategraph.prebuilt.tool_node import tools_condition as tools_condition
from stategraph.prebuilt.tool_validator import ValidationNode as ValidationNode

__all__ = [
    "InjectedState",
    "InjectedStore",
    "ToolNode",
    "ToolRuntime",
    "ValidationNode",
    "create_react_agent",
    "tools_condition",
]
