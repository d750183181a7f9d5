"""Codecs: how one class's instances become plain state and come back.

A ``TypeCodec`` is named by a stable key (``"module:QualName"``) written into stored bytes;
decoding looks the key up and calls only that codec. This module builds codecs for the kinds of
classes an application may register: dataclasses, pydantic models, NamedTuples and Enums.
"""

from __future__ import annotations

import dataclasses
import enum
import sys
from dataclasses import dataclass
from typing import Any, Callable, Literal

__all__ = ["ClassKind", "TypeCodec", "class_key", "class_kind", "codec_for_class"]

ClassKind = Literal["dataclass", "pydantic", "pydantic_v1", "namedtuple", "enum"]


@dataclass(frozen=True, slots=True)
class TypeCodec:
    key: str  # written into stored bytes; must never change for a class
    cls: type
    encode: Callable[[Any], Any]  # instance -> state made of storable values
    decode: Callable[[Any], Any]  # state -> instance
    accepts_subclasses: bool = False  # stdlib value types: a subclass is stored as the base


def class_key(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _pydantic_base(module_name: str) -> type | None:
    # Look pydantic up without importing it: a model instance implies pydantic is loaded.
    module = sys.modules.get(module_name)
    return getattr(module, "BaseModel", None) if module is not None else None


def class_kind(cls: Any) -> ClassKind | None:
    """Which registrable kind ``cls`` is, or None (not a class we know how to rebuild)."""
    if not isinstance(cls, type):
        return None
    if issubclass(cls, enum.Enum):
        return "enum" if cls.__members__ else None
    if issubclass(cls, tuple) and hasattr(cls, "_fields") and hasattr(cls, "_make"):
        return "namedtuple"
    if dataclasses.is_dataclass(cls):
        return "dataclass"
    v2 = _pydantic_base("pydantic")
    if v2 is not None and issubclass(cls, v2) and cls is not v2 and hasattr(cls, "model_construct"):
        return "pydantic"
    v1 = _pydantic_base("pydantic.v1")
    if v1 is not None and issubclass(cls, v1) and cls is not v1:
        return "pydantic_v1"
    return None


def codec_for_class(cls: type, key: str | None = None) -> TypeCodec | None:
    """A codec for a registrable class, or None if ``cls`` is not of a registrable kind."""
    kind = class_kind(cls)
    key = key or class_key(cls)
    if kind == "enum":
        return TypeCodec(key, cls, _enum_value, cls)
    if kind == "namedtuple":
        return TypeCodec(key, cls, list, lambda state: cls(*state))
    if kind == "dataclass":
        return _dataclass_codec(cls, key)
    if kind == "pydantic":
        return _pydantic_codec(cls, key)
    if kind == "pydantic_v1":
        return _pydantic_v1_codec(cls, key)
    return None


def _enum_value(member: enum.Enum) -> Any:
    return member.value


_UNSET = object()


def _dataclass_codec(cls: type, key: str) -> TypeCodec:
    fields = dataclasses.fields(cls)
    init_names = tuple(field.name for field in fields if field.init)
    other_names = tuple(field.name for field in fields if not field.init)

    def encode(obj: Any) -> dict[str, Any]:
        state = {}
        for name in init_names + other_names:
            value = getattr(obj, name, _UNSET)
            if value is not _UNSET:
                state[name] = value
        return state

    def decode(state: dict[str, Any]) -> Any:
        obj = cls(**{name: state[name] for name in init_names if name in state})
        for name in other_names:
            if name in state:
                # Fields outside __init__ are restored as stored (works for frozen classes).
                object.__setattr__(obj, name, state[name])
        return obj

    return TypeCodec(key, cls, encode, decode)


def _pydantic_codec(cls: type, key: str) -> TypeCodec:
    # Stored shallowly: field values are encoded by the serializer itself, so nested models,
    # datetimes, tuples... come back as the same types, and decoding skips validation (the
    # values were valid when stored). Fields holding their default are left out (they are
    # most of a chat message) and refilled by model_construct.
    # State: [values, fields_set (None: the stored keys), private attributes (optional)].
    defaults: dict[str, Any] | None = None

    def encode(obj: Any) -> list[Any]:
        nonlocal defaults
        if defaults is None:
            defaults = _pydantic_defaults(cls)
        values = {
            name: value
            for name, value in obj.__dict__.items()
            if name not in defaults or not _is_default(value, defaults[name])
        }
        extra = obj.__pydantic_extra__
        if extra:
            values.update(extra)
        fields_set = obj.__pydantic_fields_set__
        state: list[Any] = [values, None if fields_set == values.keys() else sorted(fields_set)]
        private = obj.__pydantic_private__
        if private:
            state.append(private)
        return state

    def decode(state: list[Any]) -> Any:
        values, fields_set = state[0], state[1]
        obj = cls.model_construct(  # type: ignore[attr-defined]
            _fields_set=set(values if fields_set is None else fields_set), **values
        )
        if len(state) > 2 and state[2]:
            private = dict(obj.__pydantic_private__ or {})
            private.update(state[2])
            object.__setattr__(obj, "__pydantic_private__", private)
        return obj

    return TypeCodec(key, cls, encode, decode)


_EMPTY_FACTORIES = (dict, list, set, tuple)


def _pydantic_defaults(cls: Any) -> dict[str, Any]:
    """Defaults a stored instance may omit: constants, and empty containers from factories."""
    defaults = {}
    for name, field in cls.model_fields.items():
        if field.default_factory is not None:
            if field.default_factory in _EMPTY_FACTORIES:
                defaults[name] = field.default_factory()
        elif not field.is_required():
            defaults[name] = field.default
    return defaults


def _is_default(value: Any, default: Any) -> bool:
    if value is default:
        return True
    if type(value) is not type(default):  # False is not 0, () is not []
        return False
    try:
        return bool(value == default)
    except Exception:
        return False


def _pydantic_v1_codec(cls: type, key: str) -> TypeCodec:
    def encode(obj: Any) -> list[Any]:
        values = dict(obj.__dict__)
        fields_set = obj.__fields_set__
        return [values, None if fields_set == values.keys() else sorted(fields_set)]

    def decode(state: list[Any]) -> Any:
        values, fields_set = state
        return cls.construct(  # type: ignore[attr-defined]
            _fields_set=set(values if fields_set is None else fields_set), **values
        )

    return TypeCodec(key, cls, encode, decode)
