"""Checkpoint ids and channel versions (``_ids``)."""

from __future__ import annotations

import threading
import uuid

from stategraph.checkpoint.base import (
    BaseCheckpointSaver,
    copy_checkpoint,
    empty_checkpoint,
    get_checkpoint_id,
    uuid6,
)
from stategraph.checkpoint._ids import new_checkpoint_id


def test_uuid6_ids_are_unique_and_sort_as_strings_in_creation_order() -> None:
    ids = [str(uuid6(clock_seq=step)) for step in range(2000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_uuid6_is_a_version_6_uuid_carrying_the_clock_seq() -> None:
    made = uuid6(clock_seq=-1)
    assert made.version == 6
    assert made.variant == uuid.RFC_4122
    assert made.clock_seq == 16383  # -1 masked to 14 bits


def test_engine_checkpoint_ids_are_uuid6_strings_interleaving_in_order_with_uuid6() -> None:
    made = [new_checkpoint_id(step) if step % 2 else str(uuid6(clock_seq=step)) for step in range(500)]
    assert made == sorted(made)
    parsed = uuid.UUID(made[7])
    assert str(parsed) == made[7]  # canonical lowercase 8-4-4-4-12 form
    assert parsed.version == 6 and parsed.variant == uuid.RFC_4122
    assert parsed.clock_seq == 7


def test_uuid6_stays_unique_across_threads() -> None:
    made: list[str] = []

    def make() -> None:
        made.extend(str(uuid6()) for _ in range(500))

    threads = [threading.Thread(target=make) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(made)) == 2000


def test_get_checkpoint_id_reads_configurable() -> None:
    assert get_checkpoint_id({"configurable": {"checkpoint_id": "abc"}}) == "abc"
    assert get_checkpoint_id({"configurable": {"thread_id": "t"}}) is None
    assert get_checkpoint_id({}) is None


def test_the_base_saver_counts_integer_versions() -> None:
    saver: BaseCheckpointSaver[int] = BaseCheckpointSaver()
    assert saver.get_next_version(None, None) == 1
    assert saver.get_next_version(1, None) == 2


def test_empty_and_copied_checkpoints_are_independent() -> None:
    checkpoint = empty_checkpoint()
    # LangGraph's legacy helper: format 2, sends in pending_sends (the engine writes format 4).
    assert checkpoint["v"] == 2 and checkpoint["pending_sends"] == []
    assert checkpoint["channel_values"] == {}
    checkpoint["versions_seen"]["node"] = {"a": 1}
    copied = copy_checkpoint(checkpoint)
    copied["versions_seen"]["node"]["a"] = 2
    copied["channel_values"]["x"] = 1
    assert checkpoint["versions_seen"]["node"] == {"a": 1}
    assert checkpoint["channel_values"] == {}


def test_uuid6_takes_node_then_clock_seq_at_langgraphs_module_path() -> None:
    from stategraph.checkpoint.base.id import uuid6 as at_langgraphs_path

    made = at_langgraphs_path(0xABC, 5)
    assert made.node == 0xABC and made.clock_seq == 5 and made.version == 6
