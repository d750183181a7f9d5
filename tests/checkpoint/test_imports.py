"""Public names at LangGraph's paths, and no langchain-core until a message is met."""

from __future__ import annotations

import importlib
import subprocess
import sys
import textwrap

import pytest

SURFACE = [
    ("stategraph.checkpoint.base", name)
    for name in (
        "BaseCheckpointSaver", "Checkpoint", "CheckpointMetadata", "CheckpointTuple",
        "ChannelVersions", "PendingWrite", "WRITES_IDX_MAP", "EmptyChannelError",
        "get_checkpoint_id", "get_checkpoint_metadata", "empty_checkpoint", "copy_checkpoint",
        "uuid6",
    )
] + [
    ("stategraph.checkpoint.memory", "InMemorySaver"),
    ("stategraph.checkpoint.memory", "MemorySaver"),
    ("stategraph.checkpoint.serde.jsonplus", "JsonPlusSerializer"),
    ("stategraph.checkpoint.serde.encrypted", "EncryptedSerializer"),
    ("stategraph.checkpoint.serde.base", "SerializerProtocol"),
    ("stategraph.checkpoint.serde", "register_types"),
    ("stategraph.checkpoint.serde", "collect_schema_types"),
    ("stategraph.checkpoint.sqlite", "SqliteSaver"),
    ("stategraph.checkpoint.sqlite.aio", "AsyncSqliteSaver"),
]  # fmt: skip


@pytest.mark.parametrize(("module", "name"), SURFACE)
def test_name_importable_from_its_langgraph_path(module: str, name: str) -> None:
    assert hasattr(importlib.import_module(module), name)


def test_empty_channel_error_is_the_one_from_errors() -> None:
    from stategraph.checkpoint.base import EmptyChannelError
    from stategraph.errors import EmptyChannelError as Original

    assert EmptyChannelError is Original


def test_checkpointing_does_not_import_langchain_core_until_a_message_is_read() -> None:
    script = textwrap.dedent(
        """
        import sys, dataclasses
        from stategraph.checkpoint.memory import InMemorySaver
        from stategraph.checkpoint.sqlite import SqliteSaver
        from stategraph.checkpoint.sqlite.aio import AsyncSqliteSaver
        from stategraph.checkpoint.serde import register_types, collect_schema_types
        from stategraph.checkpoint.serde.jsonplus import JsonPlusSerializer
        from stategraph.checkpoint.serde._msgpack import EXT_OBJECT
        import ormsgpack

        @dataclasses.dataclass
        class Point:
            x: int

        register_types(Point)
        serde = JsonPlusSerializer()
        value = {"p": Point(1), "t": (1,)}
        assert serde.loads_typed(serde.dumps_typed(value)) == value
        assert "langchain_core" not in sys.modules, "imported too early"
        payload = ormsgpack.packb(ormsgpack.Ext(EXT_OBJECT, ormsgpack.packb(
            ["langchain_core:HumanMessage", [{"content": "hi", "type": "human"}, ["content"]]])))
        message = serde.loads_typed(("msgpack", payload))
        assert type(message).__name__ == "HumanMessage" and message.content == "hi"
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
