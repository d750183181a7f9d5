"""msgpack with three extension types: tuples, instances of registered types, and
``DeltaChannel`` snapshots (a wrapped value, under LangGraph's code for them).

An instance is stored as ``[key, state]``; reading it looks ``key`` up through the resolver it
was given (the registry plus the serializer's allow-list) and refuses anything else. Stored
bytes therefore never make the program import a module or call a class it did not register.
Exceptions are stored as their ``repr`` string, as LangGraph does for ``__error__`` writes.

Round trips keep ``tuple`` (a tuple comes back a tuple); ``bytearray``, ``memoryview`` and
subclasses of ``str``/``int``/``dict``/``list`` that are not registered come back as the base
type.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

import ormsgpack

from stategraph.checkpoint.serde._codecs import TypeCodec, class_key, class_kind
from stategraph.channels._snapshot import _DeltaSnapshot
from stategraph.errors import DeserializationError, SerializationError

__all__ = ["EXT_DELTA_SNAPSHOT", "EXT_OBJECT", "EXT_TUPLE", "MsgpackCodec"]

EXT_TUPLE = 1
EXT_OBJECT = 2
EXT_DELTA_SNAPSHOT = 7  # LangGraph's code for the same wrapper

_PACK_OPTIONS = (
    ormsgpack.OPT_NON_STR_KEYS
    | ormsgpack.OPT_PASSTHROUGH_TUPLE
    | ormsgpack.OPT_PASSTHROUGH_DATACLASS
    | ormsgpack.OPT_PASSTHROUGH_DATETIME
    | ormsgpack.OPT_PASSTHROUGH_ENUM
    | ormsgpack.OPT_PASSTHROUGH_UUID
    | ormsgpack.OPT_PASSTHROUGH_BIG_INT
)
_UNPACK_OPTIONS = ormsgpack.OPT_NON_STR_KEYS

# ormsgpack replaces exceptions raised in `default` / `ext_hook` with a generic one, so the
# first (innermost) error of the current call is kept here and re-raised by dumps/loads.
_first_error = threading.local()


def _remember(error: Exception) -> None:
    if getattr(_first_error, "value", None) is None:
        _first_error.value = error


def _take_remembered() -> Exception | None:
    error = getattr(_first_error, "value", None)
    _first_error.value = None
    return error


class MsgpackCodec:
    """Encodes values to msgpack bytes and back, resolving classes and keys through callbacks."""

    def __init__(
        self,
        codec_for_class: Callable[[type], TypeCodec | None],
        codec_for_key: Callable[[str], TypeCodec | None],
    ) -> None:
        self._codec_for_class = codec_for_class
        self._codec_for_key = codec_for_key

    def dumps(self, value: Any) -> bytes:
        _first_error.value = None
        try:
            return ormsgpack.packb(value, default=self._default, option=_PACK_OPTIONS)
        except TypeError as error:  # ormsgpack.MsgpackEncodeError is a TypeError
            remembered = _take_remembered()
            if remembered is not None:
                raise remembered from None
            raise SerializationError(f"Cannot serialize value: {error}.") from error

    def loads(self, data: bytes) -> Any:
        _first_error.value = None
        try:
            return ormsgpack.unpackb(data, ext_hook=self._ext_hook, option=_UNPACK_OPTIONS)
        except (ValueError, TypeError) as error:  # MsgpackDecodeError is a ValueError
            remembered = _take_remembered()
            if remembered is not None:
                raise remembered from None
            raise DeserializationError(
                f"Stored msgpack bytes are corrupt or truncated ({error})."
            ) from error

    def _pack(self, value: Any) -> bytes:
        return ormsgpack.packb(value, default=self._default, option=_PACK_OPTIONS)

    def _default(self, obj: Any) -> Any:
        cls = type(obj)
        if cls is tuple:
            return ormsgpack.Ext(EXT_TUPLE, self._pack(list(obj)))
        if cls is _DeltaSnapshot:
            return ormsgpack.Ext(EXT_DELTA_SNAPSHOT, self._pack(obj.value))
        try:
            codec = self._codec_for_class(cls)
        except Exception as error:
            _remember(error)
            raise
        if codec is None:
            if isinstance(obj, BaseException):
                return repr(obj)
            refusal = unsupported_type_error(cls)
            _remember(refusal)
            raise refusal
        try:
            state = codec.encode(obj)
        except Exception as error:
            _remember(
                error
                if isinstance(error, SerializationError)
                else SerializationError(f"Cannot serialize {class_key(cls)}: {error!r}.")
            )
            raise
        return ormsgpack.Ext(EXT_OBJECT, self._pack([codec.key, state]))

    def _unpack(self, data: bytes) -> Any:
        return ormsgpack.unpackb(data, ext_hook=self._ext_hook, option=_UNPACK_OPTIONS)

    def _ext_hook(self, code: int, data: bytes) -> Any:
        try:
            if code == EXT_TUPLE:
                return tuple(self._unpack(data))
            if code == EXT_OBJECT:
                return self._rebuild(self._unpack(data))
            if code == EXT_DELTA_SNAPSHOT:
                return _DeltaSnapshot(self._unpack(data))
            raise DeserializationError(
                f"Stored bytes use msgpack extension type {code}, which stategraph does not "
                "write; refusing to interpret them (they may come from another serializer "
                "or have been crafted)."
            )
        except Exception as error:
            _remember(error)
            raise

    def _rebuild(self, payload: Any) -> Any:
        if not (isinstance(payload, list) and len(payload) == 2 and isinstance(payload[0], str)):
            raise DeserializationError(
                "Stored object payload is malformed (expected [key, state])."
            )
        key, state = payload
        codec = self._codec_for_key(key)
        if codec is None:
            raise refused_key_error(key)
        try:
            return codec.decode(state)
        except Exception as error:
            raise DeserializationError(
                f"Cannot rebuild {key} from stored bytes: {error!r}. If the class changed since "
                "the checkpoint was written, keep its old fields readable."
            ) from error


def unsupported_type_error(cls: type) -> SerializationError:
    name = class_key(cls).replace(":", ".")
    if class_kind(cls) is not None:
        return SerializationError(
            f"Cannot serialize a value of type {name}: it is not registered for checkpointing, "
            "so it could not be read back safely. Fix: call "
            f"stategraph.checkpoint.serde.register_types({cls.__qualname__}) at import time "
            f"(graph schemas are registered by compile()), or pass "
            f"allowed_msgpack_modules=[({cls.__module__!r}, {cls.__qualname__!r})] to "
            "JsonPlusSerializer."
        )
    return SerializationError(
        f"Cannot serialize a value of type {name}: checkpoints can store builtins, standard "
        "library values (datetime, UUID, Decimal, Path, ...), dataclasses, pydantic models, "
        "NamedTuples, Enums and langchain-core messages. Fix: convert it to one of those "
        "before writing it to the state (and register your own classes with register_types)."
    )


def refused_key_error(key: str) -> DeserializationError:
    return DeserializationError(
        f"Refusing to rebuild type {key!r} from stored bytes: it is not in the checkpoint "
        "serializer's registry, and stored bytes may never import or call a type that was not "
        "registered. If it is your own class, call stategraph.checkpoint.serde.register_types(cls) "
        "before reading (compile() does this for the graph's schemas), or allow-list it with "
        "JsonPlusSerializer(allowed_msgpack_modules=[(module, name)])."
    )
