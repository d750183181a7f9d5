"""``stream_mode="messages"``: chat-model tokens and node-output messages, as they happen.

A langchain-core callback handler the engine adds to each task's ``config["callbacks"]`` when
the messages mode is asked for. Chat models report tokens to it; the engine reports each task's
start (input messages count as already seen) and end (new messages in the output are emitted).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import fields, is_dataclass
from typing import (
    Any,
    TypeVar,
)
from uuid import UUID, uuid4

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, LLMResult

from stategraph._constants import NS_SEP, PUSH, TAG_NOSTREAM
from stategraph.types import Command

try:  # marks the handler as streaming, so chat models stream tokens even from invoke()
    from langchain_core.tracers._streaming import _StreamingCallbackHandler
except ImportError:  # pragma: no cover - very old langchain-core
    _StreamingCallbackHandler = object  # type: ignore[assignment,misc]

__all__ = ["StreamMessagesHandler", "graph_namespace"]

T = TypeVar("T")
Namespace = tuple[str, ...]
MessagesPush = Callable[[Namespace, tuple[Any, dict[str, Any]]], None]


def graph_namespace(metadata: Mapping[str, Any]) -> Namespace:
    """The namespace of the graph a task runs in, from the task's metadata.

    The task's own ``name:id`` segment is dropped, and one more for each enclosing functional
    ``@task`` call: a call runs in its caller's graph but nests its segment under the caller's.
    A call's ``langgraph_path`` is ``(PUSH, <caller's path>, <index>, True)``.
    """
    namespace = tuple(str(metadata["langgraph_checkpoint_ns"]).split(NS_SEP))
    path = metadata.get("langgraph_path", ())
    drop = 1
    while isinstance(path, (tuple, list)) and len(path) == 4 and path[0] == PUSH and path[-1] is True:
        drop += 1
        path = path[1]
    return namespace[:-drop]


def _user_tags(tags: Sequence[str] | None) -> list[str] | None:
    # ``seq:step:N`` tags are langchain-core bookkeeping, not the user's.
    if not tags:
        return None
    kept = [tag for tag in tags if not tag.startswith("seq:step")]
    return kept or None


def _top_level_values(value: Any) -> Iterable[Any]:
    """The field values of a state-like object (dict, pydantic model, dataclass)."""
    if isinstance(value, Mapping):
        return value.values()
    model_fields = getattr(type(value), "model_fields", None)
    if isinstance(model_fields, dict) and hasattr(value, "model_dump"):
        return [getattr(value, name, None) for name in model_fields]
    if is_dataclass(value) and not isinstance(value, type):
        return [getattr(value, field.name) for field in fields(value)]
    return ()


def _messages_in(value: Any) -> Iterator[BaseMessage]:
    """Messages in a node's input or output: the value itself, a list, or a state's fields."""
    if isinstance(value, BaseMessage):
        yield value
    elif isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        for item in value:
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
                # (key, value) pairs: Command(update=[("messages", [...])]) or task writes.
                yield from _messages_in_field(item[1])
            elif isinstance(item, Mapping):
                for field_value in item.values():
                    yield from _messages_in_field(field_value)
            else:
                # A message, or the value of one write (e.g. the list written to a key).
                yield from _messages_in_field(item)
    else:
        for field_value in _top_level_values(value):
            yield from _messages_in_field(field_value)


def _messages_in_field(value: Any) -> Iterator[BaseMessage]:
    if isinstance(value, BaseMessage):
        yield value
    elif isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        for item in value:
            if isinstance(item, BaseMessage):
                yield item


class StreamMessagesHandler(BaseCallbackHandler, _StreamingCallbackHandler):  # type: ignore[type-arg,misc,unused-ignore]
    """Emits ``(message, metadata)`` pairs for ``stream_mode="messages"``.

    ``push(namespace, (message, metadata))`` receives every pair. Messages from nested graphs are
    dropped unless ``subgraphs`` is true (or they come from ``parent_ns``, the graph that created
    the handler when a node streams a subgraph itself). Each message id is emitted once.
    """

    run_inline = True
    """Called in the thread of the model call: tokens keep their order."""

    def __init__(
        self, push: MessagesPush, subgraphs: bool, *, parent_ns: Namespace | None = None
    ) -> None:
        self.push = push
        self.subgraphs = subgraphs
        self.parent_ns = parent_ns
        self.runs: dict[UUID, tuple[Namespace, dict[str, Any]]] = {}
        self.seen: set[str] = set()
        self._lock = threading.Lock()

    # -- which tasks are streamed ------------------------------------------------------------

    def _streamed_namespace(self, metadata: Mapping[str, Any] | None) -> Namespace | None:
        """The namespace to emit under, or None when the task's messages are not streamed."""
        if not metadata or "langgraph_checkpoint_ns" not in metadata:
            return None
        namespace = graph_namespace(metadata)
        if namespace and not self.subgraphs and namespace != self.parent_ns:
            return None
        return namespace

    def _emit(
        self,
        namespace: Namespace,
        metadata: dict[str, Any],
        message: BaseMessage,
        *,
        dedupe: bool,
    ) -> None:
        with self._lock:
            if message.id is None:
                message.id = str(uuid4())
            elif dedupe and message.id in self.seen:
                return
            self.seen.add(message.id)
        self.push(namespace, (message, metadata))

    def _mark_seen(self, messages: Iterable[BaseMessage]) -> None:
        ids = [message.id for message in messages if message.id is not None]
        if ids:
            with self._lock:
                self.seen.update(ids)

    # -- called by the engine around each task -----------------------------------------------

    def on_task_start(self, task_metadata: Mapping[str, Any], task_input: Any) -> None:
        """Messages already in a task's input are never re-emitted as its output."""
        if self._streamed_namespace(task_metadata) is None:
            return
        self._mark_seen(_messages_in(task_input))

    def on_task_end(self, task_metadata: Mapping[str, Any], output: Any) -> None:
        """Emit the messages of a finished task's output that were not streamed already.

        ``output`` is what the node returned (or the writes it made): a message, a list, a
        state-like dict/object, a ``Command`` or a list mixing ``Command``s and updates.
        """
        namespace = self._streamed_namespace(task_metadata)
        if namespace is None:
            return
        metadata = _run_metadata(task_metadata)
        for message in self._output_messages(output):
            self._emit(namespace, metadata, message, dedupe=True)

    @staticmethod
    def _output_messages(output: Any) -> Iterator[BaseMessage]:
        if isinstance(output, Command):
            yield from _messages_in(output.update)
        elif isinstance(output, Sequence) and not isinstance(output, (str, bytes)) and any(
            isinstance(item, Command) for item in output
        ):
            for item in output:
                yield from _messages_in(item.update if isinstance(item, Command) else item)
        else:
            yield from _messages_in(output)

    def on_message_pushed(self, task_metadata: Mapping[str, Any], message: BaseMessage) -> None:
        """``push_message`` inside a node: emit now, even if the id was seen before."""
        namespace = self._streamed_namespace(task_metadata)
        if namespace is None:
            return
        self._emit(namespace, _run_metadata(task_metadata), message, dedupe=False)

    # -- langchain-core callbacks ------------------------------------------------------------

    def tap_output_aiter(self, run_id: UUID, output: Any) -> Any:
        return output

    def tap_output_iter(self, run_id: UUID, output: Iterator[T]) -> Iterator[T]:
        return output

    def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[BaseMessage]],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        if tags and TAG_NOSTREAM in tags:
            return
        namespace = self._streamed_namespace(metadata)
        if namespace is None:
            return
        recorded = dict(metadata or {})
        user_tags = _user_tags(tags)
        if user_tags is not None:
            recorded["tags"] = user_tags
        self.runs[run_id] = (namespace, recorded)

    def on_llm_new_token(
        self,
        token: Any,
        *,
        chunk: Any = None,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        **kwargs: Any,
    ) -> Any:
        if not isinstance(chunk, ChatGenerationChunk):
            return
        run = self.runs.get(run_id)
        if run is not None:
            self._emit(run[0], run[1], chunk.message, dedupe=False)

    def on_llm_end(
        self,
        response: LLMResult,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> Any:
        run = self.runs.pop(run_id, None)
        if run is None or not response.generations or not response.generations[0]:
            return
        generation = response.generations[0][0]
        if isinstance(generation, ChatGeneration):
            self._emit(run[0], run[1], generation.message, dedupe=True)

    def on_llm_error(
        self,
        error: BaseException,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> Any:
        self.runs.pop(run_id, None)


def _run_metadata(task_metadata: Mapping[str, Any]) -> dict[str, Any]:
    # What LangGraph shows for messages a node returns: its node run's metadata, which the
    # graph run's callbacks mark with the integration first.
    return {"ls_integration": "langgraph", **task_metadata}
