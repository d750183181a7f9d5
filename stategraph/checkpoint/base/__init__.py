"""The checkpointer interface and the shapes it stores, at LangGraph's import path."""

from stategraph.checkpoint._delta_history import DeltaChannelHistory as DeltaChannelHistory
from stategraph.checkpoint._delta_history import writes_sort_key as writes_sort_key
from stategraph.checkpoint._ids import get_checkpoint_id as get_checkpoint_id
from stategraph.checkpoint._legacy import EXCLUDED_METADATA_KEYS as EXCLUDED_METADATA_KEYS
from stategraph.checkpoint._legacy import LATEST_VERSION as LATEST_VERSION
from stategraph.checkpoint._legacy import create_checkpoint as create_checkpoint
from stategraph.checkpoint._legacy import empty_checkpoint as empty_checkpoint
from stategraph.checkpoint._legacy import (
    get_serializable_checkpoint_metadata as get_serializable_checkpoint_metadata,
)
from stategraph.checkpoint._ids import uuid6 as uuid6
from stategraph.checkpoint._metadata import (
    get_checkpoint_metadata as get_checkpoint_metadata,
)
from stategraph.checkpoint._saver import BaseCheckpointSaver as BaseCheckpointSaver
from stategraph.checkpoint._saver import V as V
from stategraph.checkpoint._types import WRITES_IDX_MAP as WRITES_IDX_MAP
from stategraph.checkpoint._types import ChannelVersions as ChannelVersions
from stategraph.checkpoint._types import Checkpoint as Checkpoint
from stategraph.checkpoint._types import CheckpointMetadata as CheckpointMetadata
from stategraph.checkpoint._types import CheckpointTuple as CheckpointTuple
from stategraph.checkpoint._types import PendingWrite as PendingWrite
from stategraph.checkpoint._types import TaskWrites as TaskWrites
from stategraph.checkpoint._types import copy_checkpoint as copy_checkpoint
from stategraph.checkpoint.serde.base import SerializerProtocol as SerializerProtocol
from stategraph.checkpoint.serde.types import ChannelProtocol as ChannelProtocol
from stategraph.checkpoint.serde.types import SendProtocol as SendProtocol
from stategraph.errors import EmptyChannelError as EmptyChannelError

__all__ = [
    "EXCLUDED_METADATA_KEYS",
    "LATEST_VERSION",
    "WRITES_IDX_MAP",
    "BaseCheckpointSaver",
    "ChannelProtocol",
    "ChannelVersions",
    "Checkpoint",
    "CheckpointMetadata",
    "CheckpointTuple",
    "DeltaChannelHistory",
    "EmptyChannelError",
    "PendingWrite",
    "SendProtocol",
    "SerializerProtocol",
    "TaskWrites",
    "V",
    "copy_checkpoint",
    "create_checkpoint",
    "empty_checkpoint",
    "get_checkpoint_id",
    "get_checkpoint_metadata",
    "get_serializable_checkpoint_metadata",
    "uuid6",
    "writes_sort_key",
]
