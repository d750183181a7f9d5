"""``Topic``: a pub/sub list of values (the queue of ``Send`` packets is one)."""

from __future__ import annotations

import collections.abc
from typing import Any, Sequence, Union

from typing_extensions import Self

from stategraph.channels.base import MISSING, BaseChannel
from stategraph.errors import EmptyChannelError


class Topic(BaseChannel[Any, Any, Any]):
    """Collects the values written in a step (lists are flattened).

    Without ``accumulate`` the list is reset at every step; with it, values pile up.
    """

    __slots__ = ("values", "accumulate")

    def __init__(self, typ: Any = Any, accumulate: bool = False, key: str = "") -> None:
        super().__init__(typ, key)
        self.accumulate = accumulate
        self.values: list[Any] = []

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Topic) and self.accumulate == other.accumulate

    @property
    def ValueType(self) -> Any:  # noqa: N802 - LangGraph's name
        """What the channel holds: a sequence of the values written."""
        return collections.abc.Sequence[self.typ]  # type: ignore[name-defined]

    @property
    def UpdateType(self) -> Any:  # noqa: N802 - LangGraph's name
        """What a write may be: one value or a list of them."""
        return Union[self.typ, list[self.typ]]  # type: ignore[valid-type]

    def checkpoint(self) -> Any:
        return list(self.values) if self.values else MISSING

    def from_checkpoint(self, checkpoint: Any) -> Self:
        new = type(self)(self.typ, self.accumulate, self.key)
        if checkpoint is not MISSING:
            new.values = list(checkpoint)
        return new

    def update(self, values: Sequence[Any]) -> bool:
        updated = False
        if not self.accumulate and self.values:
            self.values = []
            updated = True
        for value in values:
            if isinstance(value, list):
                self.values.extend(value)
            else:
                self.values.append(value)
            updated = True
        return updated

    def get(self) -> list[Any]:
        if not self.values:
            raise EmptyChannelError()
        return list(self.values)

    def is_available(self) -> bool:
        return bool(self.values)
