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
