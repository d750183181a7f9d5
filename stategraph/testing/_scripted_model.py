"""A chat model that replies from a script: agents and graphs tested offline, deterministically.

``ScriptedChatModel(responses=[...])`` is a real langchain-core ``BaseChatModel``: it binds tools,
streams its replies in token-sized chunks (so ``stream_mode="messages"`` has something to show)
and records every conversation it was asked to answer.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Union

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import LanguageModelInput
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, ToolCall
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import PrivateAttr

__all__ = ["Reply", "ScriptedChatModel", "tool_call"]

Reply = Union[
    str,
    AIMessage,
    ToolCall,
    Mapping[str, Any],
    Sequence[str | ToolCall | Mapping[str, Any]],
    Callable[[list[BaseMessage]], Any],
]
"""One scripted reply: text, an ``AIMessage``, a tool call (see ``tool_call``), a list of text
and tool calls (one message calling several tools), or a callable that receives the
conversation and returns any of these."""

_TOKEN = re.compile(r"\s*\S+|\s+")


def tool_call(name: str, args: Mapping[str, Any] | None = None, *, id: str | None = None) -> ToolCall:
    """A tool call for a script: ``tool_call("search", {"query": "weather in Paris"})``.

    Without ``id`` the model gives the call a deterministic id derived from the conversation.
    """
    return ToolCall(name=name, args=dict(args or {}), id=id, type="tool_call")


def _is_tool_call_spec(value: Any) -> bool:
    return isinstance(value, Mapping) and "name" in value and "role" not in value


def _check_reply(reply: Any, position: int) -> None:
    """Reject a malformed reply when the script is built, not when it is reached."""
    if isinstance(reply, (str, AIMessage)) or callable(reply):
        return
    if _is_tool_call_spec(reply):
        _check_tool_call_spec(reply, position)
        return
    if isinstance(reply, Sequence) and reply:
        for part in reply:
            if isinstance(part, str):
                continue
            if _is_tool_call_spec(part):
                _check_tool_call_spec(part, position)
                continue
            raise _bad_reply(part, position)
        return
    raise _bad_reply(reply, position)


def _check_tool_call_spec(spec: Mapping[str, Any], position: int) -> None:
    args = spec.get("args", {})
    if not isinstance(spec["name"], str) or not isinstance(args, Mapping):
        raise ValueError(
            f"Scripted reply #{position + 1} is a tool call with name={spec['name']!r} and "
            f"args={args!r}; the name must be a string and args a dict. Write it as "
            "tool_call('search', {'query': '...'})."
        )


def _bad_reply(reply: Any, position: int) -> ValueError:
    return ValueError(
        f"Scripted reply #{position + 1} is {reply!r}, which ScriptedChatModel cannot answer "
        "with. Use a string, an AIMessage, tool_call(name, args), a list of strings and tool "
        "calls, or a callable taking the conversation and returning one of these."
    )


def _message_text(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return json.dumps(content, sort_keys=True, default=str)


def _conversation_digest(messages: Sequence[BaseMessage]) -> hashlib._Hash:
    # Ids must not depend on process state: a restarted program resuming a saved thread must
    # not mint an id that is already in the thread (the reducer would replace that message).
    digest = hashlib.sha256()
    for message in messages:
        calls = getattr(message, "tool_calls", None) or ()
        digest.update(message.type.encode())
        digest.update(b"\x1f")
        digest.update(_message_text(message).encode())
        digest.update(b"\x1f")
        digest.update(json.dumps([(c["name"], c["args"]) for c in calls], default=str).encode())
        digest.update(str(getattr(message, "tool_call_id", "")).encode())
        digest.update(b"\x1e")
    return digest


class ScriptedChatModel(BaseChatModel):
    """A chat model whose replies are given in advance.

    ``responses`` are used in order, one per model call (see ``Reply`` for the forms a reply can
    take). When they run out the model raises ``IndexError`` naming how many were scripted,
    unless ``cycle=True`` starts the script again. Tools bound with ``bind_tools`` are
    remembered: a scripted tool call naming a tool that was not bound raises ``ValueError``
    (``check_tool_names=False`` turns this off). Message and tool-call ids are derived from the
    conversation and the reply, so a run is reproducible.

    Example::

        model = ScriptedChatModel(responses=[
            tool_call("search", {"query": "weather in Paris"}),
            "It is sunny in Paris.",
        ])
        agent = create_react_agent(model, [search])
    """

    responses: list[Any]
    cycle: bool = False
    check_tool_names: bool = True
    model_name: str = "scripted"

    _position: int = PrivateAttr(default=0)
    _lock: Any = PrivateAttr(default_factory=threading.Lock)
    _calls: list[list[BaseMessage]] = PrivateAttr(default_factory=list)

    def __init__(self, responses: Sequence[Reply] = (), **kwargs: Any) -> None:
        if isinstance(responses, (str, AIMessage)) or _is_tool_call_spec(responses) or callable(responses):
            responses = [responses]  # type: ignore[list-item]
        super().__init__(responses=list(responses), **kwargs)  # type: ignore[call-arg]
        for position, reply in enumerate(self.responses):
            _check_reply(reply, position)

    @property
    def _llm_type(self) -> str:
        return "scripted-chat-model"

    @property
    def calls(self) -> list[list[BaseMessage]]:
        """The conversations the model was asked to answer, in call order."""
        return list(self._calls)

    @property
    def remaining(self) -> int | None:
        """How many scripted replies are left (None when the script cycles)."""
        return None if self.cycle else max(0, len(self.responses) - self._position)

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> Any:
        params = super()._get_ls_params(stop=stop, **kwargs)
        params["ls_provider"] = "stategraph-testing"
        params["ls_model_name"] = self.model_name
        return params

    def bind_tools(
        self,
        tools: Sequence[Any],
        *,
        tool_choice: str | dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Remember ``tools`` (as OpenAI tool schemas, like hosted models do) for this binding."""
        formatted = [tool if isinstance(tool, dict) else convert_to_openai_tool(tool) for tool in tools]
        if tool_choice is not None:
            kwargs["tool_choice"] = tool_choice
        return self.bind(tools=formatted, **kwargs)

    # -- the script --------------------------------------------------------------------------

    def _take_reply(self, messages: list[BaseMessage]) -> Any:
        with self._lock:
            position = self._position
            if position >= len(self.responses) and not (self.cycle and self.responses):
                raise IndexError(self._exhausted_message(messages))
            self._position += 1
            self._calls.append(list(messages))
        return self.responses[position % len(self.responses)]

    def _exhausted_message(self, messages: list[BaseMessage]) -> str:
        count = len(self.responses)
        last = _message_text(messages[-1])[:80] if messages else ""
        return (
            f"ScriptedChatModel ran out of replies: it was scripted with {count} "
            f"repl{'y' if count == 1 else 'ies'} and this is call {self._position + 1}. "
            f"The last message it was sent: {last!r}. Add replies to responses=[...], or pass "
            "cycle=True to start the script again."
        )

    def _reply_message(self, messages: list[BaseMessage], tools: list[dict[str, Any]] | None) -> AIMessage:
        reply = self._take_reply(messages)
        if callable(reply) and not isinstance(reply, (AIMessage, Mapping)):
            reply = reply(list(messages))
            _check_reply(reply, self._position - 1)
        message = self._as_ai_message(reply, messages)
        if tools is not None and self.check_tool_names:
            self._check_bound(message, tools)
        return message

    def _as_ai_message(self, reply: Any, messages: list[BaseMessage]) -> AIMessage:
        if isinstance(reply, AIMessage):
            message = reply.model_copy(deep=True)
        elif isinstance(reply, str):
            message = AIMessage(content=reply)
        else:
            parts = [reply] if _is_tool_call_spec(reply) else list(reply)
            text = "".join(part for part in parts if isinstance(part, str))
            calls = [part for part in parts if not isinstance(part, str)]
            message = AIMessage(
                content=text,
                tool_calls=[
                    ToolCall(name=c["name"], args=dict(c.get("args") or {}), id=c.get("id"), type="tool_call")
                    for c in calls
                ],
            )
        digest = _conversation_digest(messages)
        digest.update(_message_text(message).encode())
        digest.update(json.dumps([(c["name"], c["args"]) for c in message.tool_calls], default=str).encode())
        key = digest.hexdigest()
        if message.id is None:
            message.id = f"scripted-{key[:24]}"
        for index, call in enumerate(message.tool_calls):
            if not call.get("id"):
                call["id"] = f"call_{key[:16]}_{index}"
        message.response_metadata = {
            "model_name": self.model_name,
            "finish_reason": "tool_calls" if message.tool_calls else "stop",
            **message.response_metadata,
        }
        return message

    @staticmethod
    def _check_bound(message: AIMessage, tools: list[dict[str, Any]]) -> None:
        bound = [
            tool["function"]["name"] if tool.get("type") == "function" else tool.get("name")
            for tool in tools
        ]
        unknown = [call["name"] for call in message.tool_calls if call["name"] not in bound]
        if unknown:
            raise ValueError(
                f"The scripted reply calls tool(s) {unknown} but the model was bound to "
                f"{[name for name in bound if name]}. Script calls to bound tools, bind the "
                "missing ones, or pass check_tool_names=False."
            )

    # -- langchain-core hooks ----------------------------------------------------------------

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        message = self._reply_message(messages, kwargs.get("tools"))
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        message = self._reply_message(messages, kwargs.get("tools"))
        for chunk in split_into_chunks(message):
            yield ChatGenerationChunk(message=chunk)


def split_into_chunks(message: AIMessage) -> list[AIMessageChunk]:
    """Token-sized chunks that add up to ``message`` (text by words, tool-call args in pieces)."""
    chunks: list[AIMessageChunk] = []
    content = message.content
    if isinstance(content, str):
        for token in _TOKEN.findall(content):
            chunks.append(AIMessageChunk(content=token, id=message.id))
    elif content:
        chunks.append(AIMessageChunk(content=content, id=message.id))
    for index, call in enumerate(message.tool_calls):
        arguments = json.dumps(call["args"])
        middle = len(arguments) // 2
        chunks.append(
            AIMessageChunk(
                content="",
                id=message.id,
                tool_call_chunks=[
                    tool_call_chunk(name=call["name"], args=arguments[:middle], id=call["id"], index=index)
                ],
            )
        )
        chunks.append(
            AIMessageChunk(
                content="",
                id=message.id,
                tool_call_chunks=[tool_call_chunk(name=None, args=arguments[middle:], id=None, index=index)],
            )
        )
    chunks.append(
        AIMessageChunk(
            content="" if isinstance(content, str) else [],
            id=message.id,
            response_metadata=dict(message.response_metadata),
            usage_metadata=message.usage_metadata,
            chunk_position="last",
        )
    )
    if message.name is not None:
        chunks[0].name = message.name
    if message.additional_kwargs:
        chunks[0].additional_kwargs = dict(message.additional_kwargs)
    return chunks
