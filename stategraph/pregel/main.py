"""``Pregel`` and ``NodeBuilder`` under LangGraph's module path (``langgraph.pregel.main``)."""

from stategraph.pregel._builder import NodeBuilder as NodeBuilder
from stategraph.pregel._graph import Pregel as Pregel

__all__ = ["NodeBuilder", "Pregel"]
