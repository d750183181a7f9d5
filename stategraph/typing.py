"""Type variables for annotating graphs, nodes and runtimes, under LangGraph's names.

``StateGraph[State, Context, Input, Output]`` and ``Runtime[Context]`` are generic over these;
``ContextT`` defaults to ``None`` and ``InputT`` / ``OutputT`` to the state type, so
``StateGraph[State]`` and ``ToolRuntime[Context]`` are complete annotations.
"""

from __future__ import annotations

from typing_extensions import TypeVar

__all__ = [
    "ContextT",
    "ContextT_contra",
    "InputT",
    "NodeInputT",
    "NodeInputT_contra",
    "OutputT",
    "StateT",
    "StateT_co",
    "StateT_contra",
]

StateT = TypeVar("StateT")
"""The state of a graph."""

StateT_co = TypeVar("StateT_co", covariant=True)
StateT_contra = TypeVar("StateT_contra", contravariant=True)

ContextT = TypeVar("ContextT", default=None)
"""The run-scoped context of a graph (``Runtime.context``); ``None`` when not given."""

ContextT_contra = TypeVar("ContextT_contra", contravariant=True, default=None)

InputT = TypeVar("InputT", default=StateT)
"""The input of a ``StateGraph``; defaults to its state."""

OutputT = TypeVar("OutputT", default=StateT)
"""The output of a ``StateGraph``; defaults to its state."""

NodeInputT = TypeVar("NodeInputT")
"""The input of a node."""

NodeInputT_contra = TypeVar("NodeInputT_contra", contravariant=True)
