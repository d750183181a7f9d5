"""Reserved names, public and internal. They appear in checkpoints, streams and errors, so they
match LangGraph's. ``stategraph.constants`` serves the public four; the rest, as in LangGraph,
only with a deprecation warning there."""

from __future__ import annotations

import sys

START = sys.intern("__start__")
END = sys.intern("__end__")
TAG_NOSTREAM = sys.intern("nostream")
TAG_HIDDEN = sys.intern("langsmith:hidden")

# Internal channel and write names.
TASKS = sys.intern("__pregel_tasks")
INTERRUPT = sys.intern("__interrupt__")
RESUME = sys.intern("__resume__")
ERROR = sys.intern("__error__")
# Marks a failed task whose error went to its node's error handler (value: the node name).
ERROR_SOURCE_NODE = sys.intern("__error_source_node__")
NO_WRITES = sys.intern("__no_writes__")
RETURN = sys.intern("__return__")
PREVIOUS = sys.intern("__previous__")
INPUT = sys.intern("__input__")
COPY = sys.intern("__copy__")
ROOT = sys.intern("__root__")
PUSH = sys.intern("__pregel_push")
PULL = sys.intern("__pregel_pull")
SCHEDULED = sys.intern("__scheduled__")
NS_SEP = sys.intern("|")
NS_END = sys.intern(":")
NULL_TASK_ID = "00000000-0000-0000-0000-000000000000"
# configurable key: refuse a resume that matches no pending interrupt (LangGraph's strict mode)
CONFIG_KEY_STRICT_RESUME = sys.intern("__pregel_strict_resume")
# Called with a node's name each time one of its tasks finishes (LangGraph's server hook; it
# reaches subgraph runs too).
CONFIG_KEY_NODE_FINISHED = sys.intern("__pregel_node_finished")

# Writes that are bookkeeping, never applied to channels.
RESERVED_WRITES = frozenset({NO_WRITES, PUSH, RESUME, INTERRUPT, RETURN, ERROR, ERROR_SOURCE_NODE})
