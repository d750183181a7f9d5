"""A long graph on SQLite, run in a child process that the crash test kills with SIGKILL.

Usage: python crash_worker.py DB LOG THREAD (start|resume) [SEED]
Every node appends its name to LOG (flushed to disk) when it starts, sleeps a little so kills
land mid-step, and appends its name to the state. Every fifth step runs three nodes at once.
"""

from __future__ import annotations

import operator
import os
import random
import sys
import time
from typing import Annotated, TypedDict

from stategraph.checkpoint.sqlite import SqliteSaver
from stategraph.graph import START, StateGraph


class State(TypedDict):
    x: Annotated[list, operator.add]


def node_names() -> list[list[str]]:
    """The graph's steps: each a list of the nodes that run in it."""
    steps = []
    for step in range(36):
        if step % 5 == 4:
            steps.append([f"s{step:02d}_{branch}" for branch in "abc"])
        else:
            steps.append([f"s{step:02d}"])
    return steps


def build(saver: SqliteSaver, log_path: str) -> object:
    def make(name: str):  # noqa: ANN202
        def run(state: State) -> dict[str, list[str]]:
            with open(log_path, "a") as log:
                log.write(name + "\n")
                log.flush()
                os.fsync(log.fileno())
            time.sleep(random.uniform(0.02, 0.06))
            return {"x": [name]}

        return run

    builder = StateGraph(State)
    previous = [START]
    for names in node_names():
        for name in names:
            builder.add_node(name, make(name))
        if len(previous) == 1:
            for name in names:
                builder.add_edge(previous[0], name)
        else:
            for name in names:
                builder.add_edge(previous, name)
        previous = names
    return builder.compile(checkpointer=saver)


def main() -> None:
    db, log_path, thread_id, mode = sys.argv[1:5]
    random.seed(int(sys.argv[5]) if len(sys.argv) > 5 else None)
    with SqliteSaver.from_conn_string(db) as saver:
        graph = build(saver, log_path)
        config = {"configurable": {"thread_id": thread_id}}
        graph.invoke({"x": []} if mode == "start" else None, config, durability="sync")  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
