"""The cache interface, at LangGraph's path ``langgraph.cache.base``."""

from stategraph.cache._base import BaseCache as BaseCache
from stategraph.cache._base import FullKey as FullKey
from stategraph.cache._base import Namespace as Namespace
from stategraph.cache._base import Serializer as Serializer
from stategraph.cache._base import ValueT as ValueT

__all__ = ["BaseCache", "FullKey", "Namespace", "Serializer", "ValueT"]
