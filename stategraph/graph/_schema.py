"""State schemas: from a TypedDict, dataclass or pydantic model to channels.

Read once, at graph-building time: which keys exist, which channel each key gets, which keys
are managed values, and how to turn a dict into the schema's own class.
"""

from __future__ import annotations

import dataclasses
import inspect
import sys
import typing
from typing import Any, Annotated, Callable, Optional, get_args, get_origin, get_type_hints

from stategraph.channels.base import BaseChannel
from stategraph.channels.binop import BinaryOperatorAggregate
from stategraph.channels.last_value import LastValue
from stategraph._constants import ROOT
from stategraph.managed import is_managed_value

_WRAPPERS = {
    getattr(typing, name, None) for name in ("Required", "NotRequired", "ReadOnly")
}
try:  # typing_extensions wrappers too
    import typing_extensions as _te

    _WRAPPERS |= {getattr(_te, n, None) for n in ("Required", "NotRequired", "ReadOnly")}
except ImportError:  # pragma: no cover
    pass
_WRAPPERS.discard(None)


def _strip_wrappers(annotation: Any) -> Any:
    while get_origin(annotation) in _WRAPPERS:
        annotation = get_args(annotation)[0]
    return annotation


def is_pydantic_model(schema: Any) -> bool:
    return isinstance(schema, type) and hasattr(schema, "model_fields") and hasattr(schema, "model_validate")


def type_hints(schema: Any) -> dict[str, Any]:
    """The annotated fields of a schema class ({} when it has none)."""
    if not isinstance(schema, type):
        return {}
    try:
        hints = get_type_hints(schema, include_extras=True)
    except Exception:
        hints = dict(getattr(schema, "__annotations__", {}))
    if is_pydantic_model(schema):
        fields = schema.model_fields  # type: ignore[attr-defined]
        return {k: v for k, v in hints.items() if k in fields}
    if dataclasses.is_dataclass(schema):
        names = {f.name for f in dataclasses.fields(schema)}
        return {k: v for k, v in hints.items() if k in names}
    return {k: v for k, v in hints.items() if k != "__slots__"}


def has_fields(schema: Any) -> bool:
    return bool(type_hints(schema))


def _positional_arity(func: Callable[..., Any]) -> Optional[int]:
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return None
    count = 0
    for param in signature.parameters.values():
        if param.kind == inspect.Parameter.VAR_POSITIONAL:
            return None
        if param.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD):
            count += 1
    return count


def channel_for(key: str, annotation: Any) -> BaseChannel | type | None:
    """The channel of one field, a managed-value class, or None for a plain key."""
    annotation = _strip_wrappers(annotation)
    if get_origin(annotation) is Annotated:
        base, *metadata = get_args(annotation)
        base = _strip_wrappers(base)  # Annotated[NotRequired[list], ...]: the value is a list
        for item in metadata:
            if isinstance(item, BaseChannel):
                item.key = key
                adopt_type = getattr(item, "with_field_type", None)
                if adopt_type is not None:
                    adopt_type(base)
                return item
            if isinstance(item, type) and issubclass(item, BaseChannel):
                return item(base, key=key) if item is not BinaryOperatorAggregate else None
            if is_managed_value(item):
                return item
        reducer = metadata[-1] if metadata else None
        if callable(reducer) and not isinstance(reducer, type):
            arity = _positional_arity(reducer)
            if arity is not None and arity != 2:
                params = ", ".join(list(inspect.signature(reducer).parameters)[:arity]) or ""
                raise ValueError(
                    f"Invalid reducer signature. Expected (a, b) -> c. Got ({params}). The "
                    f"reducer of key '{key}' must take the current value and the update."
                )
            return BinaryOperatorAggregate(base, reducer, key=key)
    return None


def parse_schema(schema: Any) -> tuple[dict[str, BaseChannel], dict[str, Any]]:
    """Channels and managed values of a schema (``__root__`` when it has no fields)."""
    hints = type_hints(schema)
    if not hints:
        channel = channel_for(ROOT, schema)
        if channel is None or isinstance(channel, type):
            channel = LastValue(schema, key=ROOT)
        return {ROOT: channel}, {}
    channels: dict[str, BaseChannel] = {}
    managed: dict[str, Any] = {}
    for key, annotation in hints.items():
        found = channel_for(key, annotation)
        if found is None:
            channels[key] = LastValue(_strip_wrappers(annotation), key=key)
        elif isinstance(found, type):
            managed[key] = found
        else:
            channels[key] = found
    return channels, managed


def schema_keys(schema: Any) -> tuple[str, ...]:
    hints = type_hints(schema)
    return tuple(hints) if hints else (ROOT,)


def make_mapper(schema: Any) -> Optional[Callable[[Any], Any]]:
    """How to turn a node's input dict into ``schema``'s own class (None for TypedDict)."""
    if is_pydantic_model(schema):
        return lambda value: schema(**value) if isinstance(value, dict) else value
    if isinstance(schema, type) and dataclasses.is_dataclass(schema):
        return lambda value: schema(**value) if isinstance(value, dict) else value
    return None


def fields_of_object(value: Any) -> Optional[dict[str, Any]]:
    """The field values of a pydantic/dataclass instance returned from a node, else None.

    For pydantic, a field left at a ``None`` default and never set is skipped (LangGraph's rule).
    """
    cls = type(value)
    if is_pydantic_model(cls):
        fields = cls.model_fields  # type: ignore[attr-defined]
        explicitly_set = value.model_fields_set
        result = {}
        for name, info in fields.items():
            field_value = getattr(value, name)
            if field_value is None and info.default is None and name not in explicitly_set:
                continue
            result[name] = field_value
        return result
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    return None


def first_param_schema(func: Any) -> Any:
    """The first parameter's annotation when it is a class with fields (node input schema)."""
    target = func
    if not (inspect.isfunction(target) or inspect.ismethod(target)):
        target = getattr(func, "__call__", None)
        if target is None:
            return None
    try:
        hints = get_type_hints(target)
        signature = inspect.signature(target)
    except Exception:
        return None
    params = [p for p in signature.parameters.values() if p.name != "self"]
    if not params:
        return None
    annotation = hints.get(params[0].name)
    if isinstance(annotation, type) and has_fields(annotation):
        return annotation
    return None


def literal_values(func: Any) -> Optional[tuple[Any, ...]]:
    """``Literal`` values of a function's return annotation (for drawing and validation)."""
    try:
        hints = get_type_hints(func)
    except Exception:
        return None
    annotation = hints.get("return")
    if annotation is None:
        return None
    return _literals(annotation)


def _literals(annotation: Any) -> Optional[tuple[Any, ...]]:
    origin = get_origin(annotation)
    if origin is typing.Literal:
        return get_args(annotation)
    if origin is typing.Union or (sys.version_info >= (3, 10) and origin is getattr(__import__("types"), "UnionType", None)):
        values: list[Any] = []
        for arg in get_args(annotation):
            found = _literals(arg)
            if found:
                values.extend(found)
        return tuple(values) or None
    if origin is not None and getattr(origin, "__name__", "") == "Command":
        args = get_args(annotation)
        return _literals(args[0]) if args else None
    return None
