"""The checkpointer interface and the shapes it stores, at LangGraph's import path."""

from stategraph.checkpoint._ids import get_checkpoint_id as get_checkpoint_id
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
from stategraph.checkpoint._types import empty_checkpoint as empty_checkpoint
from stategraph.checkpoint.serde.base import SerializerProtocol as SerializerProtocol
from stategraph.errors import EmptyChannelError as EmptyChannelError

__all__ = [
    "WRITES_IDX_MAP",
    "BaseCheckpointSaver",
    "ChannelVersions",
    "Checkpoint",
    "CheckpointMetadata",
    "CheckpointTuple",
    "EmptyChannelError",
    "PendingWrite",
    "SerializerProtocol",
    "TaskWrites",
    "V",
    "copy_checkpoint",
    "empty_checkpoint",
    "get_checkpoint_id",
    "get_checkpoint_metadata",
    "uuid6",
]
