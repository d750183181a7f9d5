"""The write-channel names and the structural types checkpointers see, at LangGraph's path.

A checkpointer stores channel values and sends without importing the engine; these protocols
describe what it may rely on.
"""

from __future__ import annotations

from typing import Any, Protocol, Sequence, TypeVar, runtime_checkable

from typing_extensions import Self

from stategraph._constants import ERROR, INTERRUPT, RESUME, SCHEDULED, TASKS
from stategraph.channels._snapshot import _DeltaSnapshot as _DeltaSnapshot

__all__ = [
    "ERROR",
    "INTERRUPT",
    "RESUME",
    "SCHEDULED",
    "TASKS",
    "ChannelProtocol",
    "SendProtocol",
]

Value = TypeVar("Value", covariant=True)
Update = TypeVar("Update", contravariant=True)
C = TypeVar("C")


class ChannelProtocol(Protocol[Value, Update, C]):
    """What a checkpointer may call on a channel (``stategraph.channels.BaseChannel`` has it)."""

    @property
    def ValueType(self) -> Any: ...

    @property
    def UpdateType(self) -> Any: ...

    def checkpoint(self) -> C | None: ...

    def from_checkpoint(self, checkpoint: C | None) -> Self: ...

    def update(self, values: Sequence[Update]) -> bool: ...

    def get(self) -> Value: ...

    def consume(self) -> bool: ...


@runtime_checkable
class SendProtocol(Protocol):
    """A packet for one node (``stategraph.types.Send`` has this shape)."""

    node: str
    arg: Any

    def __hash__(self) -> int: ...

    def __repr__(self) -> str: ...

    def __eq__(self, value: object) -> bool: ...

