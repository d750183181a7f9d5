"""Let a tool return a ``Command`` through langchain-core's tool machinery unchanged.

langchain-core turns whatever a tool returns into a ``ToolMessage`` string unless it is a
``ToolOutputMixin``. LangGraph's ``Command`` subclasses that mixin; stategraph's cannot (the
engine imports without langchain-core). So ``ToolNode`` runs a copy of each tool whose body
wraps a returned ``Command`` (or list holding one) in a ``ToolOutputMixin`` envelope, which the
node unwraps after the call.
"""

from __future__ import annotations

import functools
from typing import Any

from langchain_core.messages.tool import ToolOutputMixin
from langchain_core.tools import BaseTool

from stategraph.types import Command

__all__ = ["unwrap_tool_return", "with_command_passthrough"]


class _ToolReturn(ToolOutputMixin):
    """A ``Command`` (or a list holding one) on its way out of a tool."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return repr(self.value)


def _envelope(value: Any) -> Any:
    if isinstance(value, Command) or (isinstance(value, list) and any(isinstance(item, Command) for item in value)):
        return _ToolReturn(value)
    return value


def unwrap_tool_return(response: Any) -> Any:
    return response.value if isinstance(response, _ToolReturn) else response


def with_command_passthrough(tool: BaseTool) -> BaseTool:
    """A copy of ``tool`` whose ``Command`` results survive ``tool.invoke(tool_call)``."""
    clone = tool.model_copy()
    run = tool._run
    arun = tool._arun

    # functools.wraps keeps the signature and annotations langchain-core inspects (config,
    # run_manager) when it calls _run/_arun.
    @functools.wraps(run)
    def _run(*args: Any, **kwargs: Any) -> Any:
        return _envelope(run(*args, **kwargs))

    @functools.wraps(arun)
    async def _arun(*args: Any, **kwargs: Any) -> Any:
        return _envelope(await arun(*args, **kwargs))

    object.__setattr__(clone, "_run", _run)
    object.__setattr__(clone, "_arun", _arun)
    return clone
