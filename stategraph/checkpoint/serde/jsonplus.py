"""``JsonPlusSerializer``: the default checkpoint serializer (msgpack, registry-checked).

Tags: ``"null"`` (None), ``"bytes"``, ``"bytearray"``, ``"msgpack"`` (everything else). What
msgpack may rebuild is the process-wide registry (``register_types``) plus this serializer's
``allowed_msgpack_modules``. Stored bytes never name a class that will be imported or called
unless it is registered or allow-listed; pickle is used only by a serializer built with the
explicit ``pickle_fallback=True`` opt-in.
"""

from __future__ import annotations

import importlib
import logging
import json
import pickle
import sys
import warnings
from typing import Any, Iterable, Union

from stategraph.checkpoint.serde._codecs import (
    TypeCodec,
    class_key,
    class_kind,
    codec_for_class,
)
from stategraph.checkpoint.serde._msgpack import EXT_DELTA_SNAPSHOT, MsgpackCodec
from stategraph.checkpoint.serde._registry import REGISTRY
from stategraph.checkpoint.serde.event_hooks import emit_serde_event
from stategraph.errors import DeserializationError, InvalidModuleError, SerializationError

__all__ = [
    "EXT_CONSTRUCTOR_KW_ARGS",
    "EXT_CONSTRUCTOR_POS_ARGS",
    "EXT_CONSTRUCTOR_SINGLE_ARG",
    "EXT_DELTA_SNAPSHOT",
    "EXT_METHOD_SINGLE_ARG",
    "EXT_NUMPY_ARRAY",
    "EXT_PYDANTIC_V1",
    "EXT_PYDANTIC_V2",
    "AllowedMsgpackModules",
    "InvalidModuleError",
    "JsonPlusSerializer",
]

# LangGraph's msgpack extension codes, under its names, for code that builds or inspects its
# payloads. stategraph writes its own codes (1: a tuple, 2: a registered object) and LangGraph's
# 7, a DeltaChannel snapshot, which wraps a value and calls nothing; a payload using codes 3-6
# is refused on read rather than turned into a constructor or method call.
EXT_CONSTRUCTOR_SINGLE_ARG = 0
EXT_CONSTRUCTOR_POS_ARGS = 1
EXT_CONSTRUCTOR_KW_ARGS = 2
EXT_METHOD_SINGLE_ARG = 3
EXT_PYDANTIC_V1 = 4
EXT_PYDANTIC_V2 = 5
EXT_NUMPY_ARRAY = 6

# True, or entries: a class, a (module, name) tuple, or a module name (all its classes).
AllowedMsgpackModules = Union[bool, Iterable[Union[type, tuple[str, ...], str]], None]


logger = logging.getLogger("stategraph.checkpoint.serde")


def _langchain_reviver(reviver_class: Any) -> Any:
    # LangChain's core types (messages, documents, prompts...), which LangGraph stored this way.
    try:
        return reviver_class(allowed_objects="core")
    except TypeError:  # an older langchain-core without allowed_objects
        return reviver_class()

class JsonPlusSerializer:
    """Serialize checkpoint values to ``(tag, bytes)``.

    ``allowed_msgpack_modules`` extends the registry for this serializer only:

    * ``None`` (default): only registered types (see ``register_types``);
    * an iterable of classes, ``(module, name)`` tuples or module names: those too (a listed
      module may be imported when stored bytes name one of its classes);
    * ``True``: also any dataclass, pydantic model, NamedTuple or Enum whose module is already
      imported (no import ever happens; other callables are still refused).

    Only dataclasses, pydantic models, NamedTuples and Enums can be allowed this way.

    ``pickle_fallback=True`` is an explicit opt-in, as in LangGraph: values msgpack cannot
    store (a pandas DataFrame, say) are pickled, and ``"pickle"`` bytes are unpickled on read.
    Unpickling runs whatever code the bytes name, so anyone who can write to the checkpoint
    database can then run code in this process; a ``RuntimeWarning`` says so at construction.
    Without the opt-in, pickled bytes are refused.
    """

    def __init__(
        self,
        *,
        pickle_fallback: bool = False,
        allowed_json_modules: Any = None,
        allowed_msgpack_modules: AllowedMsgpackModules = None,
    ) -> None:
        self.pickle_fallback = bool(pickle_fallback)
        self._allowed_json_modules: Any = (
            True
            if allowed_json_modules is True
            else {tuple(entry) for entry in allowed_json_modules or ()}
        )
        if self.pickle_fallback:
            warnings.warn(
                "JsonPlusSerializer(pickle_fallback=True) unpickles stored checkpoint bytes, "
                "which can run arbitrary code: anyone able to write to the checkpoint database "
                "can then execute code in this process. Prefer registering the types with "
                "stategraph.checkpoint.serde.register_types and leave pickle_fallback off.",
                RuntimeWarning,
                stacklevel=2,
            )
        self._allow_imported = allowed_msgpack_modules is True
        self._allowed_classes: dict[str, type] = {}
        self._allowed_names: set[tuple[str, str]] = set()
        self._allowed_modules: set[str] = set()
        if allowed_msgpack_modules not in (None, True, False):
            self._add_allowed(allowed_msgpack_modules)  # type: ignore[arg-type]
        self._resolved_by_class: dict[type, TypeCodec] = {}
        self._resolved_by_key: dict[str, TypeCodec] = {}
        self._msgpack = MsgpackCodec(self._codec_for_class, self._codec_for_key)

    def _add_allowed(self, entries: Iterable[type | tuple[str, ...] | str]) -> None:
        for entry in entries:
            if isinstance(entry, type):
                if class_kind(entry) is None:
                    raise TypeError(
                        f"allowed_msgpack_modules cannot allow {class_key(entry)}: only "
                        "dataclasses, pydantic models, NamedTuples and Enums can be rebuilt."
                    )
                self._allowed_classes[class_key(entry)] = entry
            elif isinstance(entry, str):
                self._allowed_modules.add(entry)
            elif (
                isinstance(entry, tuple)
                and len(entry) >= 2
                and all(isinstance(p, str) for p in entry)
            ):
                self._allowed_names.add((".".join(entry[:-1]), entry[-1]))
            else:
                raise TypeError(
                    f"allowed_msgpack_modules entries must be classes, (module, name) tuples or "
                    f"module names; got {entry!r}."
                )

    def with_allowlist(self, extra: Iterable[type | tuple[str, ...] | str]) -> JsonPlusSerializer:
        """A copy of this serializer that also allows ``extra``."""
        with warnings.catch_warnings():
            # The caller was warned when it opted in to pickle; a copy is not a second opt-in.
            warnings.simplefilter("ignore", RuntimeWarning)
            clone = JsonPlusSerializer(
                pickle_fallback=self.pickle_fallback,
                allowed_msgpack_modules=True if self._allow_imported else None,
            )
        clone._allowed_json_modules = self._allowed_json_modules
        clone._allowed_classes.update(self._allowed_classes)
        clone._allowed_names.update(self._allowed_names)
        clone._allowed_modules.update(self._allowed_modules)
        clone._add_allowed(extra)
        return clone

    # -- the serializer protocol ---------------------------------------------------------

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
        if obj is None:
            return "null", b""
        if type(obj) is bytes:
            return "bytes", obj
        if type(obj) is bytearray:
            return "bytearray", bytes(obj)
        try:
            return "msgpack", self._msgpack.dumps(obj)
        except SerializationError:
            if not self.pickle_fallback:
                raise
            return "pickle", pickle.dumps(obj)

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        tag, payload = data
        if tag == "msgpack":
            return self._msgpack.loads(payload)
        if tag == "null":
            return None
        if tag == "bytes":
            return bytes(payload)
        if tag == "bytearray":
            return bytearray(payload)
        if tag == "json":
            # LangGraph's format before msgpack: constructor envelopes are revived (see
            # _revive_json); anything else comes back as plain JSON data.
            try:
                return json.loads(payload, object_hook=self._revive_json)
            except ValueError as error:
                raise DeserializationError(f"Stored JSON is invalid: {error}") from error
        if tag == "pickle":
            if self.pickle_fallback:
                return pickle.loads(payload)  # noqa: S301 - explicit opt-in, warned at init
            raise DeserializationError(
                "Refusing to load pickled checkpoint data: unpickling can run arbitrary code. "
                "Re-write the checkpoint with a msgpack serializer, or (only if every writer "
                "of the database is trusted) use JsonPlusSerializer(pickle_fallback=True)."
            )
        raise DeserializationError(
            f"Unknown serialization tag {tag!r}: these bytes were written by another serializer "
            "(an encrypted one needs EncryptedSerializer with the same key)."
        )

    # -- LangGraph's JSON format ------------------------------------------------------------

    def _revive_json(self, value: dict[str, Any]) -> Any:
        """An object for a constructor envelope of LangGraph's JSON format, as LangGraph revives
        it: ``lc: 2`` for registered types (with ``langgraph.`` read as ``stategraph.``) or
        symbols named in ``allowed_json_modules``; ``lc: 1`` (LangChain's) by LangChain's own
        reviver and its allow-list. Other envelopes stay dicts, with a warning."""
        if value.get("type") != "constructor" or not isinstance(value.get("id"), list):
            return value
        if value.get("lc") == 1:
            try:
                from langchain_core.load.load import Reviver
            except ImportError:  # pragma: no cover - LangChain values imply langchain-core
                return value
            return _langchain_reviver(Reviver)(value)
        if value.get("lc") != 2 or len(value["id"]) < 2 or not all(isinstance(p, str) for p in value["id"]):
            return value
        *module_path, name = value["id"]
        module = ".".join(module_path)
        if module_path[0] == "langgraph":
            module = "stategraph" + module[len("langgraph"):]
        codec = REGISTRY.for_key(f"{module}:{name}")
        cls: Any = codec.cls if codec is not None else None
        if cls is None:
            allowed = self._allowed_json_modules
            if allowed is not True and tuple(value["id"]) not in allowed:
                logger.warning(
                    "Refused to revive JSON constructor %s: not a registered type and not in "
                    "allowed_json_modules (JsonPlusSerializer(allowed_json_modules=[%r])).",
                    ".".join(value["id"]),
                    tuple(value["id"]),
                )
                return value
            try:
                cls = getattr(importlib.import_module(".".join(module_path)), name)
            except (ImportError, AttributeError):
                return None
        if isinstance(cls, type) and issubclass(cls, BaseException):
            return None
        try:
            return cls(*(value.get("args") or ()), **(value.get("kwargs") or {}))
        except Exception as error:  # noqa: BLE001 - LangGraph gives None for these too
            logger.warning("Failed to revive JSON constructor %s: %s", ".".join(value["id"]), error)
            return None

    # -- resolution: registry first, then this serializer's allow-list --------------------

    def _codec_for_class(self, cls: type) -> TypeCodec | None:
        codec = REGISTRY.for_class(cls)
        if codec is not None:
            return codec
        codec = self._resolved_by_class.get(cls)
        if codec is None and self._admits(cls):
            codec = self._remember(codec_for_class(cls))
        return codec

    def _codec_for_key(self, key: str) -> TypeCodec | None:
        codec = REGISTRY.for_key(key)
        if codec is not None:
            return codec
        codec = self._resolved_by_key.get(key)
        if codec is None:
            cls = self._allowed_class_for_key(key)
            if cls is not None:
                codec = self._remember(codec_for_class(cls))
        # Reported on every read, so a listener can audit what allowed_msgpack_modules=True
        # lets through before the allowance is narrowed.
        module, _, name = key.partition(":")
        if codec is None:
            emit_serde_event({"kind": "msgpack_blocked", "module": module, "name": name})
        elif self._allow_imported and not self._is_listed(codec.cls):
            emit_serde_event(
                {"kind": "msgpack_unregistered_allowed", "module": module, "name": name}
            )
        return codec

    def _is_listed(self, cls: Any) -> bool:
        return (
            class_key(cls) in self._allowed_classes
            or (cls.__module__, cls.__qualname__) in self._allowed_names
            or cls.__module__ in self._allowed_modules
        )

    def _remember(self, codec: TypeCodec | None) -> TypeCodec | None:
        if codec is not None:
            self._resolved_by_class[codec.cls] = codec
            self._resolved_by_key[codec.key] = codec
        return codec

    def _admits(self, cls: type) -> bool:
        if class_kind(cls) is None:
            return False
        module, name = cls.__module__, cls.__qualname__
        return (
            self._allow_imported
            or class_key(cls) in self._allowed_classes
            or (module, name) in self._allowed_names
            or module in self._allowed_modules
        )

    def _allowed_class_for_key(self, key: str) -> type | None:
        if key in self._allowed_classes:
            return self._allowed_classes[key]
        module_name, _, qualname = key.partition(":")
        if not qualname:
            return None
        listed = (
            module_name,
            qualname,
        ) in self._allowed_names or module_name in self._allowed_modules
        if listed:
            try:
                module: Any = importlib.import_module(module_name)
            except ImportError:
                return None
        elif self._allow_imported:
            module = sys.modules.get(module_name)  # never import for the blanket allowance
            if module is None:
                return None
        else:
            return None
        target: Any = module
        for part in qualname.split("."):
            target = getattr(target, part, None)
            if target is None:
                return None
        if class_kind(target) is None or class_key(target) != key:
            return None
        return target  # type: ignore[no-any-return]
