"""examples/approval_workflow.py, run as a program: quit at the approval, restart, decide."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "approval_workflow.py"
FIRST_STEPS = ("validate_request", "look_up_order", "compute_refund", "draft_reply")


def run_example(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    return subprocess.run(
        [sys.executable, str(EXAMPLE), *args],
        check=False,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=str(REPO),
    )


def tasks_that_ran(output: str) -> list[str]:
    return [line.split("ran task ", 1)[1].strip() for line in output.splitlines() if "ran task " in line]


def test_a_pending_approval_survives_a_restart_and_finished_tasks_do_not_run_again(tmp_path: Path) -> None:
    db = str(tmp_path / "refunds.sqlite")

    first = run_example("--db", db, "--thread", "r1", stdin="q\n")
    assert first.returncode == 0, first.stderr
    assert tasks_that_ran(first.stdout) == list(FIRST_STEPS)
    assert "Approval needed:" in first.stdout
    assert "proposed refund: 120.00 (full refund: the item was damaged)" in first.stdout
    assert "still pending: run again with --thread r1" in first.stdout

    second = run_example("--db", db, "--thread", "r1", stdin="y\n")
    assert second.returncode == 0, second.stderr
    out = second.stdout
    assert "Resuming thread 'r1': an approval is pending" in out
    assert out.index("Approval needed:") < out.index("Decision: approve.")
    assert tasks_that_ran(out) == ["issue_refund"]
    assert "Done: refunded 120.00 (confirmation RF-A-1001-12000)." in out


def test_quitting_by_end_of_input_also_leaves_the_approval_pending(tmp_path: Path) -> None:
    db = str(tmp_path / "refunds.sqlite")

    run_example("--db", db, "--thread", "r1")
    again = run_example("--db", db, "--thread", "r1")

    assert "Resuming thread 'r1'" in again.stdout
    assert tasks_that_ran(again.stdout) == []
    assert "still pending" in again.stdout


def test_approve_no_rejects_the_pending_refund_without_a_prompt(tmp_path: Path) -> None:
    db = str(tmp_path / "refunds.sqlite")
    run_example("--db", db, "--thread", "r2", "--order", "B-2002", "--amount", "40", "--reason", "changed my mind")

    decided = run_example("--db", db, "--thread", "r2", "--approve", "no", "--note", "outside the return window")

    assert decided.returncode == 0, decided.stderr
    assert "Approve?" not in decided.stdout
    assert tasks_that_ran(decided.stdout) == ["send_rejection"]
    assert "Refund for order B-2002 declined: outside the return window" in decided.stdout


def test_an_edited_amount_is_drafted_again_and_refunded(tmp_path: Path) -> None:
    db = str(tmp_path / "refunds.sqlite")
    first = run_example("--db", db, "--thread", "r3", "--order", "B-2002", "--reason", "changed my mind", stdin="q\n")
    assert "proposed refund: 40.80 (15% restocking fee)" in first.stdout

    edited = run_example("--db", db, "--thread", "r3", stdin="e\n30\n")

    assert tasks_that_ran(edited.stdout) == ["draft_reply", "issue_refund"]
    assert "Done: refunded 30.00 (confirmation RF-B-2002-3000)." in edited.stdout


def test_a_finished_thread_shows_its_result_and_runs_nothing(tmp_path: Path) -> None:
    db = str(tmp_path / "refunds.sqlite")
    run_example("--db", db, "--thread", "r4", "--approve", "yes")

    again = run_example("--db", db, "--thread", "r4", "--approve", "yes")

    assert "Thread 'r4' is finished" in again.stdout
    assert tasks_that_ran(again.stdout) == []
    assert "Done: refunded 120.00" in again.stdout


def test_an_invalid_request_is_refused_with_the_reason(tmp_path: Path) -> None:
    result = run_example("--db", str(tmp_path / "refunds.sqlite"), "--amount", "500")

    assert result.returncode == 1
    assert "The request was refused: 500.00 is more than order A-1001 cost (120.00)." in result.stdout
    assert tasks_that_ran(result.stdout) == ["validate_request"]
