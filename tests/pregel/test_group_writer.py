"""The group writer: a busy saver is handed what queued up meanwhile, in order, in one batch;
a failed batch is retried flush by flush, so each error reaches the run that caused it."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from stategraph.pregel._group_writer import group_writer


class BatchingSaver:
    """Records each batch; the first one blocks until released, so later flushes queue up."""

    def __init__(self, failing: Any = None) -> None:
        self.batches: list[list[Any]] = []
        self.release = threading.Event()
        self.started = threading.Event()
        self.failing = failing

    def put_batch(self, calls: list[Any]) -> list[Any]:
        self.started.set()
        self.release.wait(5)
        if self.failing is not None and self.failing in calls:
            raise ValueError(f"cannot store {self.failing!r}")
        self.batches.append(list(calls))
        return []


def test_flushes_queued_while_the_saver_is_busy_go_in_one_batch_in_order() -> None:
    saver = BatchingSaver()
    writer = group_writer(saver)
    first = writer.submit([("a", 1)])
    assert saver.started.wait(5)
    later = [writer.submit([("b", 2), ("b", 3)]), writer.submit([("c", 4)])]
    saver.release.set()
    for done in (first, *later):
        done.result(timeout=5)
    assert saver.batches == [[("a", 1)], [("b", 2), ("b", 3), ("c", 4)]]
    assert group_writer(saver) is writer


def test_a_failing_batch_is_retried_flush_by_flush() -> None:
    saver = BatchingSaver(failing=("bad", 0))
    writer = group_writer(saver)
    first = writer.submit([("a", 1)])
    assert saver.started.wait(5)
    bad = writer.submit([("bad", 0)])
    good = writer.submit([("c", 4)])
    saver.release.set()
    first.result(timeout=5)
    good.result(timeout=5)
    with pytest.raises(ValueError, match="cannot store"):
        bad.result(timeout=5)
    assert saver.batches == [[("a", 1)], [("c", 4)]]


def test_reclaim_takes_back_only_calls_the_writer_has_not_begun() -> None:
    saver = BatchingSaver()
    writer = group_writer(saver)
    first = writer.submit([("a", 1)])
    assert saver.started.wait(5)
    queued = writer.submit([("b", 2)])
    assert writer.reclaim(first) is None  # being stored
    assert writer.reclaim(queued) == [("b", 2)]
    assert writer.reclaim(queued) is None  # taken once
    saver.release.set()
    first.result(timeout=5)
    assert saver.batches == [[("a", 1)]]


# -- the engine's use of it ------------------------------------------------------------------

from typing_extensions import TypedDict  # noqa: E402

from stategraph.checkpoint.memory import InMemorySaver  # noqa: E402
from stategraph.graph import END, START, StateGraph  # noqa: E402
from stategraph.types import Command, interrupt  # noqa: E402


class OutOfProcessSaver(InMemorySaver):
    """An in-memory saver the engine treats as remote: async saves go to its group writer."""

    is_in_process = False

    def __init__(self) -> None:
        super().__init__()
        self.batch_threads: list[str] = []
        self.saved_steps: list[int] = []
        self.step_saved = threading.Condition()

    def put_batch(self, calls: list[Any]) -> list[Any]:
        self.batch_threads.append(threading.current_thread().name)
        configs = []
        for call in calls:
            kind, config, *rest = call
            if kind == "writes":
                writes, task_id, path = rest
                self.put_writes(config, writes, task_id, path)
                continue
            checkpoint, metadata, versions, *writes = rest
            if kind == "step":
                configs.append(self.put_step(config, checkpoint, metadata, versions, writes[0]))
            else:
                configs.append(self.put(config, checkpoint, metadata, versions))
            with self.step_saved:
                self.saved_steps.append(metadata["step"])
                self.step_saved.notify_all()
        return configs


class Answer(TypedDict):
    answer: str
    trail: list


def _interrupting_graph(saver: Any) -> Any:
    builder = StateGraph(Answer)
    builder.add_node("ask", lambda state: {"answer": interrupt("q")})
    builder.add_edge(START, "ask")
    builder.add_edge("ask", END)
    return builder.compile(checkpointer=saver)


def test_invoke_stores_its_last_saves_on_its_own_thread_and_resumes_from_them() -> None:
    saver = OutOfProcessSaver()
    graph = _interrupting_graph(saver)
    config = {"configurable": {"thread_id": "t"}}
    stopped = graph.invoke({"answer": ""}, config)
    assert [i.value for i in stopped["__interrupt__"]] == ["q"]
    assert saver.batch_threads[-1] == threading.current_thread().name
    assert graph.invoke(Command(resume="a"), config) == {"answer": "a"}
    assert saver.batch_threads[-1] == threading.current_thread().name
    assert graph.get_state(config).next == ()


def test_stream_hands_every_save_to_the_writer_before_its_consumer_sees_the_step() -> None:
    saver = OutOfProcessSaver()
    graph = _interrupting_graph(saver)
    config = {"configurable": {"thread_id": "t"}}
    chunks = list(graph.stream({"answer": ""}, config))
    assert "__interrupt__" in chunks[-1]
    assert saver.batch_threads
    assert all(name.startswith("stategraph-saver") for name in saver.batch_threads)


def test_a_held_save_goes_out_before_the_next_task_starts() -> None:
    saver = OutOfProcessSaver()

    def first(state: Answer) -> dict:
        return {"trail": ["first"]}

    def second(state: Answer) -> dict:
        # invoke holds the saves of step 0 only until a task starts: they must arrive now.
        with saver.step_saved:
            arrived = saver.step_saved.wait_for(lambda: 0 in saver.saved_steps, timeout=5)
        return {"trail": [*state["trail"], f"step 0 saved: {arrived}"]}

    builder = StateGraph(Answer)
    builder.add_node("first", first)
    builder.add_node("second", second)
    builder.add_edge(START, "first")
    builder.add_edge("first", "second")
    builder.add_edge("second", END)
    graph = builder.compile(checkpointer=saver)
    out = graph.invoke({"answer": "", "trail": []}, {"configurable": {"thread_id": "t"}})
    assert out["trail"] == ["first", "step 0 saved: True"]
