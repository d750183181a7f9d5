"""Running tools in a graph: ``ToolNode``, ``tools_condition`` and tool-argument injection."""

from stategraph.prebuilt._injection import InjectedState as InjectedState
from stategraph.prebuilt._injection import InjectedStore as InjectedStore
from stategraph.prebuilt._injection import ToolRuntime as ToolRuntime
from stategraph.prebuilt._tool_call import AsyncToolCallWrapper as AsyncToolCallWrapper
from stategraph.prebuilt._tool_call import ToolCallRequest as ToolCallRequest
from stategraph.prebuilt._tool_call import ToolCallWithContext as ToolCallWithContext
from stategraph.prebuilt._tool_call import ToolCallWrapper as ToolCallWrapper
from stategraph.prebuilt._tool_errors import (
    INVALID_TOOL_NAME_ERROR_TEMPLATE as INVALID_TOOL_NAME_ERROR_TEMPLATE,
)
from stategraph.prebuilt._tool_errors import (
    TOOL_CALL_ERROR_TEMPLATE as TOOL_CALL_ERROR_TEMPLATE,
)
from stategraph.prebuilt._tool_errors import (
    TOOL_EXECUTION_ERROR_TEMPLATE as TOOL_EXECUTION_ERROR_TEMPLATE,
)
from stategraph.prebuilt._tool_errors import (
    TOOL_INVOCATION_ERROR_TEMPLATE as TOOL_INVOCATION_ERROR_TEMPLATE,
)
from stategraph.prebuilt._tool_errors import ToolInvocationError as ToolInvocationError
from stategraph.prebuilt._tool_node import ToolNode as ToolNode
from stategraph.prebuilt._tool_results import msg_content_output as msg_content_output
from stategraph.prebuilt._tools_condition import tools_condition as tools_condition

__all__ = [
    "INVALID_TOOL_NAME_ERROR_TEMPLATE",
    "TOOL_CALL_ERROR_TEMPLATE",
    "TOOL_EXECUTION_ERROR_TEMPLATE",
    "TOOL_INVOCATION_ERROR_TEMPLATE",
    "AsyncToolCallWrapper",
    "InjectedState",
    "InjectedStore",
    "ToolCallRequest",
    "ToolCallWithContext",
    "ToolCallWrapper",
    "ToolInvocationError",
    "ToolNode",
    "ToolRuntime",
    "msg_content_output",
    "tools_condition",
]
