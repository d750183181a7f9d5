"""Accessors for code running inside a node: its config, store and stream writer."""

from __future__ import annotations

from typing import Any

from stategraph._context import current_task, require_task

__all__ = ["get_config", "get_store", "get_stream_writer"]


def get_config() -> dict[str, Any]:
    """The ``RunnableConfig`` of the running task."""
    context = current_task.get()
    if context is None:
        raise RuntimeError("Called get_config outside of a runnable context")
    return context.config


def get_store() -> Any:
    """The store the graph was compiled with (or inherited from its parent)."""
    return require_task("get_store").runtime.store


def get_stream_writer() -> Any:
    """A callable that emits a chunk on the ``custom`` stream (a no-op when not streamed)."""
    return require_task("get_stream_writer").runtime.stream_writer
