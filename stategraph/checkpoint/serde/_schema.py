"""Finding the classes a schema names, so they can be registered for checkpointing.

``collect_schema_types`` walks a type annotation the way ``compile()`` sees a state schema:
TypedDict keys, dataclass and pydantic fields, NamedTuple fields, and the arguments of
``list[X]``, ``dict[K, V]``, ``Optional``/``Union``/``X | Y``, ``Annotated`` and the like.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import typing
from typing import Any, get_args, get_origin

from typing_extensions import is_typeddict

from stategraph.checkpoint.serde._codecs import class_kind

__all__ = ["collect_schema_types"]

_SKIPPED_ORIGINS = (typing.Literal, collections.abc.Callable, typing.ClassVar, type)


def collect_schema_types(tp: Any) -> set[type]:
    """The dataclasses, pydantic models, NamedTuples and Enums ``tp`` names, at any depth.

    >>> collect_schema_types(dict[str, list[Order]])  # doctest: +SKIP
    {Order, LineItem, Currency}   # Order's fields name LineItem and the Currency enum

    Forward references that cannot be resolved are skipped.
    """
    found: set[type] = set()
    _walk(tp, found, set())
    return found


def _walk(tp: Any, found: set[type], seen: set[int]) -> None:
    if id(tp) in seen or tp is None or tp is Any or isinstance(tp, (str, typing.ForwardRef)):
        return
    seen.add(id(tp))
    if isinstance(tp, typing.TypeVar):
        for bound in (tp.__bound__, *tp.__constraints__):
            _walk(bound, found, seen)
        return
    origin = get_origin(tp)
    if origin is not None:
        if origin in _SKIPPED_ORIGINS:
            return
        if class_kind(origin) is not None:  # a parametrised class of ours, e.g. Box[int]
            _walk(origin, found, seen)
        arguments = get_args(tp)
        if origin is typing.Annotated:
            arguments = arguments[:1]
        for argument in arguments:
            if isinstance(argument, (list, tuple)):
                for inner in argument:
                    _walk(inner, found, seen)
            else:
                _walk(argument, found, seen)
        return
    if not isinstance(tp, type):
        return
    if is_typeddict(tp):
        _walk_hints(tp, found, seen)
        return
    kind = class_kind(tp)
    if kind is None:
        return
    found.add(tp)
    if kind == "pydantic":
        for field in tp.model_fields.values():  # type: ignore[attr-defined]
            _walk(field.annotation, found, seen)
    elif kind == "pydantic_v1":
        for field in tp.__fields__.values():  # type: ignore[attr-defined]
            _walk(field.outer_type_, found, seen)
    elif kind == "dataclass":
        hints = _hints(tp)
        for field in dataclasses.fields(tp):
            _walk(hints.get(field.name, field.type), found, seen)
    elif kind == "namedtuple":
        _walk_hints(tp, found, seen)


def _walk_hints(tp: type, found: set[type], seen: set[int]) -> None:
    for hint in _hints(tp).values():
        _walk(hint, found, seen)


def _hints(tp: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(tp, include_extras=True)
    except Exception:
        # Unresolvable forward references: fall back to what is already evaluated.
        annotations: dict[str, Any] = {}
        for klass in reversed(tp.__mro__):
            annotations.update(getattr(klass, "__annotations__", {}))
        return {name: hint for name, hint in annotations.items() if not isinstance(hint, str)}
