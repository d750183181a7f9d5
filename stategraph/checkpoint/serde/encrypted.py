"""``EncryptedSerializer``: encrypts what another serializer produces.

The tag becomes ``"<tag>+<cipher>"`` (e.g. ``"msgpack+aes"``); data without ``+`` in its tag
was stored unencrypted and still loads. AES-EAX comes from pycryptodome (``stategraph[crypto]``).
"""

from __future__ import annotations

import os
from typing import Any

from stategraph.checkpoint.serde.base import CipherProtocol, SerializerProtocol
from stategraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from stategraph.errors import DeserializationError

__all__ = ["EncryptedSerializer"]

_KEY_ENVIRONMENT = ("LANGGRAPH_AES_KEY", "STATEGRAPH_AES_KEY")


class EncryptedSerializer:
    """Serialize with ``serde``, then encrypt the bytes with ``cipher``."""

    def __init__(self, cipher: CipherProtocol, serde: SerializerProtocol | None = None) -> None:
        self.cipher = cipher
        self.serde: SerializerProtocol = serde if serde is not None else JsonPlusSerializer()

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
        tag, data = self.serde.dumps_typed(obj)
        cipher_name, ciphertext = self.cipher.encrypt(data)
        return f"{tag}+{cipher_name}", ciphertext

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        tag, payload = data
        if "+" not in tag:
            return self.serde.loads_typed((tag, payload))
        inner_tag, cipher_name = tag.rsplit("+", 1)
        return self.serde.loads_typed((inner_tag, self.cipher.decrypt(cipher_name, payload)))

    def with_allowlist(self, extra: Any) -> EncryptedSerializer:
        widen = getattr(self.serde, "with_allowlist", None)
        return self if widen is None else EncryptedSerializer(self.cipher, widen(extra))

    @classmethod
    def from_pycryptodome_aes(
        cls, serde: SerializerProtocol | None = None, *, key: bytes | str | None = None
    ) -> EncryptedSerializer:
        """AES-EAX with ``key`` (16, 24 or 32 bytes), or ``LANGGRAPH_AES_KEY`` /
        ``STATEGRAPH_AES_KEY`` from the environment."""
        if key is None:
            key = next(
                (os.environ[name] for name in _KEY_ENVIRONMENT if os.environ.get(name)), None
            )
            if key is None:
                raise ValueError(
                    "No AES key: pass key=... to EncryptedSerializer.from_pycryptodome_aes or "
                    "set LANGGRAPH_AES_KEY (or STATEGRAPH_AES_KEY) to 16, 24 or 32 bytes."
                )
        raw_key = key.encode() if isinstance(key, str) else bytes(key)
        if len(raw_key) not in (16, 24, 32):
            raise ValueError(f"An AES key must be 16, 24 or 32 bytes long, got {len(raw_key)}.")
        return cls(_AesEaxCipher(raw_key), serde)


class _AesEaxCipher:
    """AES in EAX mode; stored as nonce (16 bytes) + tag (16 bytes) + ciphertext."""

    name = "aes"

    def __init__(self, key: bytes) -> None:
        try:
            from Crypto.Cipher import AES
        except ImportError as error:
            raise ImportError(
                "EncryptedSerializer.from_pycryptodome_aes needs pycryptodome: "
                "pip install 'stategraph[crypto]'."
            ) from error
        self._aes = AES
        self._key = key

    def encrypt(self, plaintext: bytes) -> tuple[str, bytes]:
        cipher = self._aes.new(self._key, self._aes.MODE_EAX)
        ciphertext, tag = cipher.encrypt_and_digest(plaintext)
        return self.name, cipher.nonce + tag + ciphertext

    def decrypt(self, ciphername: str, ciphertext: bytes) -> bytes:
        if ciphername != self.name:
            raise DeserializationError(
                f"Stored data was encrypted with cipher {ciphername!r}; this serializer uses "
                f"{self.name!r}."
            )
        nonce, tag, body = ciphertext[:16], ciphertext[16:32], ciphertext[32:]
        cipher = self._aes.new(self._key, self._aes.MODE_EAX, nonce=nonce)
        try:
            return cipher.decrypt_and_verify(body, tag)
        except ValueError as error:
            raise DeserializationError(
                "Cannot decrypt stored checkpoint data: it was encrypted with a different key, "
                "or the bytes were altered. Fix: use the key the data was written with."
            ) from error
