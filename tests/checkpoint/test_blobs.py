"""Channel values stored as per-version blobs, appended lists stored as deltas (``_blobs``)."""

from __future__ import annotations

import random
import sqlite3
import string
import tempfile
from pathlib import Path
from typing import Any, Iterator, Optional

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stategraph.checkpoint._blobs import BlobRow, plan_blob_writes
from stategraph.checkpoint._rows import CheckpointRow, WriteRow, encode_write_rows
from stategraph.checkpoint.base import BaseCheckpointSaver, Checkpoint
from stategraph.checkpoint.memory import InMemorySaver
from stategraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from stategraph.checkpoint.sqlite import SqliteSaver

from .conftest import make_checkpoint, thread_config

TURNS = 300


def stored_bytes(saver: BaseCheckpointSaver[Any]) -> int:
    """Bytes of every stored value, checkpoint, metadata and write."""
    if isinstance(saver, InMemorySaver):
        rows = [
            CheckpointRow._make(r) for ns in saver.storage.values() for cps in ns.values() for r in cps.values()
        ]
        blobs = [BlobRow._make(b) for thread in saver.blobs.values() for b in thread.values()]
        writes = [
            WriteRow._make(w)
            for thread in saver.writes.values()
            for stored in thread.values()
            for w in stored.values()
        ]
        return (
            sum(len(blob.blob) for blob in blobs)
            + sum(len(row.checkpoint) + len(row.metadata) for row in rows)
            + sum(len(w.value) for w in writes)
        )
    assert isinstance(saver, SqliteSaver)
    saver.setup()
    conn = saver.conn
    total = 0
    for sql in (
        "SELECT sum(length(blob)) FROM checkpoint_blobs",
        "SELECT sum(length(checkpoint)) + sum(length(metadata)) FROM checkpoints",
        "SELECT sum(length(value)) FROM writes",
    ):
        total += conn.execute(sql).fetchone()[0] or 0
    return total


class Conversation:
    """Drives a saver the way the engine does: read the latest checkpoint, append, put."""

    def __init__(self, saver: BaseCheckpointSaver[Any], thread_id: str = "chat") -> None:
        self.saver = saver
        self.config = thread_config(thread_id)
        self.step = 0

    def latest(self) -> Optional[Checkpoint]:
        return self.saver.get(thread_config(self.config["configurable"]["thread_id"]))

    def turn(
        self, new_messages: list[Any], base: Optional[dict[str, Any]] = None
    ) -> dict[str, Any]:
        """Append ``new_messages`` to the latest checkpoint (or to checkpoint ``base``)."""
        previous = self.saver.get(base) if base else self.latest()
        messages = list(previous["channel_values"]["messages"]) if previous else []
        checkpoint, versions = make_checkpoint(
            self.saver, {"messages": messages + new_messages}, previous, step=self.step
        )
        self.step += 1
        parent = base or self.config
        self.config = self.saver.put(
            parent, checkpoint, {"source": "loop", "step": self.step}, versions
        )
        return self.config


def pseudo_random_text(rng: random.Random, length: int = 500) -> str:
    return "".join(rng.choice(string.ascii_letters + " ") for _ in range(length))


@pytest.fixture(params=["memory", "sqlite"])
def saver(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BaseCheckpointSaver[Any]]:
    if request.param == "memory":
        yield InMemorySaver()
    else:
        with SqliteSaver.from_conn_string(str(tmp_path / "chat.db")) as sqlite_saver:
            yield sqlite_saver


def test_bytes_added_per_turn_stay_flat_over_a_long_conversation(
    saver: BaseCheckpointSaver[Any],
) -> None:
    rng = random.Random(1)
    chat = Conversation(saver)
    added = []
    for _ in range(TURNS):
        before = stored_bytes(saver)
        chat.turn([pseudo_random_text(rng), pseudo_random_text(rng)])
        added.append(stored_bytes(saver) - before)
    # Snapshots are geometric (a full copy each time the list has doubled), so single turns
    # spike; averaged over each half of the conversation, a turn costs the same at the end as
    # at the start. Storing the whole list every turn would make the second half ~3x the first.
    first_half, second_half = sum(added[: TURNS // 2]), sum(added[TURNS // 2 :])
    assert second_half <= 1.5 * first_half
    raw_text = TURNS * 2 * 500
    assert sum(added) <= 4 * raw_text  # linear in what was said, not quadratic
    assert len(chat.latest()["channel_values"]["messages"]) == 2 * TURNS


def test_a_cold_saver_reconstructs_the_exact_list(tmp_path: Path) -> None:
    rng = random.Random(2)
    path = str(tmp_path / "chat.db")
    with SqliteSaver.from_conn_string(path) as writer:
        chat = Conversation(writer)
        expected: list[str] = []
        for _ in range(120):
            new = [pseudo_random_text(rng, 50), pseudo_random_text(rng, 50)]
            expected += new
            chat.turn(new)
        history = [
            t.checkpoint["channel_values"]["messages"] for t in writer.list(thread_config("chat"))
        ]
    with SqliteSaver.from_conn_string(path) as reader:
        assert reader.get(thread_config("chat"))["channel_values"]["messages"] == expected
        cold_history = [
            t.checkpoint["channel_values"]["messages"] for t in reader.list(thread_config("chat"))
        ]
    assert cold_history == history
    assert [len(messages) for messages in history] == list(range(240, 0, -2))
    assert all(messages == expected[: len(messages)] for messages in history)


def test_langchain_messages_round_trip_through_deltas(tmp_path: Path) -> None:
    from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

    path = str(tmp_path / "chat.db")
    expected: list[Any] = []
    with SqliteSaver.from_conn_string(path) as writer:
        chat = Conversation(writer)
        for turn in range(40):
            new = [
                HumanMessage(f"question {turn}", id=f"h{turn}"),
                AIMessage(
                    "",
                    id=f"a{turn}",
                    tool_calls=[{"name": "search", "args": {"q": turn}, "id": f"c{turn}"}],
                ),
                ToolMessage(f"result {turn}", tool_call_id=f"c{turn}", id=f"t{turn}"),
            ]
            expected += new
            chat.turn(new)
    with SqliteSaver.from_conn_string(path) as reader:
        messages = reader.get(thread_config("chat"))["channel_values"]["messages"]
    assert messages == expected
    assert [type(m) for m in messages] == [type(m) for m in expected]
    assert messages[1].tool_calls[0]["args"] == {"q": 0}


def test_a_fork_from_an_older_checkpoint_reads_back_both_branches(
    saver: BaseCheckpointSaver[Any],
) -> None:
    chat = Conversation(saver)
    configs = [chat.turn([f"m{i}"]) for i in range(8)]
    fork_point = configs[3]
    fork = chat.turn(["forked"], base=fork_point)
    assert saver.get(fork)["channel_values"]["messages"] == ["m0", "m1", "m2", "m3", "forked"]
    assert saver.get(configs[7])["channel_values"]["messages"] == [f"m{i}" for i in range(8)]
    assert (
        saver.get_tuple(fork).parent_config["configurable"]["checkpoint_id"]
        == fork_point["configurable"]["checkpoint_id"]
    )
    chat.turn(["after fork"], base=fork)
    assert saver.get(thread_config("chat"))["channel_values"]["messages"][-2:] == [
        "forked",
        "after fork",
    ]


def test_a_list_mutated_in_place_between_puts_is_stored_exactly(
    saver: BaseCheckpointSaver[Any],
) -> None:
    shared = ["a"]
    checkpoint, versions = make_checkpoint(saver, {"items": shared})
    config = saver.put(thread_config(), checkpoint, {}, versions)
    shared.append("b")  # the same list object, changed after it was stored
    checkpoint2, versions = make_checkpoint(saver, {"items": shared}, checkpoint)
    config2 = saver.put(config, checkpoint2, {}, versions)
    assert saver.get(config)["channel_values"]["items"] == ["a"]
    assert saver.get(config2)["channel_values"]["items"] == ["a", "b"]


def test_a_list_that_is_not_an_append_is_stored_whole(saver: BaseCheckpointSaver[Any]) -> None:
    chat = Conversation(saver)
    for i in range(5):
        chat.turn([f"m{i}"])
    current = chat.latest()
    trimmed = current["channel_values"]["messages"][2:] + ["new"]  # e.g. RemoveMessage
    checkpoint, versions = make_checkpoint(saver, {"messages": trimmed}, current)
    config = saver.put(chat.config, checkpoint, {}, versions)
    assert saver.get(config)["channel_values"]["messages"] == ["m2", "m3", "m4", "new"]


class CountingSerde(JsonPlusSerializer):
    def __init__(self) -> None:
        super().__init__()
        self.loads = 0
        self.dumped = 0

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        self.loads += 1
        return super().loads_typed(data)

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
        self.dumped += 1
        return super().dumps_typed(obj)


def test_reading_the_latest_checkpoint_again_decodes_no_channel_value(tmp_path: Path) -> None:
    serde = CountingSerde()
    path = str(tmp_path / "chat.db")
    with SqliteSaver.from_conn_string(path, serde=serde) as writer:
        chat = Conversation(writer)
        for i in range(TURNS):
            chat.turn([f"m{i}"])
            serde.loads = 0
            assert len(chat.latest()["channel_values"]["messages"]) == i + 1
            assert serde.loads == 1  # the checkpoint row only; the list comes from the cache
    cold = CountingSerde()
    with SqliteSaver.from_conn_string(path, serde=cold) as reader:
        reader.get(thread_config("chat"))
        first_read = cold.loads
        reader.get(thread_config("chat"))
    # Cold: the last snapshot plus the deltas after it (fewer than half the turns).
    assert 2 <= first_read <= 2 + TURNS // 2
    assert cold.loads == first_read + 1


def test_a_second_process_sees_and_extends_the_same_thread(tmp_path: Path) -> None:
    path = str(tmp_path / "chat.db")
    with SqliteSaver.from_conn_string(path) as first, SqliteSaver.from_conn_string(path) as second:
        one, two = Conversation(first), Conversation(second)
        for i in range(5):
            one.turn([f"a{i}"])
        assert two.latest()["channel_values"]["messages"] == [f"a{i}" for i in range(5)]
        one.turn(["a5"])
        assert two.latest()["channel_values"]["messages"][-2:] == ["a4", "a5"]
        two.config = second.get_tuple(thread_config("chat")).config
        two.turn(["b0"])
        one.turn(["a6"])  # `first` still caches its own a5 list; it must read b0 first
        assert second.get(thread_config("chat"))["channel_values"]["messages"][-3:] == [
            "a5",
            "b0",
            "a6",
        ]


def test_a_delta_whose_base_was_deleted_by_another_process_is_stored_whole(tmp_path: Path) -> None:
    path = str(tmp_path / "chat.db")
    with SqliteSaver.from_conn_string(path) as writer:
        chat = Conversation(writer)
        for i in range(6):
            chat.turn([f"m{i}"])
        kept = chat.latest()
        other = sqlite3.connect(path)
        other.execute("DELETE FROM checkpoint_blobs")
        other.commit()
        other.close()
        checkpoint, versions = make_checkpoint(
            writer, {"messages": kept["channel_values"]["messages"] + ["m6"]}, kept
        )
        writer.put(chat.config, checkpoint, {}, versions)
    with SqliteSaver.from_conn_string(path) as reader:
        assert reader.get(thread_config("chat"))["channel_values"]["messages"] == [
            f"m{i}" for i in range(7)
        ]


# Each operation: ("append", n) | ("drop_first",) | ("fork", back) — the history must always
# read back exactly, from the writing saver and from a cold one.
operations = st.lists(
    st.one_of(
        st.tuples(st.just("append"), st.integers(0, 5)),
        st.tuples(st.just("drop_first")),
        st.tuples(st.just("fork"), st.integers(1, 6)),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=40, deadline=None)
@given(operations)
def test_every_checkpoint_replays_to_the_list_that_was_put(ops: list[tuple[Any, ...]]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = str(Path(directory) / "prop.db")
        expected: dict[str, list[int]] = {}
        with SqliteSaver.from_conn_string(path) as writer:
            chat = Conversation(writer)
            configs: list[dict[str, Any]] = []
            counter = 0
            for op in ops:
                base = None
                current = expected[configs[-1]["configurable"]["checkpoint_id"]] if configs else []
                if op[0] == "append":
                    new = list(range(counter, counter + op[1]))
                    counter += op[1]
                elif op[0] == "drop_first":
                    new = []
                elif configs:
                    base = configs[max(0, len(configs) - op[1])]
                    current = expected[base["configurable"]["checkpoint_id"]]
                    new = [counter]
                    counter += 1
                else:
                    new = []
                if op[0] == "drop_first" and current:
                    previous = writer.get(configs[-1])
                    checkpoint, versions = make_checkpoint(
                        writer, {"messages": current[1:]}, previous, step=len(configs)
                    )
                    config = writer.put(chat.config, checkpoint, {}, versions)
                    chat.config = config
                    value = current[1:]
                else:
                    config = chat.turn(new, base=base)
                    value = current + new
                expected[config["configurable"]["checkpoint_id"]] = value
                configs.append(config)
            for checkpoint_id, value in expected.items():
                assert (
                    writer.get(thread_config("chat", checkpoint_id=checkpoint_id))[
                        "channel_values"
                    ]["messages"]
                    == value
                )
        with SqliteSaver.from_conn_string(path) as reader:
            for checkpoint_id, value in expected.items():
                assert (
                    reader.get(thread_config("chat", checkpoint_id=checkpoint_id))[
                        "channel_values"
                    ]["messages"]
                    == value
                )


def test_a_value_written_by_the_step_is_serialized_once() -> None:
    serde = CountingSerde()
    written = {"plain": "value"}
    encoded: dict[int, tuple[str, bytes]] = {}
    rows = encode_write_rows(serde, [("key", written), ("other", 7)], "task", "", encoded)
    assert serde.dumped == 2
    plan = plan_blob_writes(serde, {}, {"key": written, "fresh": {"b": 2}}, {"key": "1", "fresh": "1"}, encoded)
    assert serde.dumped == 3  # only the channel value the step did not write was serialized
    by_channel = {write.row.channel: write.row for write in plan}
    assert (by_channel["key"].type, by_channel["key"].blob) == (rows[0].type, rows[0].value)
    assert serde.loads_typed((by_channel["fresh"].type, by_channel["fresh"].blob)) == {"b": 2}
