"""``PregelProtocol``: what every runnable graph offers, and ``StreamProtocol``, the sink a
run streams into, under LangGraph's path (``langgraph.pregel.protocol``).

``Pregel`` is registered as a ``PregelProtocol`` rather than inheriting from it, so the engine
carries no abstract base; a remote or wrapped graph subclasses it to be accepted where a
compiled graph is (as a subgraph node, say).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, AsyncIterator, Callable, Generic, Iterator, Optional, Sequence

from stategraph.pregel._graph import Pregel
from stategraph.types import StateSnapshot, StreamMode
from stategraph.typing import ContextT, InputT, OutputT, StateT

__all__ = ["PregelProtocol", "StreamChunk", "StreamProtocol"]

StreamChunk = tuple[tuple[str, ...], str, Any]
"""``(namespace, mode, payload)``: one streamed event."""


class PregelProtocol(ABC, Generic[StateT, ContextT, InputT, OutputT]):
    """The run, state and drawing methods a graph has, whatever runs it."""

    @abstractmethod
    def with_config(self, config: Optional[dict[str, Any]] = None, **kwargs: Any) -> Any: ...

    @abstractmethod
    def get_graph(self, config: Optional[dict[str, Any]] = None, *, xray: Any = False) -> Any: ...

    @abstractmethod
    async def aget_graph(
        self, config: Optional[dict[str, Any]] = None, *, xray: Any = False
    ) -> Any: ...

    @abstractmethod
    def get_state(self, config: dict[str, Any], *, subgraphs: bool = False) -> StateSnapshot: ...

    @abstractmethod
    async def aget_state(
        self, config: dict[str, Any], *, subgraphs: bool = False
    ) -> StateSnapshot: ...

    @abstractmethod
    def get_state_history(self, config: dict[str, Any], **kwargs: Any) -> Iterator[StateSnapshot]: ...

    @abstractmethod
    def aget_state_history(
        self, config: dict[str, Any], **kwargs: Any
    ) -> AsyncIterator[StateSnapshot]: ...

    @abstractmethod
    def bulk_update_state(self, config: dict[str, Any], supersteps: Sequence[Any]) -> Any: ...

    @abstractmethod
    async def abulk_update_state(self, config: dict[str, Any], supersteps: Sequence[Any]) -> Any: ...

    @abstractmethod
    def update_state(
        self, config: dict[str, Any], values: Any, as_node: Optional[str] = None, **kwargs: Any
    ) -> Any: ...

    @abstractmethod
    async def aupdate_state(
        self, config: dict[str, Any], values: Any, as_node: Optional[str] = None, **kwargs: Any
    ) -> Any: ...

    @abstractmethod
    def stream(self, input: Any, config: Optional[dict[str, Any]] = None, **kwargs: Any) -> Iterator[Any]: ...

    @abstractmethod
    def astream(
        self, input: Any, config: Optional[dict[str, Any]] = None, **kwargs: Any
    ) -> AsyncIterator[Any]: ...

    @abstractmethod
    def invoke(self, input: Any, config: Optional[dict[str, Any]] = None, **kwargs: Any) -> Any: ...

    @abstractmethod
    async def ainvoke(self, input: Any, config: Optional[dict[str, Any]] = None, **kwargs: Any) -> Any: ...


PregelProtocol.register(Pregel)


class StreamProtocol:
    """A callable that receives ``StreamChunk``s, with the stream ``modes`` it wants."""

    __slots__ = ("__call__", "modes")

    modes: set[StreamMode]
    __call__: Callable[[StreamChunk], None]

    def __init__(self, __call__: Callable[[StreamChunk], None], modes: set[StreamMode]) -> None:
        self.__call__ = __call__
        self.modes = modes
