"""The functional API: write a durable workflow as plain functions."""

from stategraph.func._entrypoint import entrypoint as entrypoint
from stategraph.func._task import task as task

__all__ = ["entrypoint", "task"]
