"""What only the PostgreSQL savers do: connecting, setup, pipelining, deltas, shallow history.

The behaviour every saver shares is tested over all backends (``saver`` fixture); these tests
cover what is particular to PostgreSQL, on the real server (a schema of its own per test).
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Annotated, Any, Iterator

import pytest
from typing_extensions import TypedDict

from _services import fresh_postgres_schema
from stategraph.errors import DatabaseConnectionError
from stategraph.graph import END, START, StateGraph
from stategraph.types import Command, interrupt

from .conftest import make_checkpoint, thread_config

psycopg = pytest.importorskip("psycopg")


@pytest.fixture
def url() -> Iterator[str]:
    with fresh_postgres_schema() as schema_url:
        yield schema_url


def table_count(url: str, table: str, where: str = "") -> int:
    with psycopg.connect(url) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table} {where}").fetchone()[0])


def appender_graph(saver: Any) -> Any:
    class State(TypedDict):
        items: Annotated[list, lambda left, right: left + right]

    def ask(state: State) -> dict[str, Any]:
        return {"items": [interrupt("more?")]}

    builder = StateGraph(State)
    builder.add_node("note", lambda state: {"items": ["noted"]})
    builder.add_node("ask", ask)
    builder.add_edge(START, "note")
    builder.add_edge("note", "ask")
    builder.add_edge("ask", END)
    return builder.compile(checkpointer=saver)


# -- connecting and setting up ----------------------------------------------------------------


def test_a_server_that_does_not_answer_is_named_with_host_and_port() -> None:
    from stategraph.checkpoint.postgres import PostgresSaver

    with pytest.raises(DatabaseConnectionError, match=r"Could not connect to PostgreSQL at 127\.0\.0\.1:1\b"):
        with PostgresSaver.from_conn_string("postgresql://postgres@127.0.0.1:1/test?connect_timeout=2"):
            pass


async def test_the_async_saver_names_the_server_too() -> None:
    from stategraph.checkpoint.postgres.aio import AsyncPostgresSaver

    with pytest.raises(DatabaseConnectionError, match=r"127\.0\.0\.1:1\b"):
        async with AsyncPostgresSaver.from_conn_string(
            "postgresql://postgres@127.0.0.1:1/test?connect_timeout=2"
        ):
            pass


def test_a_pipeline_with_a_pool_is_refused_as_in_langgraph(url: str) -> None:
    from psycopg_pool import ConnectionPool

    from stategraph.checkpoint.postgres import PostgresSaver

    with ConnectionPool(url, min_size=1, max_size=1, open=True) as pool:
        with pytest.raises(ValueError, match="Pipeline should be used only with a single Connection"):
            PostgresSaver(pool, pipe=object())  # type: ignore[arg-type]


def test_setup_run_by_several_processes_at_once_migrates_once(url: str) -> None:
    from stategraph.checkpoint.postgres import PostgresSaver
    from stategraph.checkpoint.postgres._migrations import MIGRATIONS, MIGRATIONS_TABLE

    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def set_up() -> None:
        try:
            with PostgresSaver.from_conn_string(url) as saver:
                start.wait()
                saver.setup()
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    workers = [threading.Thread(target=set_up) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    with psycopg.connect(url) as conn:
        applied = [v for (v,) in conn.execute(f"SELECT v FROM {MIGRATIONS_TABLE} ORDER BY v")]
    assert applied == list(range(len(MIGRATIONS)))
    with PostgresSaver.from_conn_string(url) as saver:
        saver.setup()  # once more: nothing to do, nothing fails
    assert table_count(url, MIGRATIONS_TABLE) == len(MIGRATIONS)


def test_a_saver_sets_itself_up_on_first_use(url: str) -> None:
    from stategraph.checkpoint.postgres import PostgresSaver

    with PostgresSaver.from_conn_string(url) as saver:
        assert saver.get_tuple(thread_config()) is None
    assert table_count(url, "stategraph_checkpoints") == 0


# -- one round trip per step --------------------------------------------------------------------


def test_a_step_is_sent_in_one_round_trip(url: str, tmp_path: Path) -> None:
    from stategraph.checkpoint.base import TaskWrites
    from stategraph.checkpoint.postgres import PostgresSaver

    with PostgresSaver.from_conn_string(url) as saver:
        previous, versions = make_checkpoint(saver, {"messages": ["hi"]})
        config = saver.put(thread_config(), previous, {"step": 0}, versions)
        trace_path = tmp_path / "libpq.trace"
        for step in range(1, 4):
            messages = previous["channel_values"]["messages"] + [f"m{step}"]
            checkpoint, versions = make_checkpoint(saver, {"messages": messages}, previous, step=step)
            writes = [TaskWrites("task-1", [("messages", [f"m{step}"])], "node", previous["id"])]
            if step < 3:  # the first steps prepare the statement, as any first use does
                config = saver.put_step(config, checkpoint, {"step": step}, versions, writes)
            else:
                with open(trace_path, "w") as trace:
                    saver.conn.pgconn.trace(trace.fileno())
                    try:
                        saver.put_step(config, checkpoint, {"step": step}, versions, writes)
                    finally:
                        saver.conn.pgconn.untrace()
            previous = checkpoint
        frontend = [line for line in trace_path.read_text().splitlines() if "\tF\t" in line]
        assert saver.get_tuple(thread_config()).checkpoint["channel_values"] == {
            "messages": ["hi", "m1", "m2", "m3"]
        }
    # libpq's trace marks what the client sends with F: one Sync, so one wait for the server.
    assert sum("\tSync" in line for line in frontend) == 1
    assert sum("\tExecute" in line for line in frontend) == 1


# -- deltas ------------------------------------------------------------------------------------


def test_a_growing_list_is_stored_as_deltas_and_reads_back_whole(url: str) -> None:
    from stategraph.checkpoint.postgres import PostgresSaver

    with PostgresSaver.from_conn_string(url) as saver:
        graph = appender_graph(saver)
        config = {"configurable": {"thread_id": "t"}}
        graph.invoke({"items": ["start"]}, config)
        for turn in range(20):
            graph.invoke(Command(resume=f"answer {turn}"), config)
            graph.invoke({"items": [f"turn {turn}"]}, config)
        expected = graph.get_state(config).values["items"]
    assert table_count(url, "stategraph_checkpoint_blobs", "WHERE base_version IS NOT NULL") > 0
    # A new process, with an empty cache, reads every value back from the rows.
    with PostgresSaver.from_conn_string(url) as saver:
        assert appender_graph(saver).get_state(config).values["items"] == expected
        assert len(expected) == 1 + 20 * 3 + 1


def test_a_step_whose_delta_base_was_deleted_meanwhile_is_stored_whole(url: str) -> None:
    from stategraph.checkpoint.postgres import PostgresSaver

    with PostgresSaver.from_conn_string(url) as saver:
        first, versions = make_checkpoint(saver, {"messages": ["a", "b"]})
        config = saver.put(thread_config(), first, {}, versions)
        # Another process deletes the thread; this saver's cache still holds ["a", "b"].
        with psycopg.connect(url, autocommit=True) as other:
            other.execute("DELETE FROM stategraph_checkpoint_blobs")
        second, versions = make_checkpoint(saver, {"messages": ["a", "b", "c"]}, first, step=1)
        saver.put(config, second, {}, versions)
    with PostgresSaver.from_conn_string(url) as fresh:
        found = fresh.get_tuple(thread_config())
    assert found.checkpoint["channel_values"] == {"messages": ["a", "b", "c"]}
    assert table_count(url, "stategraph_checkpoint_blobs", "WHERE base_version IS NOT NULL") == 0


# -- metadata filters are data ----------------------------------------------------------------------


def test_a_filter_crafted_as_sql_is_matched_as_data(url: str) -> None:
    from stategraph.checkpoint.postgres import PostgresSaver

    crafted = "x' OR '1'='1"
    with PostgresSaver.from_conn_string(url) as saver:
        checkpoint, versions = make_checkpoint(saver, {"v": 1})
        saver.put(thread_config(), checkpoint, {"source": "input", crafted: crafted}, versions)
        assert list(saver.list(None, filter={"source": crafted})) == []
        assert list(saver.list(None, filter={"source') OR true --": "input"})) == []
        [found] = saver.list(None, filter={crafted: crafted})
        assert found.metadata[crafted] == crafted
    assert table_count(url, "stategraph_checkpoints") == 1


# -- copy_thread --------------------------------------------------------------------------------


def test_copy_thread_gives_an_independent_thread_with_the_whole_history(url: str) -> None:
    from stategraph.checkpoint.postgres import PostgresSaver

    with PostgresSaver.from_conn_string(url) as saver:
        graph = appender_graph(saver)
        source = {"configurable": {"thread_id": "source"}}
        target = {"configurable": {"thread_id": "target"}}
        graph.invoke({"items": ["start"]}, source)
        saver.copy_thread("source", "target")
        assert graph.get_state(target).next == ("ask",)  # still waiting for its answer
        graph.invoke(Command(resume="for the copy"), target)
        assert graph.get_state(target).values["items"] == ["start", "noted", "for the copy"]
        assert graph.get_state(source).next == ("ask",)
        assert len(list(graph.get_state_history(target))) == len(
            list(graph.get_state_history(source))
        ) + 1


# -- shallow ------------------------------------------------------------------------------------


def test_the_shallow_saver_keeps_one_checkpoint_and_still_resumes(url: str) -> None:
    from stategraph.checkpoint.postgres.shallow import ShallowPostgresSaver

    with psycopg.connect(url, autocommit=True, prepare_threshold=0) as conn:
        with pytest.warns(DeprecationWarning, match="ShallowPostgresSaver is deprecated"):
            saver = ShallowPostgresSaver(conn)
        graph = appender_graph(saver)
        config = {"configurable": {"thread_id": "t"}}
        graph.invoke({"items": ["start"]}, config)
        first_id = graph.get_state(config).config["configurable"]["checkpoint_id"]
        assert graph.invoke(Command(resume="yes"), config)["items"] == ["start", "noted", "yes"]
        history = list(graph.get_state_history(config))
        assert len(history) == 1 and history[0].values["items"] == ["start", "noted", "yes"]
        old = {"configurable": {"thread_id": "t", "checkpoint_id": first_id}}
        assert saver.get_tuple(old).checkpoint["channel_values"]["items"][-1] == "yes"
    assert table_count(url, "stategraph_checkpoints") == 1
    assert table_count(url, "stategraph_checkpoint_blobs", "WHERE base_version IS NOT NULL") == 0


async def test_the_async_shallow_saver_keeps_one_checkpoint(url: str) -> None:
    from stategraph.checkpoint.postgres.shallow import AsyncShallowPostgresSaver

    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        with pytest.warns(DeprecationWarning, match="AsyncShallowPostgresSaver is deprecated"):
            saver = AsyncShallowPostgresSaver(conn)
        graph = appender_graph(saver)
        config = {"configurable": {"thread_id": "t"}}
        await graph.ainvoke({"items": ["start"]}, config)
        await graph.ainvoke(Command(resume="yes"), config)
        assert [s async for s in graph.aget_state_history(config)][0].values["items"][-1] == "yes"
    assert table_count(url, "stategraph_checkpoints") == 1


# -- the async saver's sync methods ------------------------------------------------------------


async def test_sync_calls_on_the_event_loop_are_refused_with_the_fix(url: str) -> None:
    from stategraph.checkpoint.postgres.aio import AsyncPostgresSaver

    async with AsyncPostgresSaver.from_conn_string(url) as saver:
        with pytest.raises(asyncio.InvalidStateError, match="use the async interface"):
            saver.get_tuple(thread_config())
        # From another thread they run on the saver's loop.
        assert await asyncio.to_thread(saver.get_tuple, thread_config()) is None



# -- compression --------------------------------------------------------------------------------


def test_long_values_are_stored_compressed_and_read_back_after_a_prune(url: str) -> None:
    from stategraph.checkpoint.postgres import PostgresSaver

    text = "a conversation repeats itself, " * 40
    with PostgresSaver.from_conn_string(url) as saver:
        graph = appender_graph(saver)
        config = {"configurable": {"thread_id": "t"}}
        graph.invoke({"items": [text]}, config)
        for turn in range(5):
            graph.invoke(Command(resume=f"{turn} {text}"), config)
            graph.invoke({"items": [text]}, config)
        expected = graph.get_state(config).values["items"]
        stored = table_count(url, "stategraph_checkpoint_blobs", "WHERE type LIKE '%+zlib'")
        with psycopg.connect(url) as conn:
            raw, full = conn.execute(
                "SELECT sum(length(blob)), sum(length(blob)) FILTER (WHERE type NOT LIKE '%+zlib') "
                "FROM stategraph_checkpoint_writes"
            ).fetchone()
        saver.prune(["t"])
    assert stored > 0 and (full or 0) < raw  # some writes are compressed too
    with PostgresSaver.from_conn_string(url) as fresh:
        assert appender_graph(fresh).get_state(config).values["items"] == expected


def test_bytes_that_do_not_shrink_are_stored_as_they_are() -> None:
    import os

    from stategraph.checkpoint.postgres._compress import pack, unpack
    from stategraph.errors import DeserializationError

    random_bytes = os.urandom(4096)
    assert pack("msgpack", random_bytes) == ("msgpack", random_bytes)
    assert pack("msgpack", b"short") == ("msgpack", b"short")
    packed = pack("msgpack", b"abc" * 1000)
    assert packed[0] == "msgpack+zlib" and len(packed[1]) < 100
    assert unpack(*packed) == ("msgpack", b"abc" * 1000)
    with pytest.raises(DeserializationError, match="not valid zlib data"):
        unpack("msgpack+zlib", b"not zlib")


# -- batches --------------------------------------------------------------------------------------


def test_a_batch_of_steps_of_two_threads_is_one_statement_and_reads_back(
    url: str, tmp_path: Path
) -> None:
    from stategraph.checkpoint.postgres import PostgresSaver

    with PostgresSaver.from_conn_string(url) as saver:
        saver.setup()
        calls: list[Any] = []
        expected = {}
        for thread in ("t1", "t2"):
            previous, config, messages = None, thread_config(thread), []
            for step in range(3):
                messages = [*messages, f"{thread}-{step}"]  # appends to the same items
                checkpoint, versions = make_checkpoint(saver, {"messages": messages}, previous, step=step)
                calls.append(("put", config, checkpoint, {"step": step}, versions))
                config = {"configurable": {**config["configurable"], "checkpoint_id": checkpoint["id"]}}
                calls.append(("writes", config, [("messages", [f"pending-{thread}"])], "task-1", ""))
                previous = checkpoint
            expected[thread] = messages
        trace_path = tmp_path / "batch.trace"
        with open(trace_path, "w") as trace:
            saver.conn.pgconn.trace(trace.fileno())
            try:
                configs = saver.put_batch(calls)
            finally:
                saver.conn.pgconn.untrace()
        frontend = [line for line in trace_path.read_text().splitlines() if "\tF\t" in line]
    assert len(configs) == 6
    assert sum("\tExecute" in line for line in frontend) == 1
    # Later steps extend lists the same statement stored: deltas, read back by a fresh process.
    assert table_count(url, "stategraph_checkpoint_blobs", "WHERE base_version IS NOT NULL") > 0
    with PostgresSaver.from_conn_string(url) as fresh:
        for thread, messages in expected.items():
            found = fresh.get_tuple(thread_config(thread))
            assert found.checkpoint["channel_values"] == {"messages": messages}
            assert found.pending_writes == [("task-1", "messages", [f"pending-{thread}"])]
            assert len(list(fresh.list(thread_config(thread)))) == 3


# -- reading what older releases wrote ------------------------------------------------------------


def test_sends_saved_as_writes_by_format_2_read_back_as_the_tasks_channel(url: str) -> None:
    from stategraph.checkpoint.base import create_checkpoint, empty_checkpoint
    from stategraph.checkpoint.postgres import PostgresSaver
    from stategraph.checkpoint.serde.types import TASKS

    with PostgresSaver.from_conn_string(url) as saver:
        first = empty_checkpoint()
        assert first["v"] == 2 and first["pending_sends"] == []
        config = saver.put(thread_config("t"), first, {}, {})
        saver.put_writes(config, [(TASKS, "send-1"), (TASKS, "send-2")], task_id="a")
        saver.put_writes(config, [(TASKS, "send-3")], task_id="b")
        assert saver.get_tuple(config).checkpoint["channel_values"] == {}
        config = saver.put(config, create_checkpoint(first, {}, 1), {}, {})

        second = saver.get_tuple(config).checkpoint
        assert second["channel_values"] == {TASKS: ["send-1", "send-2", "send-3"]}
        assert TASKS in second["channel_versions"]
        newest, oldest = list(saver.list(thread_config("t")))
        assert newest.checkpoint["channel_values"] == {TASKS: ["send-1", "send-2", "send-3"]}
        assert oldest.checkpoint["channel_values"] == {}


def test_the_async_module_exports_the_async_shallow_saver() -> None:
    from stategraph.checkpoint.postgres import aio, shallow

    assert aio.AsyncShallowPostgresSaver is shallow.AsyncShallowPostgresSaver
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        aio.Nope  # noqa: B018


def test_a_saver_on_the_callers_pipeline_reads_what_it_wrote(url: str) -> None:
    from psycopg.rows import dict_row

    from stategraph.checkpoint.postgres import PostgresSaver

    with psycopg.connect(url, autocommit=True, prepare_threshold=0, row_factory=dict_row) as conn:
        PostgresSaver(conn).setup()
        with conn.pipeline() as pipe:
            graph = appender_graph(PostgresSaver(conn, pipe))
            config = {"configurable": {"thread_id": "t"}}
            graph.invoke({"items": ["start"]}, config)
            assert graph.invoke(Command(resume="yes"), config)["items"] == ["start", "noted", "yes"]
            assert len(list(graph.get_state_history(config))) == 4
