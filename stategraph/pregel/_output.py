"""What a run hands back: stream items in the caller's shape, and ``invoke``'s result."""

from __future__ import annotations

from typing import Any

from stategraph.pregel._loop import PregelLoop
from stategraph.types import GraphOutput


class StreamShape:
    """Turns a loop event into the item the caller asked for (v1 tuples or v2 dicts)."""

    __slots__ = ("single", "subgraphs", "v2", "coerce")

    def __init__(
        self, single: bool, subgraphs: bool, version: str, modes: frozenset[str], coerce: Any
    ) -> None:
        self.single = single
        self.subgraphs = subgraphs
        self.v2 = version == "v2"
        self.coerce = coerce

    def __call__(self, event: Any) -> Any:
        ns, mode, payload = event
        if self.v2:
            part: dict[str, Any] = {"type": mode, "ns": ns, "data": payload}
            if mode == "values":
                interrupts = ()
                if isinstance(payload, dict) and "__interrupt__" in payload:
                    payload = dict(payload)
                    interrupts = payload.pop("__interrupt__")
                part["data"] = self.coerce(payload) if not ns else payload
                part["interrupts"] = interrupts
            return part
        if self.subgraphs:
            return (ns, payload) if self.single else (ns, mode, payload)
        return payload if self.single else (mode, payload)


def invoke_output(loop: PregelLoop, version: str) -> Any:
    output = loop.output
    interrupts = loop.interrupts
    if version == "v2":
        return GraphOutput(loop.graph.coerce_output(output), tuple(interrupts))
    if interrupts:
        if isinstance(output, dict):
            return {**output, "__interrupt__": list(interrupts)}
        return {"__interrupt__": list(interrupts)}
    return output
