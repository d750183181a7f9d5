"""Cache keys: a stable digest of a node's input, and the (namespace, key) its writes use.

The digest comes from a canonical byte encoding of the input (never pickle), so equal inputs
give equal keys in every process: dicts and sets are ordered by their encoded form, and each
value is tagged with its kind and length so that different inputs cannot encode alike.
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
from collections.abc import Mapping, Set
from typing import Any, Union

import xxhash

__all__ = [
    "CACHE_NS_WRITES",
    "DYNAMIC_NAMESPACE",
    "cache_namespace_name",
    "default_cache_key",
    "node_cache_key",
    "node_cache_namespace",
]

CACHE_NS_WRITES = "__pregel_ns_writes"
"""First label of every namespace under which the engine caches a node's writes."""

DYNAMIC_NAMESPACE = "__dynamic__"
"""Namespace name for a node whose function has no module-qualified name."""


def default_cache_key(*args: Any, **kwargs: Any) -> bytes:
    """A 16-byte xxh3_128 digest of the arguments, stable across processes.

    Dict key order does not matter, lists and tuples encode alike, dataclasses and pydantic
    models encode by class and field values; other objects by their attributes or, last,
    their ``repr``.
    """
    encoder = _Encoder()
    encoder.encode(list(args))
    encoder.encode(kwargs)
    return xxhash.xxh3_128_digest(b"".join(encoder.parts))


def cache_namespace_name(func: Any) -> str:
    """``"<module>.<qualname>"`` of a node's function, or ``"__dynamic__"`` if it has neither."""
    name = getattr(func, "__qualname__", None) or getattr(func, "__name__", None)
    module = getattr(func, "__module__", None)
    if not isinstance(name, str) or not isinstance(module, str):
        return DYNAMIC_NAMESPACE
    return f"{module}.{name}"


def node_cache_namespace(namespace_name: str, node_name: Union[str, None]) -> tuple[str, ...]:
    """The cache namespace of one node (or, with ``node_name=None``, of one ``@task``).

    ``clear([node_cache_namespace(...)])`` drops every cached result of that node.
    """
    if node_name is None:
        return (CACHE_NS_WRITES, namespace_name)
    return (CACHE_NS_WRITES, namespace_name, node_name)


def node_cache_key(
    namespace_name: str, node_name: Union[str, None], key: Union[str, bytes]
) -> tuple[tuple[str, ...], str]:
    """Where the engine caches a task's writes: ``(namespace, hex digest of key)``.

    ``namespace_name`` is ``cache_namespace_name(node_function)``; ``node_name`` is the graph
    node, or None for a ``@task``. ``key`` is what ``CachePolicy.key_func`` returned.
    """
    raw = key.encode() if isinstance(key, str) else bytes(key)
    return node_cache_namespace(namespace_name, node_name), xxhash.xxh3_128_hexdigest(raw)


def _type_name(value: Any) -> bytes:
    kind = type(value)
    return f"{kind.__module__}.{kind.__qualname__}".encode()


class _Encoder:
    """Appends a tagged, length-prefixed encoding of one value tree to ``parts``."""

    __slots__ = ("parts", "_open")

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self._open: set[int] = set()  # ids of containers being encoded, to stop at cycles

    def encode(self, value: Any) -> None:
        if value is None:
            self._emit(b"N", b"")
        elif value is True or value is False:
            self._emit(b"B", b"1" if value else b"0")
        elif isinstance(value, enum.Enum):
            self._emit(b"E", _type_name(value) + b":" + value.name.encode())
        elif isinstance(value, int):
            self._emit(b"i", str(int(value)).encode())
        elif isinstance(value, float):
            self._emit(b"f", repr(float(value)).encode())
        elif isinstance(value, str):
            self._emit(b"s", value.encode("utf-8", "surrogatepass"))
        elif isinstance(value, (bytes, bytearray, memoryview)):
            self._emit(b"b", bytes(value))
        elif id(value) in self._open:
            self._emit(b"R", b"")  # a reference back to an enclosing container
        else:
            self._open.add(id(value))
            try:
                self._encode_composite(value)
            finally:
                self._open.discard(id(value))

    def _encode_composite(self, value: Any) -> None:
        if isinstance(value, Mapping):
            self._encode_mapping(b"d", b"", value.items())
        elif isinstance(value, (list, tuple)):
            self._open_group(b"l", b"", len(value))
            for element in value:
                self.encode(element)
        elif isinstance(value, Set):
            encoded = sorted(self._encoded(element) for element in value)
            self._open_group(b"e", b"", len(encoded))
            self.parts.extend(encoded)
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            fields = ((f.name, getattr(value, f.name)) for f in dataclasses.fields(value))
            self._encode_mapping(b"c", _type_name(value), fields)
        elif _is_pydantic_model(value):
            self._encode_mapping(b"p", _type_name(value), _pydantic_fields(value))
        elif hasattr(value, "tobytes") and hasattr(value, "shape"):
            # numpy-like arrays: their repr elides elements, their bytes do not.
            shape_and_type = repr((value.shape, str(getattr(value, "dtype", ""))))
            header = _type_name(value) + shape_and_type.encode()
            self._emit(b"a", header + b":" + bytes(value.tobytes()))
        elif isinstance(value, type) or _is_named_function(value):
            # Functions and classes by name: their repr may hold a memory address.
            self._emit(b"F", f"{value.__module__}.{value.__qualname__}".encode())
        elif _has_default_repr(value) and _has_attributes(value):
            self._encode_mapping(b"o", _type_name(value), _attributes(value))
        else:
            self._emit(b"r", _type_name(value) + b":" + repr(value).encode())

    def _encode_mapping(self, tag: bytes, header: bytes, items: Any) -> None:
        pairs = sorted((self._encoded(k), self._encoded(v)) for k, v in items)
        self._open_group(tag, header, len(pairs))
        for key_bytes, value_bytes in pairs:
            self.parts.append(key_bytes)
            self.parts.append(value_bytes)

    def _encoded(self, value: Any) -> bytes:
        # Encoded apart so that mapping entries and set elements can be sorted; the set of
        # open containers is shared so cycles through them are still caught.
        child = _Encoder()
        child._open = self._open
        child.encode(value)
        return b"".join(child.parts)

    def _open_group(self, tag: bytes, header: bytes, count: int) -> None:
        self._emit(tag, header + b"#" + str(count).encode())

    def _emit(self, tag: bytes, payload: bytes) -> None:
        self.parts.append(tag + str(len(payload)).encode() + b":" + payload)


def _is_pydantic_model(value: Any) -> bool:
    kind = type(value)
    return hasattr(kind, "model_fields") or hasattr(kind, "__fields__") and hasattr(value, "dict")


def _pydantic_fields(value: Any) -> list[tuple[str, Any]]:
    names = getattr(type(value), "model_fields", None) or type(value).__fields__
    return [(name, getattr(value, name, None)) for name in names]


def _is_named_function(value: Any) -> bool:
    return (
        inspect.isfunction(value) or inspect.ismethod(value) or inspect.isbuiltin(value)
    ) and isinstance(getattr(value, "__module__", None), str)


def _has_default_repr(value: Any) -> bool:
    # object's repr shows a memory address, which differs between processes.
    return getattr(type(value), "__repr__", None) is getattr(object, "__repr__")


def _has_attributes(value: Any) -> bool:
    return hasattr(value, "__dict__") or any(
        getattr(kind, "__slots__", ()) for kind in type(value).__mro__
    )


def _attributes(value: Any) -> list[tuple[str, Any]]:
    found: dict[str, Any] = dict(getattr(value, "__dict__", {}))
    for kind in type(value).__mro__:
        slots = getattr(kind, "__slots__", ())
        for name in (slots,) if isinstance(slots, str) else slots:
            if name not in ("__dict__", "__weakref__") and hasattr(value, name):
                found[name] = getattr(value, name)
    return list(found.items())
