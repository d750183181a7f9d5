"""The in-process store, at LangGraph's path ``langgraph.store.memory``."""

from stategraph.store._memory import InMemoryStore as InMemoryStore

__all__ = ["InMemoryStore"]
