"""A scripted chat model for the agent benchmark: no network, no randomness.

It is a real langchain-core ``BaseChatModel``, so it goes through the same
message plumbing a hosted model would. Its reply depends only on the messages it
is given: while fewer than ``tool_turns`` tool results are in the conversation it
asks for one more call of the ``echo`` tool, then it gives a final answer. Being
stateless, one instance can serve any number of runs and threads.
"""

from __future__ import annotations

from typing import Any, Sequence

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.tools import tool

FINAL_ANSWER = "done"


@tool
def echo(x: int) -> int:
    """Return x unchanged."""
    return x


class ScriptedToolCaller(BaseChatModel):
    """Calls ``echo`` ``tool_turns`` times, then answers ``FINAL_ANSWER``."""

    tool_turns: int = 50

    @property
    def _llm_type(self) -> str:
        return "scripted-tool-caller"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> "ScriptedToolCaller":
        return self

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        done = sum(1 for m in messages if isinstance(m, ToolMessage))
        if done < self.tool_turns:
            reply = AIMessage(
                content="",
                tool_calls=[
                    {"name": "echo", "args": {"x": done}, "id": f"call_{done}", "type": "tool_call"}
                ],
            )
        else:
            reply = AIMessage(content=FINAL_ANSWER)
        return ChatResult(generations=[ChatGeneration(message=reply)])
