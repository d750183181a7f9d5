"""Crash safety for real: SIGKILL a process mid-run, resume in a new process, compare.

After every kill, what the database holds as done (the latest checkpoint plus its saved
pending writes) must never run again, and every thread must end in the same state as an
uninterrupted run.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from stategraph.checkpoint.sqlite import SqliteSaver

WORKER = Path(__file__).with_name("crash_worker.py")
sys.path.insert(0, str(WORKER.parent))
from crash_worker import build, node_names  # noqa: E402

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")


def run_worker(db: Path, log: Path, thread: str, mode: str, kill_after: float | None, seed: int) -> bool:
    """Run the worker; kill it after ``kill_after`` seconds. True if it finished by itself."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path.cwd()), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen(
        [sys.executable, str(WORKER), str(db), str(log), thread, mode, str(seed)],
        env=env,
        stderr=subprocess.PIPE,
    )
    if kill_after is None:
        _, stderr = process.communicate(timeout=60)
        assert process.returncode == 0, stderr.decode()
        return True
    try:
        process.wait(timeout=kill_after)
        _, stderr = process.communicate()
        assert process.returncode == 0, stderr.decode()
        return True
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait()
        return False


def durable_done(db: Path, log: Path, thread: str) -> set[str]:
    """The nodes whose writes the database holds for ``thread`` (checkpoint + pending writes)."""
    with SqliteSaver.from_conn_string(str(db)) as saver:
        graph = build(saver, str(log))
        state = graph.get_state({"configurable": {"thread_id": thread}})  # type: ignore[attr-defined]
        return set(state.values.get("x", [])) if state.values else set()


def expected_order() -> list[str]:
    return [name for names in node_names() for name in sorted(names)]


def test_sigkill_at_random_points_then_resume_reaches_the_uninterrupted_result(tmp_path: Path) -> None:
    rng = random.Random(1234)
    db = tmp_path / "crash.sqlite"
    total_kills = 0
    for thread_number in range(3):
        thread = f"thread-{thread_number}"
        log = tmp_path / f"{thread}.log"
        mode = "start"
        kills = 0
        finished = False
        while not finished:
            kill_after = rng.uniform(0.3, 1.3) if kills < 3 else None
            done_before = durable_done(db, log, thread) if mode == "resume" else set()
            lines_before = log.read_text().splitlines() if log.exists() else []
            finished = run_worker(db, log, thread, mode, kill_after, rng.randrange(1 << 30))
            ran_now = log.read_text().splitlines()[len(lines_before):]
            rerun = done_before & set(ran_now)
            assert not rerun, f"{thread}: nodes completed before the kill ran again: {sorted(rerun)}"
            if not finished:
                kills += 1
                # A kill before the first checkpoint leaves nothing to resume: start again.
                with SqliteSaver.from_conn_string(str(db)) as saver:
                    has_checkpoint = saver.get_tuple({"configurable": {"thread_id": thread}}) is not None
                mode = "resume" if has_checkpoint else "start"
        total_kills += kills
        with SqliteSaver.from_conn_string(str(db)) as saver:
            graph = build(saver, str(log))
            final = graph.get_state({"configurable": {"thread_id": thread}})  # type: ignore[attr-defined]
        assert final.next == ()
        assert final.values["x"] == expected_order()
    assert total_kills >= 3, "the test must actually kill workers mid-run"
