"""Finding the subgraph a node runs, as LangGraph does: the node itself, or a compiled graph its
function reaches: a closure variable, a global it reads, or a value along an attribute path it
loads from one (``holder.graph.invoke(...)``), in its own code or in functions nested in it, and
through ``__wrapped__``. Its checkpoints then appear as the node's task state in
``get_state(subgraphs=True)`` and in the debug stream.

Attribute paths are read from the function's bytecode, so only loads the compiled code can make
count, and they are followed with ``inspect.getattr_static``: finding a subgraph never runs a
property or ``__getattr__`` of the user's objects.
"""

from __future__ import annotations

import dis
import inspect
import types
from typing import Any, Iterator, Optional

__all__ = ["find_subgraph"]

_NAME_LOADS = frozenset({"LOAD_GLOBAL", "LOAD_DEREF", "LOAD_CLASSDEREF", "LOAD_NAME"})
_ATTRIBUTE_LOADS = frozenset({"LOAD_ATTR", "LOAD_METHOD"})


def find_subgraph(action: Any) -> Optional[Any]:
    """The graph ``action`` runs, or None; a graph compiled with ``checkpointer=False`` keeps
    no checkpoints of its own and does not count."""
    from stategraph.pregel._graph import Pregel

    candidates = [action]
    visited: set[int] = set()
    for candidate in candidates:
        if id(candidate) in visited:
            continue
        visited.add(id(candidate))
        if isinstance(candidate, Pregel):
            if candidate.checkpointer is not False:
                return candidate
            continue
        if inspect.ismethod(candidate):
            if isinstance(candidate.__self__, Pregel):
                candidates.append(candidate.__self__)
                continue
            candidates.append(candidate.__self__)
            candidate = candidate.__func__
        wrapped = getattr(candidate, "__wrapped__", None) if inspect.isfunction(candidate) else None
        if callable(wrapped):
            candidates.append(wrapped)
        if inspect.isfunction(candidate):
            candidates.extend(
                value
                for value in _reached_values(candidate)
                if isinstance(value, Pregel) or (inspect.ismethod(value) and isinstance(value.__self__, Pregel))
            )
    return None


def _reached_values(func: types.FunctionType) -> Iterator[Any]:
    """Every value ``func`` may read from outside itself: its filled closure cells, the globals
    it names, and each value along the attribute paths its code loads from those (and that its
    nested functions load from its closure)."""
    scope: dict[str, Any] = {}
    for name, cell in zip(func.__code__.co_freevars, func.__closure__ or ()):
        try:
            scope[name] = cell.cell_contents
        except ValueError:  # an empty cell: a variable assigned after the function was made
            continue
    yield from scope.values()
    names = func.__globals__
    code = func.__code__
    for name in code.co_names:
        if name in names and name not in scope:
            yield names[name]
    yield from _attribute_paths(code, scope, names)
    # Nested functions reach the globals only once they are called: as LangGraph, only what they
    # read from this function's closure counts.
    for nested in _codes(code):
        if nested is not code:
            yield from _attribute_paths(nested, scope, {})


def _codes(code: types.CodeType) -> Iterator[types.CodeType]:
    yield code
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            yield from _codes(constant)


def _attribute_paths(code: types.CodeType, scope: dict[str, Any], names: dict[str, Any]) -> Iterator[Any]:
    value: Any = None
    following = False
    for instruction in dis.get_instructions(code):
        if instruction.opname in _NAME_LOADS:
            name = instruction.argval
            following = name in scope or name in names
            value = scope[name] if name in scope else names.get(name)
        elif instruction.opname in _ATTRIBUTE_LOADS and following:
            try:
                value = inspect.getattr_static(value, instruction.argval)
            except AttributeError:
                following = False
                continue
            yield value
        else:
            following = False
