"""``ShallowPostgresSaver`` and ``AsyncShallowPostgresSaver``: only the latest checkpoint.

Each namespace of a thread keeps one checkpoint, the latest, with its pending writes and the
values it names; every ``put`` replaces the one before. ``get_tuple`` ignores a
``checkpoint_id`` and returns the latest; ``list`` yields at most one checkpoint per namespace.
Interrupts and resumes work; time travel does not. Deprecated in LangGraph (as here) in favour
of ``PostgresSaver`` with ``durability="exit"``, or ``PostgresSaver.prune``.
"""

from __future__ import annotations

import warnings
from typing import Any, List, Sequence, Tuple

from stategraph.checkpoint._types import RunnableConfig
from stategraph.checkpoint.postgres import PostgresSaver
from stategraph.checkpoint.postgres.aio import AsyncPostgresSaver

__all__ = ["AsyncShallowPostgresSaver", "ShallowPostgresSaver"]


def _warn_deprecated(name: str, replacement: str) -> None:
    warnings.warn(
        f"{name} is deprecated as of version 2.0.20 and will be removed in 3.0.0. "
        f"Use {replacement} instead, and invoke the graph with "
        "`graph.invoke(..., durability='exit')`.",
        DeprecationWarning,
        stacklevel=3,
    )


class ShallowPostgresSaver(PostgresSaver):
    """``PostgresSaver`` that keeps only the latest checkpoint of each thread namespace."""

    _shallow = True

    def __init__(self, conn: Any, pipe: Any = None, serde: Any = None, **kwargs: Any) -> None:
        _warn_deprecated("ShallowPostgresSaver", "PostgresSaver")
        super().__init__(conn, pipe, serde, **kwargs)

    def put_batch(self, calls: Sequence[Tuple[Any, ...]]) -> List[RunnableConfig]:
        # Each statement replaces a namespace's one checkpoint: one step per statement.
        one_by_one = super().put_batch
        return [config for call in calls for config in one_by_one([call])]


class AsyncShallowPostgresSaver(AsyncPostgresSaver):
    """``AsyncPostgresSaver`` that keeps only the latest checkpoint of each thread namespace."""

    _shallow = True

    def __init__(self, conn: Any, pipe: Any = None, serde: Any = None, **kwargs: Any) -> None:
        _warn_deprecated("AsyncShallowPostgresSaver", "AsyncPostgresSaver")
        super().__init__(conn, pipe, serde, **kwargs)

    async def aput_batch(self, calls: Sequence[Tuple[Any, ...]]) -> List[RunnableConfig]:
        configs: List[RunnableConfig] = []
        for call in calls:
            configs.extend(await super().aput_batch([call]))
        return configs
