"""Finding the subgraph a node runs, as LangGraph does: the node itself, or a compiled graph its
function names (a closure variable or a global it reads). Its checkpoints then appear as the
node's task state in ``get_state(subgraphs=True)`` and in the debug stream.
"""

from __future__ import annotations

import inspect
from typing import Any, Optional

__all__ = ["find_subgraph"]


def find_subgraph(action: Any) -> Optional[Any]:
    """The graph ``action`` runs, or None; a graph compiled with ``checkpointer=False`` keeps
    no checkpoints of its own and does not count."""
    from stategraph.pregel._graph import Pregel

    candidates = [action]
    for candidate in candidates:
        if isinstance(candidate, Pregel):
            if candidate.checkpointer is not False:
                return candidate
            continue
        if inspect.ismethod(candidate):
            candidates.append(candidate.__self__)
            candidate = candidate.__func__
        if inspect.isfunction(candidate):
            try:
                names = inspect.getclosurevars(candidate)
            except (TypeError, ValueError):  # a builtin or a function without code
                continue
            for value in (*names.nonlocals.values(), *names.globals.values()):
                if isinstance(value, Pregel) or (
                    inspect.ismethod(value) and isinstance(value.__self__, Pregel)
                ):
                    candidates.append(value)
    return None
