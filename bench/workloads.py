"""Benchmark workloads, written once against the LangGraph API.

Every workload imports the framework under test through ``Api`` with a prefix
chosen at run time (``"langgraph"`` or ``"stategraph"``), so both frameworks run
the very same program. Graphs are built outside the timed region, and every
result is checked (outside the timed region too) against the state it must have.

Run by ``bench/run.py`` in a fresh process per (workload, framework):

    python bench/workloads.py --prefix stategraph --workload chain_200 --out result.json [--quick]

The result file holds ``{"metrics": {name: number}, "info": {...}}``.
"""

import argparse
import json
import operator
import random
import statistics
import string
import subprocess
import sys
import time
from functools import partial
from typing import Annotated, Any, Callable, TypedDict

from backends import open_backend
from harness import Api, expect, measure, new_thread, plan, timing


# --- chain_200 / chain_200_memory ------------------------------------------------


class Counter(TypedDict):
    n: int


def increment(state: Counter) -> dict[str, int]:
    return {"n": state["n"] + 1}


def build_chain(api: Api, length: int, checkpointer: Any = None) -> Any:
    builder = api.graph.StateGraph(Counter)
    previous = api.graph.START
    for i in range(length):
        builder.add_node(f"n{i}", increment)
        builder.add_edge(previous, f"n{i}")
        previous = f"n{i}"
    builder.add_edge(previous, api.graph.END)
    return builder.compile(checkpointer=checkpointer)


def chain_200(api: Api, quick: bool) -> dict[str, Any]:
    graph = build_chain(api, 200)
    return timing(
        measure(
            plan(quick, warmup=5, reps=100, quick_reps=10),
            lambda i: {"recursion_limit": 10_000},
            lambda config: graph.invoke({"n": 0}, config),
            lambda out: expect(out, {"n": 200}),
        )
    )


def chain_200_memory(api: Api, quick: bool) -> dict[str, Any]:
    graph = build_chain(api, 200, checkpointer=api.in_memory_saver())
    return timing(
        measure(
            plan(quick, warmup=5, reps=60, quick_reps=8),
            lambda i: new_thread(),
            lambda config: graph.invoke({"n": 0}, config),
            lambda out: expect(out, {"n": 200}),
        )
    )


# --- send_fanout_100 ----------------------------------------------------------------

FANOUT = 100


class Fan(TypedDict):
    items: Annotated[list, operator.add]
    joins: Annotated[int, operator.add]
    joined: int


def worker(task: dict[str, int]) -> dict[str, list[int]]:
    return {"items": [task["i"]]}


def join(state: Fan) -> dict[str, int]:
    return {"joins": 1, "joined": len(state["items"])}


def check_fanout(out: dict[str, Any]) -> None:
    expect(sorted(out["items"]), list(range(FANOUT)))
    expect(out["joined"], FANOUT)
    expect(out["joins"], 1)  # all workers run in one step, so join runs once


def send_fanout_100(api: Api, quick: bool) -> dict[str, Any]:
    send = api.types.Send

    def fan_out(state: Fan) -> list[Any]:
        return [send("worker", {"i": i}) for i in range(FANOUT)]

    builder = api.graph.StateGraph(Fan)
    builder.add_node("worker", worker)
    builder.add_node("join", join)
    builder.add_conditional_edges(api.graph.START, fan_out, ["worker"])
    builder.add_edge("worker", "join")
    builder.add_edge("join", api.graph.END)
    graph = builder.compile()
    return timing(
        measure(
            plan(quick, warmup=5, reps=100, quick_reps=10),
            lambda i: None,
            lambda _: graph.invoke({"items": [], "joins": 0, "joined": 0}),
            check_fanout,
        )
    )


# --- wide_state_50 ----------------------------------------------------------------
# Ten kinds of key, by index % 10: ints, strings, lists, dicts, some with reducers.

WIDE_KEYS = 50
WIDE_NODES = 10
WIDE_WRITES = 10


def merge_dicts(left: dict, right: dict) -> dict:
    return {**left, **right}


WIDE_KINDS: list[tuple[Any, Callable[[int, int], Any], Any]] = [
    # (annotation, value node j writes to key k, initial value)
    (Annotated[int, operator.add], lambda j, k: j + 1, 0),
    (int, lambda j, k: j * 100 + k, 0),
    (str, lambda j, k: f"node{j}-key{k}", ""),
    (str, lambda j, k: "x" * (j + k), ""),
    (Annotated[list, operator.add], lambda j, k: [j], []),
    (list, lambda j, k: [j, k], []),
    (Annotated[dict, merge_dicts], lambda j, k: {f"n{j}": k}, {}),
    (dict, lambda j, k: {"node": j, "key": k}, {}),
    (float, lambda j, k: j / 4 + k, 0.0),
    (Annotated[str, operator.add], lambda j, k: str(j), ""),
]


def wide_key(k: int) -> str:
    return f"k{k:02d}"


Wide = TypedDict("Wide", {wide_key(k): WIDE_KINDS[k % 10][0] for k in range(WIDE_KEYS)})  # type: ignore[misc]


def wide_writes(j: int) -> dict[str, Any]:
    keys = [(j * 5 + m) % WIDE_KEYS for m in range(WIDE_WRITES)]
    return {wide_key(k): WIDE_KINDS[k % 10][1](j, k) for k in keys}


def wide_expected() -> dict[str, Any]:
    state = {wide_key(k): WIDE_KINDS[k % 10][2] for k in range(WIDE_KEYS)}
    for j in range(WIDE_NODES):
        for key, value in wide_writes(j).items():
            annotation = WIDE_KINDS[int(key[1:]) % 10][0]
            reducer = getattr(annotation, "__metadata__", (None,))[0]
            state[key] = reducer(state[key], value) if reducer else value
    return state


def wide_node(j: int) -> Callable[[Any], dict[str, Any]]:
    writes = wide_writes(j)

    def node(state: Wide) -> dict[str, Any]:
        return dict(writes)

    return node


def wide_state_50(api: Api, quick: bool) -> dict[str, Any]:
    builder = api.graph.StateGraph(Wide)
    previous = api.graph.START
    for j in range(WIDE_NODES):
        builder.add_node(f"w{j}", wide_node(j))
        builder.add_edge(previous, f"w{j}")
        previous = f"w{j}"
    builder.add_edge(previous, api.graph.END)
    graph = builder.compile(checkpointer=api.in_memory_saver())
    initial = {wide_key(k): WIDE_KINDS[k % 10][2] for k in range(WIDE_KEYS)}
    wanted = wide_expected()
    return timing(
        measure(
            plan(quick, warmup=10, reps=300, quick_reps=30),
            lambda i: new_thread(),
            lambda config: graph.invoke(initial, config),
            lambda out: expect(out, wanted),
        )
    )


# --- import -----------------------------------------------------------------------

IMPORT_PROBE = (
    "import time; t = time.perf_counter(); import {prefix}.graph; "
    "print((time.perf_counter() - t) * 1000.0)"
)


def import_time(api: Api, quick: bool) -> dict[str, Any]:
    code = IMPORT_PROBE.format(prefix=api.prefix)

    def fresh_import(_: Any) -> float:
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        return float(done.stdout.strip().splitlines()[-1])

    p = plan(quick, warmup=1, reps=10, quick_reps=5)
    for _ in range(p.warmup):
        fresh_import(None)
    samples = [fresh_import(None) for _ in range(p.reps)]
    return timing(samples)


# --- conversation_300 ---------------------------------------------------------------

TURNS = 300
TEXT_CHARS = 500


def pseudo_random_texts(count: int, seed: int = 300) -> list[str]:
    rng = random.Random(seed)
    alphabet = string.ascii_letters + string.digits + "     .,"
    return ["".join(rng.choices(alphabet, k=TEXT_CHARS)) for _ in range(count)]


def conversation_300(api: Api, quick: bool, backend_name: str = "sqlite") -> dict[str, Any]:
    from langchain_core.messages import AIMessage, HumanMessage

    texts = pseudo_random_texts(2 * TURNS)
    state = TypedDict("Conversation", {"messages": Annotated[list, api.graph.add_messages]})  # type: ignore[misc]

    def reply(s: Any) -> dict[str, Any]:
        return {"messages": [AIMessage(content=texts[len(s["messages"])])]}

    builder = api.graph.StateGraph(state)
    builder.add_node("reply", reply)
    builder.add_edge(api.graph.START, "reply")
    builder.add_edge("reply", api.graph.END)
    with open_backend(backend_name) as backend:
        # Warm up (lazy imports, first-call caches) on a throwaway store.
        with backend.saver(api, "warmup") as warm_saver:
            warm_graph, warm_config = builder.compile(checkpointer=warm_saver), new_thread()
            for turn in range(3):
                warm_graph.invoke({"messages": [HumanMessage(content=texts[turn])]}, warm_config)

        with backend.saver(api, "conversation") as saver:
            graph = builder.compile(checkpointer=saver)
            config = new_thread()
            sizes = {0: backend.used_bytes("conversation", final=False)}
            turn_ms = []
            for turn in range(1, TURNS + 1):
                message = HumanMessage(content=texts[2 * turn - 2])
                start = time.perf_counter()
                out = graph.invoke({"messages": [message]}, config)
                turn_ms.append((time.perf_counter() - start) * 1000.0)
                expect(len(out["messages"]), 2 * turn)
                if turn in (10, TURNS - 10, TURNS):
                    sizes[turn] = backend.used_bytes("conversation", final=turn == TURNS)
            final = graph.get_state(config).values["messages"]
            expect([m.content for m in final], texts)
            expect([m.type for m in final], ["human", "ai"] * TURNS)

    early_bytes = (sizes[10] - sizes[0]) / 10
    late_bytes = (sizes[TURNS] - sizes[TURNS - 10]) / 10
    early_ms = statistics.median(turn_ms[:10])
    late_ms = statistics.median(turn_ms[-10:])
    return {
        "metrics": {
            "bytes_per_turn_growth": late_bytes / early_bytes,
            "db_bytes": sizes[TURNS],
            "time_per_turn_growth": late_ms / early_ms,
        },
        "info": {
            "bytes_per_turn_1_10": early_bytes,
            "bytes_per_turn_291_300": late_bytes,
            "ms_per_turn_1_10": early_ms,
            "ms_per_turn_291_300": late_ms,
            "total_s": sum(turn_ms) / 1000.0,
            "sizes": {str(k): v for k, v in sizes.items()},
        },
    }


# --- interrupt_roundtrip_200 ----------------------------------------------------------

THREADS = 200


class Question(TypedDict):
    answer: str


def interrupt_roundtrip_200(api: Api, quick: bool, backend_name: str = "sqlite") -> dict[str, Any]:
    ask_user = api.types.interrupt
    resume = api.types.Command(resume="a")

    def ask(state: Question) -> dict[str, Any]:
        return {"answer": ask_user("q")}

    builder = api.graph.StateGraph(Question)
    builder.add_node("ask", ask)
    builder.add_edge(api.graph.START, "ask")
    builder.add_edge("ask", api.graph.END)

    def round_trips(configs: list[dict[str, Any]]) -> list[tuple[Any, Any]]:
        return [(graph.invoke({"answer": ""}, c), graph.invoke(resume, c)) for c in configs]

    def check(results: list[tuple[Any, Any]]) -> None:
        for stopped, finished in results:
            expect([i.value for i in stopped["__interrupt__"]], ["q"])
            expect(finished, {"answer": "a"})

    with open_backend(backend_name) as backend, backend.saver(api, "interrupts") as saver:
        graph = builder.compile(checkpointer=saver)
        samples = measure(
            plan(quick, warmup=1, reps=7, quick_reps=2),
            lambda i: [new_thread() for _ in range(THREADS)],
            round_trips,
            check,
        )
    return timing([s / THREADS for s in samples], "ms_per_thread")


# --- agent_50_tools -------------------------------------------------------------------

TOOL_TURNS = 50


def agent_50_tools(api: Api, quick: bool, backend_name: str = "sqlite") -> dict[str, Any]:
    from langchain_core.messages import HumanMessage, ToolMessage

    from scripted_model import FINAL_ANSWER, ScriptedToolCaller, echo

    model = ScriptedToolCaller(tool_turns=TOOL_TURNS).bind_tools([echo])

    def agent(state: Any) -> dict[str, Any]:
        return {"messages": [model.invoke(state["messages"])]}

    builder = api.graph.StateGraph(api.graph.MessagesState)
    builder.add_node("agent", agent)
    builder.add_node("tools", api.prebuilt.ToolNode([echo]))
    builder.add_edge(api.graph.START, "agent")
    builder.add_conditional_edges("agent", api.prebuilt.tools_condition)
    builder.add_edge("tools", "agent")

    def check(out: dict[str, Any]) -> None:
        messages = out["messages"]
        expect(len(messages), 2 + 2 * TOOL_TURNS)
        expect(messages[-1].content, FINAL_ANSWER)
        tool_results = [m.content for m in messages if isinstance(m, ToolMessage)]
        expect(tool_results, [str(i) for i in range(TOOL_TURNS)])

    with open_backend(backend_name) as backend, backend.saver(api, "agent") as saver:
        graph = builder.compile(checkpointer=saver)
        samples = measure(
            plan(quick, warmup=2, reps=20, quick_reps=4),
            lambda i: new_thread(),
            lambda config: graph.invoke({"messages": [HumanMessage(content="go")]}, config),
            check,
        )
    return timing(samples)


WORKLOADS: dict[str, Callable[[Api, bool], dict[str, Any]]] = {
    "chain_200": chain_200,
    "chain_200_memory": chain_200_memory,
    "send_fanout_100": send_fanout_100,
    "wide_state_50": wide_state_50,
    "import": import_time,
    "conversation_300": conversation_300,
    "interrupt_roundtrip_200": interrupt_roundtrip_200,
    "agent_50_tools": agent_50_tools,
    # The durable workloads again, on PostgreSQL (each run in a database of its own).
    "pg_conversation_300": partial(conversation_300, backend_name="postgres"),
    "pg_interrupt_roundtrip_200": partial(interrupt_roundtrip_200, backend_name="postgres"),
    "pg_agent_50_tools": partial(agent_50_tools, backend_name="postgres"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description="Run one benchmark workload in this process.")
    parser.add_argument("--prefix", required=True, choices=["langgraph", "stategraph"])
    parser.add_argument("--workload", required=True, choices=sorted(WORKLOADS))
    parser.add_argument("--out", required=True, help="where to write the result as JSON")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    result = WORKLOADS[args.workload](Api(args.prefix), args.quick)
    with open(args.out, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
