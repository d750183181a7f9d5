"""Graph lifecycle callbacks: a handler told when a run pauses for interrupts and resumes.

As LangGraph's ``langgraph.callbacks``: subclass ``GraphCallbackHandler`` (a LangChain
callback handler), pass it in ``config["callbacks"]`` (a list or a ``CallbackManager``), and its
``on_interrupt`` / ``on_resume`` get a ``GraphInterruptEvent`` / ``GraphResumeEvent``. Other
handlers never receive these events. An error in a handler is logged and the run goes on,
unless the handler sets ``raise_error = True``. Importing this module imports langchain-core;
the engine itself does so only when a run is given callbacks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Optional, Union
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler

from stategraph.types import Interrupt

__all__ = [
    "GraphCallbackHandler",
    "GraphInterruptEvent",
    "GraphLifecycleEvent",
    "GraphLifecycleStatus",
    "GraphResumeEvent",
]

GraphLifecycleStatus = Literal[
    "input", "pending", "done", "interrupt_before", "interrupt_after", "out_of_steps"
]
"""The run's status when a lifecycle event is taken."""


@dataclass(frozen=True)
class GraphInterruptEvent:
    """The run paused: for ``interrupt()`` calls (status ``pending``) or at a breakpoint."""

    run_id: Optional[UUID]
    status: GraphLifecycleStatus
    checkpoint_id: str
    checkpoint_ns: tuple[str, ...]  # () for the root graph
    interrupts: tuple[Interrupt, ...]


@dataclass(frozen=True)
class GraphResumeEvent:
    """The run resumed a thread that was waiting (``Command(resume=...)`` or ``None``)."""

    run_id: Optional[UUID]
    status: GraphLifecycleStatus
    checkpoint_id: str
    checkpoint_ns: tuple[str, ...]


GraphLifecycleEvent = Union[GraphInterruptEvent, GraphResumeEvent]


class GraphCallbackHandler(BaseCallbackHandler):
    """Base class of the handlers that observe graph lifecycle transitions."""

    def on_interrupt(self, event: GraphInterruptEvent) -> Any:
        """Called when the run pauses for one or more interrupts."""

    def on_resume(self, event: GraphResumeEvent) -> Any:
        """Called when the run resumes from a saved checkpoint."""
