"""Time-ordered version-6 UUIDs, the checkpoint ids, at LangGraph's import path."""

from stategraph.checkpoint._ids import uuid6 as uuid6

__all__ = ["uuid6"]
