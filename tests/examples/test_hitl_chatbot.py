"""examples/hitl_chatbot.py, driven through stdin like a person at a terminal."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from langchain_core.messages import HumanMessage, ToolMessage

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "hitl_chatbot.py"


def run_example(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    return subprocess.run(
        [sys.executable, str(EXAMPLE), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=str(REPO),
    )


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("hitl_chatbot_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_pending_question_survives_a_restart_of_the_program(tmp_path: Path) -> None:
    db = str(tmp_path / "chat.sqlite")
    first = run_example("--db", db, "--thread", "t1", stdin="Can a human expert review my agent design?\nquit\n")
    assert first.returncode == 0, first.stderr
    assert "The assistant asks for human assistance:" in first.stdout
    assert "Can a human expert review my agent design?" in first.stdout
    assert "still pending: run again with --thread t1" in first.stdout

    second = run_example("--db", db, "--thread", "t1", stdin="Looks solid, ship it.\nquit\n")
    assert second.returncode == 0, second.stderr
    out = second.stdout
    assert "Resuming thread 't1'" in out
    assert out.index("Can a human expert review my agent design?") < out.index("[human_assistance result] Looks solid, ship it.")
    assert "Their answer: Looks solid, ship it." in out


def test_other_threads_are_separate(tmp_path: Path) -> None:
    db = str(tmp_path / "chat.sqlite")
    run_example("--db", db, "--thread", "a", stdin="I need expert help\nquit\n")
    other = run_example("--db", db, "--thread", "b", stdin="hello\nquit\n")
    assert "asks for human assistance" not in other.stdout
    assert "Assistant: Hello!" in other.stdout


def test_end_of_input_leaves_the_question_pending(tmp_path: Path) -> None:
    db = str(tmp_path / "chat.sqlite")
    run_example("--db", db, stdin="Please get a human for me\n")
    resumed = run_example("--db", db, stdin="")
    assert "Please get a human for me" in resumed.stdout
    assert "still pending" in resumed.stdout


def test_questions_are_searched_offline(tmp_path: Path) -> None:
    result = run_example("--db", str(tmp_path / "c.sqlite"), stdin="What is LangGraph?\nquit\n")
    assert 'Assistant -> search({"query": "What is LangGraph?"})' in result.stdout
    assert "Here is what I found: LangGraph is a library" in result.stdout


def test_demo_plays_the_tutorial_without_input() -> None:
    result = run_example("--demo")
    assert result.returncode == 0, result.stderr
    assert "The assistant asks for human assistance:" in result.stdout
    assert "[human_assistance result] We, the experts are here to help!" in result.stdout
    assert "Here is what I found:" in result.stdout


def test_model_option_without_langchain_explains_what_to_install(tmp_path: Path) -> None:
    if importlib.util.find_spec("langchain") is not None:
        pytest.skip("langchain is installed here")
    result = run_example("--model", "openai:gpt-4.1", "--db", str(tmp_path / "c.sqlite"))
    assert result.returncode != 0
    assert "pip install langchain" in result.stderr


def test_scripted_policy_calls_human_assistance_for_help_requests() -> None:
    example = load_example()
    reply = example.scripted_reply([HumanMessage("Could an expert give me guidance?")])
    assert reply["name"] == "human_assistance"
    assert example.scripted_reply([HumanMessage("hello")]).startswith("Hello!")
    answer = example.scripted_reply([ToolMessage("Use SQLite.", tool_call_id="c", name="human_assistance")])
    assert answer.endswith("Their answer: Use SQLite.")
