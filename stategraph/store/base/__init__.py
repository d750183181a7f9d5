"""The store interface and its values, at LangGraph's path ``langgraph.store.base``.

``batch`` holds ``AsyncBatchedBaseStore``, the base of asyncio stores that coalesce calls.
"""

from typing import Any

from stategraph.errors import InvalidNamespaceError as InvalidNamespaceError
from stategraph.store._base import NOT_PROVIDED as NOT_PROVIDED
from stategraph.store._base import BaseStore as BaseStore
from stategraph.store._base import NotProvided as NotProvided
from stategraph.store._config import IndexConfig as IndexConfig
from stategraph.store._config import TTLConfig as TTLConfig
from stategraph.store._embed import AEmbeddingsFunc as AEmbeddingsFunc
from stategraph.store._embed import EmbeddingsFunc as EmbeddingsFunc
from stategraph.store._embed import ensure_embeddings as ensure_embeddings
from stategraph.store._item import Item as Item
from stategraph.store._item import SearchItem as SearchItem
from stategraph.store._ops import GetOp as GetOp
from stategraph.store._ops import ListNamespacesOp as ListNamespacesOp
from stategraph.store._ops import MatchCondition as MatchCondition
from stategraph.store._ops import NamespaceMatchType as NamespaceMatchType
from stategraph.store._ops import NamespacePath as NamespacePath
from stategraph.store._ops import Op as Op
from stategraph.store._ops import PutOp as PutOp
from stategraph.store._ops import Result as Result
from stategraph.store._ops import SearchOp as SearchOp
from stategraph.store._paths import get_text_at_path as get_text_at_path
from stategraph.store._paths import tokenize_path as tokenize_path
from stategraph.store._validate_ops import validate_op_namespace as validate_op_namespace

__all__ = [
    "NOT_PROVIDED",
    "AEmbeddingsFunc",
    "BaseStore",
    "Embeddings",  # noqa: F822 (served lazily by __getattr__)
    "EmbeddingsFunc",
    "GetOp",
    "IndexConfig",
    "InvalidNamespaceError",
    "Item",
    "ListNamespacesOp",
    "MatchCondition",
    "NamespaceMatchType",
    "NamespacePath",
    "NotProvided",
    "Op",
    "PutOp",
    "Result",
    "SearchItem",
    "SearchOp",
    "TTLConfig",
    "ensure_embeddings",
    "get_text_at_path",
    "tokenize_path",
    "validate_op_namespace",
]


def __getattr__(name: str) -> Any:
    # LangGraph re-exports langchain-core's Embeddings here; load it only when asked for.
    if name == "Embeddings":
        from langchain_core.embeddings import Embeddings

        return Embeddings
    raise AttributeError(f"module 'stategraph.store.base' has no attribute {name!r}")
