"""Build graphs: ``StateGraph``, ``START``, ``END`` (and messages helpers when installed)."""

from typing import Any

from stategraph._constants import END as END
from stategraph._constants import START as START
from stategraph.graph.state import CompiledStateGraph as CompiledStateGraph
from stategraph.graph.state import StateGraph as StateGraph

__all__ = ["END", "START", "CompiledStateGraph", "MessagesState", "StateGraph", "add_messages"]


def __getattr__(name: str) -> Any:
    # The message helpers need langchain-core; import them only when asked for.
    if name in ("add_messages", "MessagesState", "MessageGraph"):
        from stategraph.graph import message

        return getattr(message, name)
    raise AttributeError(f"module 'stategraph.graph' has no attribute {name!r}")
