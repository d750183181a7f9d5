"""EncryptedSerializer: AES-EAX around another serializer."""

from __future__ import annotations

from pathlib import Path

import pytest

from stategraph.checkpoint.serde.encrypted import EncryptedSerializer
from stategraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from stategraph.checkpoint.sqlite import SqliteSaver
from stategraph.errors import DeserializationError

from ..conftest import make_checkpoint, thread_config

KEY = b"0123456789abcdef"
OTHER_KEY = b"fedcba9876543210"


def test_values_round_trip_and_are_tagged_with_the_cipher() -> None:
    serde = EncryptedSerializer.from_pycryptodome_aes(key=KEY)
    for value in [None, b"raw", {"secret": [1, (2, 3)]}, "text"]:
        tag, data = serde.dumps_typed(value)
        assert tag.endswith("+aes")
        assert b"secret" not in data
        assert serde.loads_typed((tag, data)) == value


def test_a_wrong_key_fails_loudly() -> None:
    stored = EncryptedSerializer.from_pycryptodome_aes(key=KEY).dumps_typed({"secret": 1})
    with pytest.raises(DeserializationError, match="different key"):
        EncryptedSerializer.from_pycryptodome_aes(key=OTHER_KEY).loads_typed(stored)


def test_tampered_ciphertext_fails_loudly() -> None:
    serde = EncryptedSerializer.from_pycryptodome_aes(key=KEY)
    tag, data = serde.dumps_typed("hello")
    with pytest.raises(DeserializationError):
        serde.loads_typed((tag, data[:-1] + bytes([data[-1] ^ 1])))


def test_unencrypted_data_still_loads() -> None:
    plain = JsonPlusSerializer().dumps_typed({"a": 1})
    assert EncryptedSerializer.from_pycryptodome_aes(key=KEY).loads_typed(plain) == {"a": 1}


def test_the_key_can_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LANGGRAPH_AES_KEY", raising=False)
    monkeypatch.setenv("STATEGRAPH_AES_KEY", KEY.decode())
    stored = EncryptedSerializer.from_pycryptodome_aes().dumps_typed(1)
    assert EncryptedSerializer.from_pycryptodome_aes(key=KEY).loads_typed(stored) == 1
    monkeypatch.delenv("STATEGRAPH_AES_KEY")
    with pytest.raises(ValueError, match="LANGGRAPH_AES_KEY"):
        EncryptedSerializer.from_pycryptodome_aes()


def test_a_key_of_the_wrong_length_is_refused() -> None:
    with pytest.raises(ValueError, match="16, 24 or 32"):
        EncryptedSerializer.from_pycryptodome_aes(key=b"short")


def test_a_saver_with_encryption_stores_no_plaintext(tmp_path: Path) -> None:
    path = str(tmp_path / "db.sqlite")
    serde = EncryptedSerializer.from_pycryptodome_aes(key=KEY)
    with SqliteSaver.from_conn_string(path, serde=serde) as saver:
        config = thread_config()
        previous = None
        for turn in range(4):
            messages = (previous["channel_values"]["messages"] if previous else []) + [
                f"secret-{turn}"
            ]
            checkpoint, versions = make_checkpoint(saver, {"messages": messages}, previous)
            config = saver.put(config, checkpoint, {}, versions)
            previous = checkpoint
        saver.put_writes(config, [("messages", ["secret-write"])], "task")
    files = [Path(path + suffix) for suffix in ("", "-wal")]
    assert not any(b"secret-" in file.read_bytes() for file in files if file.exists())
    with SqliteSaver.from_conn_string(path, serde=serde) as cold:
        found = cold.get_tuple(thread_config())
        assert found.checkpoint["channel_values"]["messages"] == [f"secret-{i}" for i in range(4)]
        assert found.pending_writes == [("task", "messages", ["secret-write"])]
    with SqliteSaver.from_conn_string(
        path, serde=EncryptedSerializer.from_pycryptodome_aes(key=OTHER_KEY)
    ) as wrong:
        with pytest.raises(DeserializationError):
            wrong.get_tuple(thread_config())
