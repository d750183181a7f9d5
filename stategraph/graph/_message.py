"""The ``messages`` reducer: merge message lists by id, as LangGraph's ``add_messages`` does.

Also the state schema most chat graphs start from (``MessagesState``) and ``push_message``,
which sends a finished message to the ``messages`` stream while a node is still running.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from functools import partial
from typing import Annotated, Any, Literal, Optional, Union, cast

from langchain_core.messages import (
    AnyMessage,
    BaseMessage,
    BaseMessageChunk,
    MessageLikeRepresentation,
    RemoveMessage,
    convert_to_messages,
    message_chunk_to_message,
)
from typing_extensions import TypedDict

from stategraph.graph.state import StateGraph

__all__ = [
    "REMOVE_ALL_MESSAGES",
    "MessageGraph",
    "Messages",
    "MessagesState",
    "add_messages",
    "push_message",
]

REMOVE_ALL_MESSAGES = "__remove_all__"
"""``RemoveMessage(id=REMOVE_ALL_MESSAGES)`` in an update clears everything written before it."""

Messages = Union[list[MessageLikeRepresentation], MessageLikeRepresentation]
MessagesFormat = Optional[Literal["langchain-openai"]]

_FORMATS = (None, "langchain-openai")


def _check_format(format: Any) -> None:
    if format not in _FORMATS:
        raise ValueError(
            f"Unrecognized format={format!r}. Expected one of 'langchain-openai', None. "
            "Use add_messages(format='langchain-openai') or plain add_messages."
        )


def _as_messages(values: list[Any]) -> list[BaseMessage]:
    # A long history is all plain messages: check the few distinct types, not every item.
    if all(
        issubclass(kind, BaseMessage) and not issubclass(kind, BaseMessageChunk)
        for kind in set(map(type, values))
    ):
        return values
    return [
        message_chunk_to_message(message) if isinstance(message, BaseMessageChunk) else message
        for message in convert_to_messages(values)
    ]


class _RecentResults:
    """The id index of the last lists this reducer returned.

    In a conversation, ``left`` is almost always the list the previous call returned; reusing
    its index (instead of reading every message's id again) keeps each step's cost
    proportional to what is new, not to the length of the history. Entries hold the list
    itself, so an ``id()`` is never mistaken for another list's.
    """

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self.entries: OrderedDict[int, tuple[list[BaseMessage], dict[str, int]]] = OrderedDict()
        self.lock = threading.Lock()

    def index_of(self, messages: list[Any]) -> Optional[dict[str, int]]:
        with self.lock:
            entry = self.entries.get(id(messages))
            if entry is None or entry[0] is not messages or len(entry[1]) != len(messages):
                return None
            return entry[1]

    def remember(self, messages: list[BaseMessage], index: dict[str, int]) -> None:
        with self.lock:
            self.entries[id(messages)] = (messages, index)
            self.entries.move_to_end(id(messages))
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)


_recent = _RecentResults()


def _left_index(left: list[Any]) -> tuple[list[BaseMessage], dict[str, int]]:
    """``left`` as messages with ids, and its id -> position index."""
    known = _recent.index_of(left)
    if known is not None:
        return left, dict(known)
    messages = _as_messages(left)
    # One pass over the (long) left side builds the index; ids are filled in only when some
    # message lacks one, which after the first step is never.
    index = {message.id: position for position, message in enumerate(messages)}
    if None in index:
        del index[None]
        for position, message in enumerate(messages):
            if message.id is None:
                message.id = str(uuid.uuid4())
                index[message.id] = position
    return messages, index


def _merge(left: Messages, right: Messages, *, format: MessagesFormat = None) -> list[BaseMessage]:
    _check_format(format)
    left_messages, index = _left_index(left if isinstance(left, list) else [left])
    right_messages = _as_messages(right if isinstance(right, list) else [right])

    remove_all_at = -1
    for position, message in enumerate(right_messages):
        if message.id is None:
            message.id = str(uuid.uuid4())
        elif message.id == REMOVE_ALL_MESSAGES and isinstance(message, RemoveMessage):
            remove_all_at = position
    if remove_all_at >= 0:
        return _formatted(right_messages[remove_all_at + 1 :], format)

    merged = left_messages.copy()
    to_remove: set[str] = set()
    for message in right_messages:
        found = index.get(message.id)
        if found is not None and merged[found].id != message.id:
            # The list was changed in place since its index was made: index it afresh.
            index = {m.id: position for position, m in enumerate(merged)}
            found = index.get(message.id)
        if found is not None:
            if isinstance(message, RemoveMessage):
                to_remove.add(cast(str, message.id))
            else:
                to_remove.discard(cast(str, message.id))
                merged[found] = message
        elif isinstance(message, RemoveMessage):
            raise ValueError(
                f"Attempting to delete a message with an ID that doesn't exist ('{message.id}')"
            )
        else:
            index[message.id] = len(merged)
            merged.append(message)
    if to_remove:
        merged = [message for message in merged if message.id not in to_remove]
        index = {message.id: position for position, message in enumerate(merged)}
    if format is None and len(index) == len(merged):
        _recent.remember(merged, index)
    return _formatted(merged, format)


def _formatted(messages: list[BaseMessage], format: MessagesFormat) -> list[BaseMessage]:
    if format is None:
        return messages
    from langchain_core.messages import convert_to_openai_messages

    converted = convert_to_messages(convert_to_openai_messages(messages))
    # OpenAI formatting drops ids; without them the next merge could not replace by id.
    if len(converted) == len(messages):
        for new, old in zip(converted, messages):
            new.id = old.id
    return converted


def add_messages(
    left: Messages | None = None,
    right: Messages | None = None,
    *,
    format: MessagesFormat = None,
) -> Any:
    """Merge two lists of messages, replacing messages of ``left`` that ``right`` shares ids with.

    The result is append-only except where an id repeats: a message of ``right`` whose id is
    already in ``left`` takes its place; ``RemoveMessage(id=...)`` deletes one;
    ``RemoveMessage(id=REMOVE_ALL_MESSAGES)`` discards everything before it. Elements may be
    messages, strings (human messages), ``(role, content)`` tuples or OpenAI-style dicts; chunks
    become full messages and messages without an id get a uuid4 id.

    Called with neither list, it returns a configured reducer::

        class State(TypedDict):
            messages: Annotated[list, add_messages(format="langchain-openai")]
    """
    if left is not None and right is not None:
        return _merge(left, right, format=format)
    if left is not None or right is not None:
        received = "left" if left is not None else "right"
        raise ValueError(
            "Must specify non-null arguments for both 'left' and 'right'. Only "
            f"received: '{received}'. Call add_messages(left, right) to merge, or "
            "add_messages(format=...) to configure a reducer."
        )
    _check_format(format)
    reducer = partial(_merge, format=format)
    reducer.assigns_message_ids = True  # type: ignore[attr-defined]
    return reducer


add_messages.assigns_message_ids = True  # type: ignore[attr-defined]


_MESSAGE_ROLES = frozenset({"user", "assistant", "system", "developer", "tool", "function", "human", "ai"})
_MESSAGE_TYPES = frozenset({"human", "ai", "system", "tool", "function", "chat", "remove"})


def ensure_message_ids(
    writes: list[tuple[str, Any]],
    channels: frozenset[str],
    *,
    copy: bool = False,
    dict_channels: frozenset[str] = frozenset(),
) -> None:
    """Give the messages a task writes to ``channels`` their ids as soon as it finishes.

    As LangGraph does, so the ``updates`` and ``tools`` streams and anything else that sees the
    writes show the ids the state will hold (the objects are the same, so the reducer keeps
    them). In ``dict_channels`` (``DeltaChannel`` keys, whose reducers may not coerce), message
    dicts (``{"role": ...}`` or ``{"type": ...}``) in a list become messages with ids, and a
    lone one gets an ``"id"``, as in LangGraph. With ``copy``, messages are never changed in
    place: the write gets copies with ids instead, for the input's messages, which are already
    part of a saved checkpoint (the ``__start__`` value) that must read back as it was saved.
    """
    for position, (channel, value) in enumerate(writes):
        if channel not in channels and channel not in dict_channels:
            continue
        coerce = channel in dict_channels
        if isinstance(value, list):
            items = [_with_id(item, coerce, copy) for item in value]
            if any(new is not old for new, old in zip(items, value)):
                if copy:
                    writes[position] = (channel, items)
                else:
                    value[:] = items  # the list others hold (pending writes) sees them too
        elif coerce and isinstance(value, dict) and _is_message_dict(value) and not value.get("id"):
            if copy:
                writes[position] = (channel, {**value, "id": str(uuid.uuid4())})
            else:
                value["id"] = str(uuid.uuid4())
        else:
            changed = _with_id(value, False, copy)
            if changed is not value:
                writes[position] = (channel, changed)


def _is_message_dict(item: dict[str, Any]) -> bool:
    return item.get("role") in _MESSAGE_ROLES or item.get("type") in _MESSAGE_TYPES


def _with_id(item: Any, coerce_dicts: bool, copy: bool) -> Any:
    """``item`` with an id: itself (given one in place) unless ``copy``; a message dict becomes
    a message when ``coerce_dicts``."""
    if isinstance(item, BaseMessage):
        if item.id is not None:
            return item
        if copy:
            return item.model_copy(update={"id": str(uuid.uuid4())})
        item.id = str(uuid.uuid4())
        return item
    if coerce_dicts and isinstance(item, dict) and _is_message_dict(item):
        message = convert_to_messages([item])[0]
        if message.id is None:
            message.id = str(uuid.uuid4())
        return message
    return item


class MessagesState(TypedDict):
    """State with one key, ``messages``, merged by ``add_messages``. Subclass it to add keys."""

    messages: Annotated[list[AnyMessage], add_messages]


class MessageGraph(StateGraph):
    """Deprecated: a graph whose whole state is one message list merged by ``add_messages``.

    Use ``StateGraph(MessagesState)`` instead.
    """

    def __init__(self) -> None:
        import warnings

        from stategraph.warnings import LangGraphDeprecatedSinceV10

        warnings.warn(
            "MessageGraph is deprecated in LangGraph v1.0.0, to be removed in v2.0.0. Please use "
            "StateGraph with a `messages` key instead.",
            category=LangGraphDeprecatedSinceV10,
            stacklevel=2,
        )
        super().__init__(Annotated[list[AnyMessage], add_messages])


def push_message(
    message: MessageLikeRepresentation | BaseMessageChunk,
    *,
    state_key: str | None = "messages",
) -> AnyMessage:
    """Send a finished message to the ``messages`` stream now, and write it to ``state_key``.

    Call it inside a node. The message needs an id (the stream and the reducer key on it).
    With ``state_key=None`` the message is only streamed.
    """
    from stategraph._context import require_task

    task = require_task("push_message")
    config = task.config
    converted = convert_to_messages([message])[0]
    if isinstance(converted, BaseMessageChunk):
        converted = message_chunk_to_message(converted)
    if converted.id is None:
        raise ValueError(
            "Message ID is required. push_message streams the message under its id; create it "
            "with one, e.g. AIMessage('...', id=str(uuid.uuid4()))."
        )
    _stream_pushed_message(config, converted)
    if state_key:
        _write_to_state(task, config, [(state_key, converted)])
    return cast(AnyMessage, converted)


def _stream_pushed_message(config: dict[str, Any], message: BaseMessage) -> None:
    from stategraph.pregel._messages import StreamMessagesHandler

    for handler in _callback_handlers(config.get("callbacks")):
        if isinstance(handler, StreamMessagesHandler):
            handler.on_message_pushed(config.get("metadata") or {}, message)


def _callback_handlers(callbacks: Any) -> Sequence[Any]:
    if callbacks is None:
        return ()
    if isinstance(callbacks, (list, tuple)):
        return callbacks
    return cast(Sequence[Any], getattr(callbacks, "handlers", ()))


def _write_to_state(task: Any, config: dict[str, Any], writes: list[tuple[str, Any]]) -> None:
    # The engine exposes the running task's write function as ``TaskContext.write``; older
    # engines (and LangGraph) keep it in the config under ``__pregel_send``.
    write: Callable[[list[tuple[str, Any]]], None] | None = getattr(task, "write", None)
    if write is None:
        write = (config.get("configurable") or {}).get("__pregel_send")
    if write is None:
        raise RuntimeError(
            "push_message cannot write to the state: this engine does not expose the running "
            "task's writes. Pass state_key=None to only stream the message, and return it from "
            "the node to store it."
        )
    write(writes)
