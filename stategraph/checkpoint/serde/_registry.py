"""The process-wide registry of types the checkpoint serializer may rebuild from stored bytes.

Stored bytes name a type by its registry key; decoding looks the key up here and never imports
or calls anything else. The standard library and stategraph's own values are registered at
import; applications add their dataclasses, pydantic models, NamedTuples and Enums with
``register_types`` (``compile()`` does it for every schema); langchain-core's messages are added
the first time one is written or read.
"""

from __future__ import annotations

import threading
from typing import Any

from typing_extensions import is_typeddict

from stategraph.checkpoint.serde._codecs import (
    TypeCodec,
    class_key,
    class_kind,
    codec_for_class,
)
from stategraph.checkpoint.serde._langchain import KEY_PREFIX, langchain_codecs
from stategraph.checkpoint.serde._schema import collect_schema_types
from stategraph.checkpoint.serde._stdlib import stategraph_codecs, stdlib_codecs

__all__ = ["REGISTRY", "TypeRegistry", "register_types"]


class TypeRegistry:
    """Codecs by class (for writing) and by key (for reading)."""

    def __init__(self) -> None:
        self._by_class: dict[type, TypeCodec] = {}
        self._by_key: dict[str, TypeCodec] = {}
        self._lock = threading.Lock()
        self._langchain_loaded = False

    def add(self, codec: TypeCodec) -> None:
        with self._lock:
            self._by_class[codec.cls] = codec
            # A later registration under the same key wins (a class redefined in a notebook).
            self._by_key[codec.key] = codec

    def for_class(self, cls: type) -> TypeCodec | None:
        codec = self._by_class.get(cls)
        if codec is not None:
            return codec
        if cls.__module__.startswith("langchain_core") and self._load_langchain():
            codec = self._by_class.get(cls)
            if codec is not None:
                return codec
        for base in cls.__mro__[1:]:
            codec = self._by_class.get(base)
            if codec is not None and codec.accepts_subclasses:
                return codec
        return None

    def for_key(self, key: str) -> TypeCodec | None:
        codec = self._by_key.get(key)
        if codec is None and key.startswith(KEY_PREFIX) and self._load_langchain():
            codec = self._by_key.get(key)
        return codec

    def register_class(self, cls: type) -> None:
        if cls in self._by_class:
            return
        if cls.__module__.startswith("langchain_core") and self._load_langchain():
            if cls in self._by_class:
                return
        codec = codec_for_class(cls)
        if codec is None:
            raise TypeError(
                f"Cannot register {class_key(cls)} for checkpointing: only dataclasses, pydantic "
                "models, NamedTuples and Enums can be registered. Fix: make it one of those, or "
                "store plain data (dict, list, str, ...) instead."
            )
        self.add(codec)

    def _load_langchain(self) -> bool:
        if self._langchain_loaded:
            return True
        try:
            codecs = langchain_codecs()
        except ImportError:
            return False
        for codec in codecs:
            self.add(codec)
        self._langchain_loaded = True
        return True


REGISTRY = TypeRegistry()
for _codec in stdlib_codecs() + stategraph_codecs():
    REGISTRY.add(_codec)


def register_types(*types: Any) -> None:
    """Allow instances of ``types`` (and of the classes their annotations name) to be checkpointed.

    Accepts dataclasses, pydantic models, NamedTuples and Enums; nested field types are walked
    with ``collect_schema_types``. Registration is process-wide and idempotent. A type must be
    registered in every process that writes or reads it; ``compile()`` registers the graph's
    schemas, so only types that appear nowhere in a schema (e.g. values held under ``Any``)
    need an explicit call, at import time.
    """
    for tp in types:
        classes = collect_schema_types(tp)
        if isinstance(tp, type) and class_kind(tp) is None and not is_typeddict(tp):
            REGISTRY.register_class(tp)  # raises the explanatory TypeError
        for cls in classes:
            REGISTRY.register_class(cls)
