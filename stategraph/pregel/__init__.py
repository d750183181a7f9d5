"""The compiled graph and its low-level builder, under the names LangGraph gives them."""

from stategraph.pregel._builder import ChannelWriteEntry as ChannelWriteEntry
from stategraph.pregel._builder import NodeBuilder as NodeBuilder
from stategraph.pregel._graph import Pregel as Pregel
from stategraph.pregel._node import PregelNode as PregelNode

__all__ = ["ChannelWriteEntry", "NodeBuilder", "Pregel", "PregelNode"]
