"""Coalescing concurrent async store calls, at LangGraph's path ``langgraph.store.base.batch``."""

from stategraph.store._batched import AsyncBatchedBaseStore as AsyncBatchedBaseStore

__all__ = ["AsyncBatchedBaseStore"]
