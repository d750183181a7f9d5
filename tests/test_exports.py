"""LangGraph's import surface (api_spec.md §0), one row per name, for the modules stategraph has.

A program ported by replacing the prefix ``langgraph`` with ``stategraph`` imports these names.
"""

import importlib

import pytest

SURFACE: dict[str, tuple[str, ...]] = {
    "graph": ("StateGraph", "START", "END", "add_messages", "MessagesState", "MessageGraph"),
    "graph.state": ("StateGraph", "CompiledStateGraph"),
    "constants": ("START", "END", "TAG_NOSTREAM", "TAG_HIDDEN"),
    "types": (
        "Send",
        "Command",
        "interrupt",
        "Interrupt",
        "RetryPolicy",
        "CachePolicy",
        "TimeoutPolicy",
        "TracePolicy",
        "omit_payload",
        "StateSnapshot",
        "PregelTask",
        "StateUpdate",
        "StreamMode",
        "StreamWriter",
        "Durability",
        "All",
        "Checkpointer",
        "Overwrite",
        "GraphOutput",
        "StreamPart",
        "ValuesStreamPart",
        "UpdatesStreamPart",
        "MessagesStreamPart",
        "CustomStreamPart",
        "CheckpointStreamPart",
        "TasksStreamPart",
        "DebugStreamPart",
    ),
    "errors": (
        "GraphRecursionError",
        "InvalidUpdateError",
        "GraphInterrupt",
        "NodeInterrupt",
        "ParentCommand",
        "EmptyInputError",
        "TaskNotFound",
        "GraphBubbleUp",
        "GraphDrained",
        "NodeError",
        "NodeTimeoutError",
        "NodeCancelledError",
        "EmptyChannelError",
        "ErrorCode",
        "is_invalid_resume",
    ),
    "config": ("get_config", "get_store", "get_stream_writer"),
    "runtime": ("Runtime", "get_runtime", "ExecutionInfo", "ServerInfo", "RunControl"),
    "channels": (
        "BaseChannel",
        "LastValue",
        "LastValueAfterFinish",
        "AnyValue",
        "EphemeralValue",
        "UntrackedValue",
        "BinaryOperatorAggregate",
        "Topic",
        "NamedBarrierValue",
        "NamedBarrierValueAfterFinish",
        "DeltaChannel",
    ),
    "managed": ("IsLastStep", "RemainingSteps"),
    "pregel": ("Pregel", "NodeBuilder"),
    "pregel.main": ("Pregel", "NodeBuilder"),
    "checkpoint.postgres": ("PostgresSaver", "ShallowPostgresSaver", "Conn"),
    "checkpoint.postgres.aio": ("AsyncPostgresSaver",),
    "checkpoint.postgres.shallow": ("ShallowPostgresSaver", "AsyncShallowPostgresSaver"),
    "checkpoint.postgres.base": ("BasePostgresSaver",),
    "store.postgres": ("PostgresStore", "AsyncPostgresStore"),
    "store.postgres.aio": ("AsyncPostgresStore",),
    "store.base.batch": ("AsyncBatchedBaseStore",),
    "cache.redis": ("RedisCache",),
    "typing": ("StateT", "InputT", "OutputT", "ContextT", "NodeInputT"),
    "warnings": ("LangGraphDeprecatedSinceV10",),
    "pregel.protocol": ("PregelProtocol",),
    "callbacks": (
        "GraphCallbackHandler",
        "GraphInterruptEvent",
        "GraphResumeEvent",
        "GraphLifecycleEvent",
        "GraphLifecycleStatus",
    ),
}

LANGGRAPH_SURFACE = [
    pytest.param(f"stategraph.{module}", name, id=f"{module}.{name}")
    for module, names in SURFACE.items()
    for name in names
]


@pytest.mark.parametrize(("module", "name"), LANGGRAPH_SURFACE)
def test_name_importable_from_its_langgraph_path(module: str, name: str) -> None:
    assert hasattr(importlib.import_module(module), name)


def test_constants_have_langgraphs_values() -> None:
    from stategraph.constants import END, START, TAG_HIDDEN, TAG_NOSTREAM

    assert (START, END, TAG_NOSTREAM, TAG_HIDDEN) == ("__start__", "__end__", "nostream", "langsmith:hidden")


def test_command_parent_is_langgraphs_marker() -> None:
    from stategraph.types import Command

    assert Command.PARENT == "__parent__"


@pytest.mark.parametrize(
    ("name", "base"),
    [
        ("GraphRecursionError", RecursionError),
        ("GraphInterrupt", Exception),
        ("ParentCommand", Exception),
        ("InvalidUpdateError", Exception),
        ("EmptyInputError", Exception),
    ],
)
def test_errors_keep_langgraphs_builtin_bases(name: str, base: type) -> None:
    errors = importlib.import_module("stategraph.errors")
    assert issubclass(getattr(errors, name), base)


def test_control_flow_signals_derive_from_graph_bubble_up() -> None:
    from stategraph.errors import GraphBubbleUp, GraphInterrupt, NodeInterrupt, ParentCommand

    for signal in (GraphInterrupt, NodeInterrupt, ParentCommand):
        assert issubclass(signal, GraphBubbleUp)


def test_retry_policy_defaults_are_langgraphs() -> None:
    from stategraph.types import RetryPolicy

    policy = RetryPolicy()
    assert (
        policy.initial_interval,
        policy.backoff_factor,
        policy.max_interval,
        policy.max_attempts,
        policy.jitter,
    ) == (0.5, 2.0, 128.0, 3, True)
