"""The measuring harness the workloads share: framework access, timing, checks.

``Api`` imports the framework under test by prefix; ``measure`` times runs with
their preparation and checks kept outside the timed region.
"""

import importlib
import sqlite3
import statistics
import time
import uuid
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Callable


class Api:
    """The framework under test: ``api.graph`` is ``<prefix>.graph``, and so on."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def module(self, name: str) -> ModuleType:
        return importlib.import_module(f"{self.prefix}.{name}")

    @property
    def graph(self) -> ModuleType:
        return self.module("graph")

    @property
    def types(self) -> ModuleType:
        return self.module("types")

    @property
    def prebuilt(self) -> ModuleType:
        return self.module("prebuilt")

    def in_memory_saver(self) -> Any:
        return self.module("checkpoint.memory").InMemorySaver()

    def sqlite_saver(self, path: str) -> tuple[Any, sqlite3.Connection]:
        conn = sqlite3.connect(path, check_same_thread=False)
        saver = self.module("checkpoint.sqlite").SqliteSaver(conn)
        if hasattr(saver, "setup"):
            saver.setup()  # tables exist before any size is measured
        return saver, conn


@dataclass(frozen=True, slots=True)
class Plan:
    """How many untimed warm-up runs and timed runs a workload makes."""

    warmup: int
    reps: int


def plan(quick: bool, *, warmup: int, reps: int, quick_reps: int) -> Plan:
    return Plan(warmup=1 if quick else warmup, reps=quick_reps if quick else reps)


def measure(
    plan: Plan,
    prepare: Callable[[int], Any],
    run: Callable[[Any], Any],
    check: Callable[[Any], None],
) -> list[float]:
    """Times ``run(prepare(i))`` in ms; ``prepare`` and ``check`` stay untimed."""
    for i in range(plan.warmup):
        check(run(prepare(-1 - i)))
    samples = []
    for i in range(plan.reps):
        arg = prepare(i)
        start = time.perf_counter()
        out = run(arg)
        samples.append((time.perf_counter() - start) * 1000.0)
        check(out)
    return samples


def timing(samples: list[float], key: str = "ms") -> dict[str, Any]:
    return {
        "metrics": {key: statistics.median(samples)},
        "info": {"samples_ms": [round(s, 3) for s in samples]},
    }


def new_thread(recursion_limit: int = 10_000) -> dict[str, Any]:
    return {"configurable": {"thread_id": uuid.uuid4().hex}, "recursion_limit": recursion_limit}


def expect(actual: Any, wanted: Any) -> None:
    assert actual == wanted, f"expected {wanted!r}, got {actual!r}"
