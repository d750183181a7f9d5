"""Side-by-side benchmark: the same workloads on stategraph and on langgraph, in one run.

    python bench/run.py [--only NAME[,NAME...]] [--quick] [--json out.json]
                        [--langgraph-only | --stategraph-only]

langgraph runs from its own virtual environment, ``bench/.venv-langgraph``, which
this script creates on first use (``python -m venv`` + pip) and reuses after.
stategraph runs on the current interpreter with the repository importable. Each
(workload, framework) pair runs in a fresh process (``bench/workloads.py``); the
table shows both medians, the ratio langgraph / stategraph, and the target.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
VENV = BENCH / ".venv-langgraph"
LANGGRAPH_PIN = "1.2.24"
LANGGRAPH_EXTRAS = ["langgraph-checkpoint-sqlite", "langgraph-checkpoint-postgres", "psycopg[binary]", "langchain-core"]
WORKER_TIMEOUT_S = 1200

FRAMEWORKS = ("langgraph", "stategraph")

VERSION_PROBE = """
import importlib.metadata as md, json, platform, sys
names = sys.argv[1:]
found = {}
for name in names:
    try:
        found[name] = md.version(name)
    except md.PackageNotFoundError:
        found[name] = None
found["python"] = platform.python_version()
print(json.dumps(found))
"""


@dataclass(frozen=True, slots=True)
class Target:
    """One row of the table: a metric of a workload and what stategraph must reach."""

    workload: str
    metric: str
    label: str
    kind: Literal["faster", "smaller", "at_most"]
    goal: float
    reference: str  # LangGraph's figure as first measured on the project's machine

    def describe(self) -> str:
        if self.kind == "faster":
            return f">={self.goal:g}x faster"
        if self.kind == "smaller":
            return f">={self.goal:g}x smaller"
        return f"sg <= {self.goal:g}"

    def passes(self, langgraph: float | None, stategraph: float) -> bool | None:
        if self.kind == "at_most":
            return stategraph <= self.goal
        if langgraph is None:
            return None
        return stategraph > 0 and langgraph / stategraph >= self.goal


TARGETS = [
    Target("chain_200", "ms", "ms/invoke", "faster", 10, "23 ms"),
    Target("chain_200_memory", "ms", "ms/invoke", "faster", 10, "45 ms"),
    Target("send_fanout_100", "ms", "ms/invoke", "faster", 5, "12 ms"),
    Target("wide_state_50", "ms", "ms/invoke", "faster", 5, "4.4 ms"),
    Target("import", "ms", "ms/import", "faster", 5, "380 ms"),
    Target("conversation_300", "bytes_per_turn_growth", "bytes/turn 291-300 / 1-10", "at_most", 1.5, "44x"),
    Target("conversation_300", "db_bytes", "db size at turn 300", "smaller", 50, "190 MB"),
    Target("conversation_300", "time_per_turn_growth", "ms/turn 291-300 / 1-10", "at_most", 1.5, "-"),
    Target("interrupt_roundtrip_200", "ms_per_thread", "ms/thread", "faster", 3, "3.1 ms"),
    Target("agent_50_tools", "ms", "ms/run", "faster", 3, "102 ms"),
    Target("pg_conversation_300", "bytes_per_turn_growth", "bytes/turn 291-300 / 1-10", "at_most", 1.5, "-"),
    Target("pg_conversation_300", "db_bytes", "db size at turn 300", "smaller", 50, "-"),
    Target("pg_conversation_300", "time_per_turn_growth", "ms/turn 291-300 / 1-10", "at_most", 1.5, "-"),
    Target("pg_interrupt_roundtrip_200", "ms_per_thread", "ms/thread", "faster", 3, "-"),
    Target("pg_agent_50_tools", "ms", "ms/run", "faster", 3, "-"),
]
WORKLOAD_NAMES = list(dict.fromkeys(t.workload for t in TARGETS))


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- the langgraph environment --------------------------------------------------------


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def venv_ready() -> bool:
    if not venv_python().exists():
        return False
    probe = (
        "import langgraph.graph, langgraph.checkpoint.sqlite, langgraph.checkpoint.postgres,"
        " langgraph.prebuilt, langchain_core"
    )
    done = subprocess.run([str(venv_python()), "-c", probe], capture_output=True, env=langgraph_env())
    return done.returncode == 0


def closest_langgraph_version() -> str:
    """The version PyPI serves that is closest to LANGGRAPH_PIN (the pin itself if served)."""
    done = subprocess.run(
        [str(venv_python()), "-m", "pip", "index", "versions", "langgraph"],
        capture_output=True,
        text=True,
    )
    served = []
    for line in done.stdout.splitlines():
        if line.startswith("Available versions:"):
            served = [v.strip() for v in line.split(":", 1)[1].split(",")]
    if not served or LANGGRAPH_PIN in served:
        return LANGGRAPH_PIN

    def key(version: str) -> tuple[int, ...]:
        return tuple(int(p) for p in version.split(".") if p.isdigit())

    pin = key(LANGGRAPH_PIN)
    older = [v for v in served if key(v) <= pin]
    return max(older, key=key) if older else min(served, key=key)


def ensure_venv() -> Path:
    if venv_ready():
        return venv_python()
    log(f"creating {VENV} (langgraph=={LANGGRAPH_PIN}); this happens once")
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    version = closest_langgraph_version()
    if version != LANGGRAPH_PIN:
        log(f"langgraph {LANGGRAPH_PIN} is not served; using the closest, {version}")
    subprocess.run(
        [str(venv_python()), "-m", "pip", "install", "-q", f"langgraph=={version}", *LANGGRAPH_EXTRAS],
        check=True,
        env=langgraph_env(),
    )
    if not venv_ready():
        raise SystemExit(f"{VENV} was created but cannot import langgraph; delete it and run again")
    return venv_python()


# --- running workers -----------------------------------------------------------------------


def langgraph_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env.pop("PYTHONHOME", None)
    return env


def stategraph_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    return env


def interpreter(framework: str, langgraph_python: Path | None) -> tuple[str, dict[str, str]]:
    if framework == "langgraph":
        assert langgraph_python is not None
        return str(langgraph_python), langgraph_env()
    return sys.executable, stategraph_env()


def versions(python: str, env: dict[str, str], names: list[str]) -> dict[str, Any]:
    done = subprocess.run(
        [python, "-c", VERSION_PROBE, *names], capture_output=True, text=True, env=env, check=True
    )
    return json.loads(done.stdout)


def stategraph_version() -> str:
    found = versions(sys.executable, stategraph_env(), ["stategraph"]).get("stategraph")
    if found:
        return found
    for line in (REPO / "pyproject.toml").read_text().splitlines():
        if line.startswith("version"):
            return line.split("=", 1)[1].strip().strip('"') + " (source tree)"
    return "unknown"


def stategraph_problem() -> str | None:
    """Why stategraph cannot run the workloads, or None if it can."""
    done = subprocess.run(
        [sys.executable, "-c", "from stategraph.graph import StateGraph"],
        capture_output=True,
        text=True,
        env=stategraph_env(),
    )
    if done.returncode == 0:
        return None
    lines = done.stderr.strip().splitlines()
    return lines[-1] if lines else f"exit code {done.returncode}"


def run_worker(framework: str, workload: str, quick: bool, langgraph_python: Path | None) -> dict[str, Any]:
    python, env = interpreter(framework, langgraph_python)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        command = [python, str(BENCH / "workloads.py"), "--prefix", framework, "--workload", workload, "--out", str(out)]
        if quick:
            command.append("--quick")
        start = time.perf_counter()
        try:
            done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp, timeout=WORKER_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return {"error": f"timed out after {WORKER_TIMEOUT_S} s"}
        elapsed = time.perf_counter() - start
        if done.returncode != 0 or not out.exists():
            return {"error": done.stderr.strip() or f"exit code {done.returncode}"}
        result = json.loads(out.read_text())
        result["wall_s"] = elapsed
        return result


def combine(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """One result from several rounds: each metric's median; the first round's details."""
    failed = [r for r in rounds if "error" in r]
    if failed:
        return failed[0]
    combined = dict(rounds[0])
    if len(rounds) > 1:
        combined["metrics"] = {
            name: statistics.median(r["metrics"][name] for r in rounds) for name in rounds[0]["metrics"]
        }
        combined["rounds"] = [r["metrics"] for r in rounds]
    return combined


# --- the report --------------------------------------------------------------------------------


def show(metric: str, value: float | None) -> str:
    if value is None:
        return "-"
    if metric == "db_bytes":
        return f"{value / 1e6:.2f} MB" if value >= 1e5 else f"{value / 1e3:.1f} kB"
    if metric.endswith("growth"):
        return f"{value:.2f}x"
    return f"{value:.3g} ms" if value >= 1 else f"{value * 1000:.3g} us"


def evaluate(target: Target, results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    per_framework = results.get(target.workload, {})
    values: dict[str, float | None] = {}
    for framework in FRAMEWORKS:
        result = per_framework.get(framework) or {}
        values[framework] = result.get("metrics", {}).get(target.metric)
    lg, sg = values["langgraph"], values["stategraph"]
    ratio = lg / sg if lg is not None and sg else None
    if sg is None:
        sg_result = per_framework.get("stategraph")
        verdict = "ERROR" if sg_result and "error" in sg_result else "n/a"
    else:
        passed = target.passes(lg, sg)
        verdict = "n/a" if passed is None else ("PASS" if passed else "FAIL")
    return {
        "workload": target.workload,
        "metric": target.metric,
        "label": target.label,
        "langgraph": lg,
        "stategraph": sg,
        "ratio_langgraph_over_stategraph": ratio,
        "target": target.describe(),
        "reference_langgraph": target.reference,
        "result": verdict,
    }


def table(rows: list[dict[str, Any]]) -> str:
    header = ["workload", "metric", "langgraph", "stategraph", "lg/sg", "target", "result"]
    cells = [
        [
            r["workload"],
            r["label"],
            show(r["metric"], r["langgraph"]),
            show(r["metric"], r["stategraph"]),
            "-" if r["ratio_langgraph_over_stategraph"] is None else f"{r['ratio_langgraph_over_stategraph']:.2f}x",
            r["target"],
            r["result"],
        ]
        for r in rows
    ]
    widths = [max(len(str(c)) for c in column) for column in zip(header, *cells)]
    lines = [" | ".join(h.ljust(w) for h, w in zip(header, widths))]
    lines.append("-+-".join("-" * w for w in widths))
    lines += [" | ".join(str(c).ljust(w) for c, w in zip(row, widths)) for row in cells]
    return "\n".join(lines)


def conversation_details(results: dict[str, dict[str, Any]]) -> list[str]:
    lines = []
    for framework, result in results.get("conversation_300", {}).items():
        info = (result or {}).get("info")
        if not info:
            continue
        lines.append(
            f"  {framework:<10} bytes/turn {info['bytes_per_turn_1_10']:,.0f} (turns 1-10) -> "
            f"{info['bytes_per_turn_291_300']:,.0f} (291-300); "
            f"ms/turn {info['ms_per_turn_1_10']:.2f} -> {info['ms_per_turn_291_300']:.2f}; "
            f"300 turns in {info['total_s']:.1f} s"
        )
    return lines


# --- main ----------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", default=[], metavar="NAME",
                        help=f"run only these workloads (repeat or comma-separate): {', '.join(WORKLOAD_NAMES)}")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, for a fast look")
    parser.add_argument("--json", metavar="PATH", help="also write every figure to this JSON file")
    parser.add_argument("--rounds", type=int, default=1, metavar="N",
                        help="run each workload N times, alternating frameworks, and take the median "
                             "(evens out the load of a shared machine)")
    side = parser.add_mutually_exclusive_group()
    side.add_argument("--langgraph-only", action="store_true", help="run the langgraph side only")
    side.add_argument("--stategraph-only", action="store_true", help="run the stategraph side only")
    args = parser.parse_args(argv)
    chosen = [name for item in args.only for name in item.split(",") if name]
    unknown = sorted(set(chosen) - set(WORKLOAD_NAMES))
    if unknown:
        parser.error(f"unknown workload(s) {', '.join(unknown)}; choose from {', '.join(WORKLOAD_NAMES)}")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    args.workloads = [name for name in WORKLOAD_NAMES if not chosen or name in chosen]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    frameworks = [f for f in FRAMEWORKS if not (args.langgraph_only and f == "stategraph")
                  and not (args.stategraph_only and f == "langgraph")]
    langgraph_python = ensure_venv() if "langgraph" in frameworks else None

    info: dict[str, Any] = {"python": sys.version.split()[0], "quick": args.quick}
    if langgraph_python:
        found = versions(str(langgraph_python), langgraph_env(),
                         ["langgraph", "langgraph-checkpoint", "langgraph-checkpoint-sqlite", "langgraph-checkpoint-postgres",
                          "langgraph-prebuilt", "langchain-core"])
        info["langgraph_python"] = found.pop("python")
        info["langgraph_packages"] = found
    problem = None
    if "stategraph" in frameworks:
        info["stategraph"] = stategraph_version()
        info["stategraph_langchain_core"] = versions(sys.executable, stategraph_env(), ["langchain-core"])["langchain-core"]
        problem = stategraph_problem()
        if problem:
            log(f"stategraph cannot run the workloads: {problem}")

    print(f"python {info['python']}" + (" (quick run)" if args.quick else ""))
    if langgraph_python:
        packages = ", ".join(f"{k} {v}" for k, v in info["langgraph_packages"].items())
        print(f"langgraph side (python {info['langgraph_python']}, {VENV.relative_to(REPO)}): {packages}")
    if "stategraph" in frameworks:
        print(f"stategraph side (python {info['python']}): stategraph {info['stategraph']}, "
              f"langchain-core {info['stategraph_langchain_core']}")
    sys.stdout.flush()

    results: dict[str, dict[str, Any]] = {}
    for workload in args.workloads:
        rounds: dict[str, list[dict[str, Any]]] = {f: [] for f in frameworks}
        for number in range(1, args.rounds + 1):
            for framework in frameworks:
                if framework == "stategraph" and problem:
                    rounds[framework] = [{"error": f"not importable: {problem}"}]
                    continue
                if any("error" in r for r in rounds[framework]):
                    continue
                suffix = f" (round {number}/{args.rounds})" if args.rounds > 1 else ""
                log(f"running {workload} on {framework}{suffix} ...")
                result = run_worker(framework, workload, args.quick, langgraph_python)
                rounds[framework].append(result)
                log(f"  {'ERROR' if 'error' in result else 'done'} in {result.get('wall_s', 0):.1f} s")
        results[workload] = {f: combine(r) for f, r in rounds.items()}

    rows = [evaluate(t, results) for t in TARGETS if t.workload in args.workloads]
    print()
    print(table(rows))
    details = conversation_details(results)
    if details:
        print("\nconversation_300:")
        print("\n".join(details))
    errors = [(w, f, r["error"]) for w, by in results.items() for f, r in by.items() if "error" in r]
    for workload, framework, error in errors:
        print(f"\n{workload} failed on {framework}:\n{error}")

    if args.json:
        Path(args.json).write_text(json.dumps({"info": info, "rows": rows, "results": results}, indent=2))
        print(f"\nwrote {args.json}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
