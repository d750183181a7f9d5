"""``BaseChannel``: the contract every channel implements (LangGraph's, kept exactly).

A channel holds one state key's value between supersteps. The engine calls ``update`` once per
step with all writes for the channel in a fixed order, ``consume`` when a task it triggered
ran, and ``finish`` when the run is about to end. Channels know nothing of the engine.
"""

from __future__ import annotations

from typing import Any, Generic, Sequence, TypeVar

from typing_extensions import Self

from stategraph.errors import EmptyChannelError


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
"""The value of an empty channel (distinct from ``None``, which is a value)."""

Value = TypeVar("Value")
Update = TypeVar("Update")
C = TypeVar("C")


class BaseChannel(Generic[Value, Update, C]):
    """Base class of all channels.

    ``clears_when_idle``: the channel may change on a step with no writes (``update([])``), so
    the engine must call it then; channels that only change when written set it to False.
    """

    __slots__ = ("key", "typ")

    clears_when_idle: bool = True

    def __init__(self, typ: Any, key: str = "") -> None:
        self.typ = typ
        self.key = key

    @property
    def ValueType(self) -> Any:  # noqa: N802 - LangGraph's name
        return self.typ

    @property
    def UpdateType(self) -> Any:  # noqa: N802 - LangGraph's name
        return self.typ

    def copy(self) -> Self:
        return self.from_checkpoint(self.checkpoint())

    def checkpoint(self) -> C | Any:
        """The value to store, or ``MISSING`` when there is nothing to store."""
        try:
            return self.get()  # type: ignore[return-value]
        except EmptyChannelError:
            return MISSING

    def from_checkpoint(self, checkpoint: C | Any) -> Self:
        raise NotImplementedError

    def get(self) -> Value:
        raise NotImplementedError

    def is_available(self) -> bool:
        try:
            self.get()
            return True
        except EmptyChannelError:
            return False

    def update(self, values: Sequence[Update]) -> bool:
        raise NotImplementedError

    def consume(self) -> bool:
        return False

    def finish(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.typ!r})"
