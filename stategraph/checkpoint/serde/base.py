"""The serializer interfaces a checkpointer is given (LangGraph's names)."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

__all__ = [
    "CipherProtocol",
    "SerializerCompat",
    "SerializerProtocol",
    "UntypedSerializerProtocol",
    "maybe_add_typed_methods",
]


@runtime_checkable
class SerializerProtocol(Protocol):
    """Turns a value into ``(type_tag, bytes)`` and back."""

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]: ...

    def loads_typed(self, data: tuple[str, bytes]) -> Any: ...


@runtime_checkable
class UntypedSerializerProtocol(Protocol):
    """An older serializer shape: ``dumps(obj) -> bytes`` and ``loads(bytes)``."""

    def dumps(self, obj: Any) -> bytes: ...

    def loads(self, data: bytes) -> Any: ...


class CipherProtocol(Protocol):
    """Encrypts serialized bytes; used by ``EncryptedSerializer``."""

    def encrypt(self, plaintext: bytes) -> tuple[str, bytes]:
        """Return ``(cipher_name, ciphertext)``."""
        ...

    def decrypt(self, ciphername: str, ciphertext: bytes) -> bytes: ...


class SerializerCompat:
    """Gives an untyped serializer the typed methods, tagging values with their class name."""

    def __init__(self, serde: UntypedSerializerProtocol) -> None:
        self.serde = serde

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
        return type(obj).__name__, self.serde.dumps(obj)

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        return self.serde.loads(data[1])


def maybe_add_typed_methods(serde: Any) -> SerializerProtocol:
    """``serde`` itself if it has ``dumps_typed``/``loads_typed``, else a ``SerializerCompat``."""
    if isinstance(serde, SerializerProtocol):
        return serde
    if isinstance(serde, UntypedSerializerProtocol):
        return SerializerCompat(serde)
    raise TypeError(
        f"{type(serde).__qualname__} is not a serializer: it needs dumps_typed/loads_typed "
        "(or dumps/loads). Use stategraph.checkpoint.serde.jsonplus.JsonPlusSerializer()."
    )
