"""Stored bytes never make the program import or call a type outside the registry."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import ormsgpack
import pytest

from stategraph.checkpoint.serde._msgpack import EXT_DELTA_SNAPSHOT, EXT_OBJECT, EXT_TUPLE
from stategraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from stategraph.checkpoint.serde.types import _DeltaSnapshot
from stategraph.checkpoint.sqlite import SqliteSaver
from stategraph.errors import DeserializationError

from ..conftest import make_checkpoint, thread_config


@pytest.fixture
def system_calls(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Replace os.system and subprocess.Popen with recorders."""
    calls: list[Any] = []
    monkeypatch.setattr(os, "system", lambda *args: calls.append(("os.system", args)))

    class RecordingPopen:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            calls.append(("subprocess.Popen", args))

    monkeypatch.setattr(subprocess, "Popen", RecordingPopen)
    return calls


def object_payload(key: str, state: Any) -> bytes:
    return ormsgpack.packb(ormsgpack.Ext(EXT_OBJECT, ormsgpack.packb([key, state])))


def langgraph_style_payload(code: int) -> bytes:
    # LangGraph's jsonplus layout: ext(code, [module, name, args]).
    return ormsgpack.packb(ormsgpack.Ext(code, ormsgpack.packb(["os", "system", "echo pwned"])))


CRAFTED = [
    object_payload("os:system", "echo pwned"),
    object_payload("subprocess:Popen", [["echo", "pwned"]]),
    object_payload("builtins:eval", "__import__('os').system('echo pwned')"),
    object_payload("os:system", ["echo", "pwned"]),
    # Extension codes LangGraph uses for constructors and methods; ours are 1, 2 and 7 only.
    *[langgraph_style_payload(code) for code in (0, 3, 4, 5, 6)],
    langgraph_style_payload(EXT_OBJECT),
]


# Protocol-0 pickle of os.system("echo pwned"), written out so no pickle module is involved.
PICKLED_EXPLOIT = b"cos\nsystem\n(S'echo pwned'\ntR."


@pytest.mark.parametrize("payload", CRAFTED)
@pytest.mark.parametrize(
    "serde",
    [
        JsonPlusSerializer(),
        JsonPlusSerializer(allowed_msgpack_modules=True),
        JsonPlusSerializer(
            allowed_msgpack_modules=[("os", "system"), ("subprocess", "Popen"), "builtins"]
        ),
    ],
    ids=["default", "allow-imported", "allow-listed-by-name"],
)
def test_a_crafted_payload_is_refused_and_nothing_is_called(
    payload: bytes, serde: JsonPlusSerializer, system_calls: list[Any]
) -> None:
    with pytest.raises(DeserializationError):
        serde.loads_typed(("msgpack", payload))
    assert system_calls == []


def test_a_refusal_names_the_type_and_how_to_allow_it() -> None:
    with pytest.raises(DeserializationError) as raised:
        JsonPlusSerializer().loads_typed(("msgpack", object_payload("os:system", "echo pwned")))
    assert "Refusing to rebuild type 'os:system'" in str(raised.value)
    assert "register_types" in str(raised.value)


def test_a_tuple_extension_only_ever_builds_a_tuple(system_calls: list[Any]) -> None:
    crafted = langgraph_style_payload(EXT_TUPLE)
    assert JsonPlusSerializer().loads_typed(("msgpack", crafted)) == ("os", "system", "echo pwned")
    assert system_calls == []


def test_a_delta_snapshot_extension_only_ever_wraps_data(system_calls: list[Any]) -> None:
    crafted = langgraph_style_payload(EXT_DELTA_SNAPSHOT)
    restored = JsonPlusSerializer().loads_typed(("msgpack", crafted))
    assert restored == _DeltaSnapshot(["os", "system", "echo pwned"])
    assert type(restored) is _DeltaSnapshot
    assert system_calls == []


def test_a_crafted_blob_in_the_database_is_refused_on_read(
    tmp_path: Path, system_calls: list[Any]
) -> None:
    path = str(tmp_path / "db.sqlite")
    with SqliteSaver.from_conn_string(path) as saver:
        checkpoint, versions = make_checkpoint(saver, {"value": "harmless"})
        saver.put(thread_config(), checkpoint, {}, versions)
        saver.conn.execute(
            "UPDATE checkpoint_blobs SET type = 'msgpack', blob = ?",
            (object_payload("os:system", "echo pwned"),),
        )
        saver.conn.commit()
    with SqliteSaver.from_conn_string(path) as cold:
        with pytest.raises(DeserializationError, match="'value'.*os:system"):
            cold.get_tuple(thread_config())
    assert system_calls == []


def test_a_pickle_tag_in_the_database_is_refused(tmp_path: Path, system_calls: list[Any]) -> None:
    path = str(tmp_path / "db.sqlite")
    with SqliteSaver.from_conn_string(path) as saver:
        checkpoint, versions = make_checkpoint(saver, {"value": 1})
        saver.put(thread_config(), checkpoint, {}, versions)
        saver.conn.execute(
            "UPDATE checkpoint_blobs SET type = 'pickle', blob = ?", (PICKLED_EXPLOIT,)
        )
        saver.conn.commit()
    with SqliteSaver.from_conn_string(path) as cold:
        with pytest.raises(DeserializationError, match="pickle"):
            cold.get_tuple(thread_config())
    assert system_calls == []
