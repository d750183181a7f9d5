"""The shapes of agent-inbox interrupts: what a graph asks a human, and what the human answers.

Send ``interrupt([HumanInterrupt(...)])[0]`` from a node; the web inbox and agent-inbox UIs
render the request and resume the run with a ``HumanResponse``.
"""

from __future__ import annotations

from typing import Any, Literal

from typing_extensions import TypedDict

__all__ = ["ActionRequest", "HumanInterrupt", "HumanInterruptConfig", "HumanResponse"]


class ActionRequest(TypedDict):
    """An action the graph wants to take: its name and arguments."""

    action: str
    args: dict[str, Any]


class HumanInterruptConfig(TypedDict):
    """Which answers the human may give."""

    allow_ignore: bool
    allow_respond: bool
    allow_edit: bool
    allow_accept: bool


class HumanInterrupt(TypedDict):
    """A request for a human: the action, what they may do with it, and a description."""

    action_request: ActionRequest
    config: HumanInterruptConfig
    description: str | None


class HumanResponse(TypedDict):
    """The human's answer: accept, ignore, a text response, or an edited action."""

    type: Literal["accept", "ignore", "response", "edit"]
    args: None | str | ActionRequest
