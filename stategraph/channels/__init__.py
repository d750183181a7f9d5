"""Channels: how each state key stores and combines the values written to it."""

from stategraph.channels.any_value import AnyValue as AnyValue
from stategraph.channels.base import BaseChannel as BaseChannel
from stategraph.channels.binop import BinaryOperatorAggregate as BinaryOperatorAggregate
from stategraph.channels.delta import DeltaChannel as DeltaChannel
from stategraph.channels.ephemeral_value import EphemeralValue as EphemeralValue
from stategraph.channels.last_value import LastValue as LastValue
from stategraph.channels.last_value import LastValueAfterFinish as LastValueAfterFinish
from stategraph.channels.named_barrier_value import NamedBarrierValue as NamedBarrierValue
from stategraph.channels.named_barrier_value import (
    NamedBarrierValueAfterFinish as NamedBarrierValueAfterFinish,
)
from stategraph.channels.topic import Topic as Topic
from stategraph.channels.untracked_value import UntrackedValue as UntrackedValue

__all__ = [
    "AnyValue",
    "BaseChannel",
    "BinaryOperatorAggregate",
    "DeltaChannel",
    "EphemeralValue",
    "LastValue",
    "LastValueAfterFinish",
    "NamedBarrierValue",
    "NamedBarrierValueAfterFinish",
    "Topic",
    "UntrackedValue",
]
