"""The channel contract (api_spec.md §3.2), one behaviour per test, through the public classes."""


import operator
from collections.abc import Sequence
from typing import Any, Optional

import pytest

from stategraph.channels import (
    AnyValue,
    BaseChannel,
    BinaryOperatorAggregate,
    EphemeralValue,
    LastValue,
    LastValueAfterFinish,
    NamedBarrierValue,
    NamedBarrierValueAfterFinish,
    Topic,
    UntrackedValue,
)
from stategraph.errors import EmptyChannelError, InvalidUpdateError
from stategraph.types import Overwrite

CONCURRENT_UPDATE = (
    "At key 'k': Can receive only one value per step. Use an Annotated key to handle "
    "multiple values."
)


def restored(channel: BaseChannel) -> BaseChannel:
    """The channel as a checkpoint would bring it back."""
    return channel.from_checkpoint(channel.checkpoint())


def keyed(channel: BaseChannel, key: str = "k") -> BaseChannel:
    channel.key = key
    return channel


# ---------------------------------------------------------------------------- every channel

ALL_EMPTY_CHANNELS = [
    pytest.param(lambda: LastValue(int), id="LastValue"),
    pytest.param(lambda: AnyValue(int), id="AnyValue"),
    pytest.param(lambda: EphemeralValue(int), id="EphemeralValue"),
    pytest.param(lambda: UntrackedValue(int), id="UntrackedValue"),
    pytest.param(lambda: Topic(int), id="Topic"),
    pytest.param(lambda: NamedBarrierValue(str, {"a", "b"}), id="NamedBarrierValue"),
    pytest.param(lambda: LastValueAfterFinish(int), id="LastValueAfterFinish"),
    pytest.param(
        lambda: NamedBarrierValueAfterFinish(str, {"a"}), id="NamedBarrierValueAfterFinish"
    ),
    pytest.param(lambda: BinaryOperatorAggregate(Optional[list], operator.add), id="BinOp-optional"),
]


@pytest.mark.parametrize("make", ALL_EMPTY_CHANNELS)
def test_a_new_channel_is_empty_and_get_raises_empty_channel_error(make: Any) -> None:
    channel = make()
    assert channel.is_available() is False
    with pytest.raises(EmptyChannelError):
        channel.get()


@pytest.mark.parametrize("make", ALL_EMPTY_CHANNELS)
def test_an_empty_channel_survives_a_checkpoint_round_trip_still_empty(make: Any) -> None:
    channel = restored(make())
    assert channel.is_available() is False


def test_channels_are_importable_as_base_channel_subclasses() -> None:
    for cls in (
        AnyValue,
        BinaryOperatorAggregate,
        EphemeralValue,
        LastValue,
        LastValueAfterFinish,
        NamedBarrierValue,
        NamedBarrierValueAfterFinish,
        Topic,
        UntrackedValue,
    ):
        assert issubclass(cls, BaseChannel)


# ---------------------------------------------------------------------------- LastValue


def test_last_value_stores_the_single_value_written_in_a_step() -> None:
    channel = LastValue(int)
    assert channel.update([3]) is True
    assert channel.get() == 3
    assert channel.is_available() is True


def test_last_value_update_without_writes_reports_no_change_and_keeps_the_value() -> None:
    channel = LastValue(int)
    channel.update([3])
    assert channel.update([]) is False
    assert channel.get() == 3


def test_last_value_later_step_replaces_the_value() -> None:
    channel = LastValue(int)
    channel.update([3])
    channel.update([4])
    assert channel.get() == 4


def test_last_value_two_writes_in_one_step_raise_langgraphs_message() -> None:
    channel = keyed(LastValue(int))
    with pytest.raises(InvalidUpdateError) as caught:
        channel.update([1, 2])
    message = str(caught.value)
    assert message.startswith(CONCURRENT_UPDATE)
    assert "INVALID_CONCURRENT_GRAPH_UPDATE" in message


def test_last_value_none_is_a_value_not_emptiness() -> None:
    channel = LastValue(Optional[int])
    channel.update([None])
    assert channel.is_available() is True
    assert channel.get() is None


def test_last_value_checkpoint_round_trip_keeps_the_value() -> None:
    channel = LastValue(int)
    channel.update([7])
    assert restored(channel).get() == 7


def test_channel_copy_is_independent_of_the_original() -> None:
    channel = LastValue(int)
    channel.update([1])
    clone = channel.copy()
    clone.update([2])
    assert channel.get() == 1
    assert clone.get() == 2


def test_consume_and_finish_are_no_ops_for_plain_channels() -> None:
    channel = LastValue(int)
    channel.update([1])
    assert channel.consume() is False
    assert channel.finish() is False
    assert channel.get() == 1


# ---------------------------------------------------------------------------- BinaryOperatorAggregate


@pytest.mark.parametrize(
    ("typ", "initial"),
    [
        (list, []),
        (int, 0),
        (str, ""),
        (dict, {}),
        (Sequence, []),
        (set, set()),
    ],
)
def test_reducer_channel_starts_at_the_types_empty_value(typ: Any, initial: Any) -> None:
    channel = BinaryOperatorAggregate(typ, operator.add)
    assert channel.is_available() is True
    assert channel.get() == initial
    assert type(channel.get()) is type(initial)


def test_reducer_channel_with_an_unconstructible_type_stores_the_first_write_as_is() -> None:
    calls: list[tuple[Any, Any]] = []

    def reducer(left: Any, right: Any) -> Any:
        calls.append((left, right))
        return left + right

    channel = BinaryOperatorAggregate(Optional[list], reducer)
    channel.update([["a"]])
    assert channel.get() == ["a"]
    assert calls == []
    channel.update([["b"]])
    assert channel.get() == ["a", "b"]
    assert calls == [(["a"], ["b"])]


def test_reducer_folds_all_writes_of_a_step_in_write_order() -> None:
    channel = BinaryOperatorAggregate(list, operator.add)
    assert channel.update([["a"], ["b"], ["c"]]) is True
    assert channel.get() == ["a", "b", "c"]


def test_reducer_update_without_writes_reports_no_change() -> None:
    channel = BinaryOperatorAggregate(list, operator.add)
    channel.update([["a"]])
    assert channel.update([]) is False
    assert channel.get() == ["a"]


def test_reducer_value_persists_across_a_checkpoint() -> None:
    channel = BinaryOperatorAggregate(list, operator.add)
    channel.update([["a"]])
    again = restored(channel)
    again.update([["b"]])
    assert again.get() == ["a", "b"]


@pytest.mark.parametrize(
    "overwrite",
    [
        pytest.param(Overwrite(["z"]), id="Overwrite"),
        pytest.param({"__overwrite__": ["z"]}, id="dict-short"),
        pytest.param({"type": "__overwrite__", "value": ["z"]}, id="dict-long"),
    ],
)
def test_overwrite_replaces_the_value_and_ignores_later_writes_of_the_step(overwrite: Any) -> None:
    channel = BinaryOperatorAggregate(list, operator.add)
    channel.update([["a"]])
    channel.update([["b"], overwrite, ["c"]])
    assert channel.get() == ["z"]


def test_writes_after_an_overwrite_step_fold_again() -> None:
    channel = BinaryOperatorAggregate(list, operator.add)
    channel.update([Overwrite(["z"])])
    channel.update([["y"]])
    assert channel.get() == ["z", "y"]


def test_two_overwrites_in_one_step_are_an_error() -> None:
    channel = BinaryOperatorAggregate(list, operator.add)
    with pytest.raises(InvalidUpdateError, match="Can receive only one Overwrite value per super-step."):
        channel.update([Overwrite(["a"]), Overwrite(["b"])])


# ---------------------------------------------------------------------------- EphemeralValue


def test_ephemeral_value_holds_a_value_for_exactly_one_step() -> None:
    channel = EphemeralValue(int)
    assert channel.update([1]) is True
    assert channel.get() == 1
    assert channel.update([]) is True
    assert channel.is_available() is False
    assert channel.update([]) is False


def test_ephemeral_value_with_guard_rejects_two_writes_in_a_step() -> None:
    channel = EphemeralValue(int)
    with pytest.raises(InvalidUpdateError):
        channel.update([1, 2])


def test_ephemeral_value_without_guard_keeps_the_last_write() -> None:
    channel = EphemeralValue(int, guard=False)
    channel.update([1, 2])
    assert channel.get() == 2


# ---------------------------------------------------------------------------- AnyValue


def test_any_value_accepts_several_writes_and_keeps_the_last() -> None:
    channel = AnyValue(int)
    channel.update([1, 2, 3])
    assert channel.get() == 3


def test_any_value_is_cleared_by_a_step_without_writes() -> None:
    channel = AnyValue(int)
    channel.update([1])
    assert channel.update([]) is True
    assert channel.is_available() is False


# ---------------------------------------------------------------------------- UntrackedValue


def test_untracked_value_behaves_like_last_value_in_memory() -> None:
    channel = UntrackedValue(int)
    channel.update([5])
    assert channel.update([]) is False
    assert channel.get() == 5


def test_untracked_value_is_never_checkpointed() -> None:
    channel = UntrackedValue(int)
    channel.update([5])
    assert restored(channel).is_available() is False


def test_untracked_value_with_guard_rejects_two_writes_in_a_step() -> None:
    channel = UntrackedValue(int)
    with pytest.raises(InvalidUpdateError):
        channel.update([1, 2])


def test_untracked_value_without_guard_keeps_the_last_write() -> None:
    channel = UntrackedValue(int, guard=False)
    channel.update([1, 2])
    assert channel.get() == 2


# ---------------------------------------------------------------------------- Topic


def test_topic_collects_writes_and_flattens_lists() -> None:
    channel = Topic(int)
    assert channel.update([1, [2, 3], 4]) is True
    assert channel.get() == [1, 2, 3, 4]


def test_topic_without_accumulate_resets_every_step() -> None:
    channel = Topic(int)
    channel.update([1])
    channel.update([2])
    assert channel.get() == [2]
    assert channel.update([]) is True
    assert channel.is_available() is False


def test_topic_with_accumulate_piles_values_up() -> None:
    channel = Topic(int, accumulate=True)
    channel.update([1])
    channel.update([2])
    assert channel.update([]) is False
    assert channel.get() == [1, 2]


def test_topic_get_returns_a_copy() -> None:
    channel = Topic(int)
    channel.update([1])
    channel.get().append(99)
    assert channel.get() == [1]


def test_topic_round_trips_through_a_checkpoint() -> None:
    channel = Topic(int, accumulate=True)
    channel.update([1, 2])
    assert restored(channel).get() == [1, 2]


# ---------------------------------------------------------------------------- NamedBarrierValue


def test_barrier_is_available_only_after_every_name_wrote() -> None:
    channel = NamedBarrierValue(str, {"a", "b"})
    assert channel.update(["a"]) is True
    assert channel.is_available() is False
    assert channel.update(["b"]) is True
    assert channel.is_available() is True
    assert channel.get() is None


def test_barrier_writes_may_arrive_in_one_step() -> None:
    channel = NamedBarrierValue(str, {"a", "b"})
    channel.update(["b", "a"])
    assert channel.is_available() is True


def test_barrier_repeated_name_is_not_a_change() -> None:
    channel = NamedBarrierValue(str, {"a", "b"})
    channel.update(["a"])
    assert channel.update(["a"]) is False


def test_barrier_consume_resets_it() -> None:
    channel = NamedBarrierValue(str, {"a", "b"})
    channel.update(["a", "b"])
    assert channel.consume() is True
    assert channel.is_available() is False
    assert channel.consume() is False


def test_barrier_consume_before_complete_does_nothing() -> None:
    channel = NamedBarrierValue(str, {"a", "b"})
    channel.update(["a"])
    assert channel.consume() is False
    channel.update(["b"])
    assert channel.is_available() is True


def test_barrier_rejects_a_name_it_does_not_wait_for() -> None:
    channel = NamedBarrierValue(str, {"a", "b"})
    with pytest.raises(InvalidUpdateError):
        channel.update(["zzz"])


def test_barrier_partial_progress_survives_a_checkpoint() -> None:
    channel = NamedBarrierValue(str, {"a", "b"})
    channel.update(["a"])
    again = restored(channel)
    again.update(["b"])
    assert again.is_available() is True


# ---------------------------------------------------------------------------- after-finish channels


def test_last_value_after_finish_is_hidden_until_finish() -> None:
    channel = LastValueAfterFinish(int)
    assert channel.update([1]) is True
    assert channel.is_available() is False
    assert channel.finish() is True
    assert channel.is_available() is True
    assert channel.get() == 1


def test_last_value_after_finish_keeps_the_last_of_several_writes() -> None:
    channel = LastValueAfterFinish(int)
    channel.update([1, 2])
    channel.finish()
    assert channel.get() == 2


def test_last_value_after_finish_finish_on_empty_channel_is_no_change() -> None:
    channel = LastValueAfterFinish(int)
    assert channel.finish() is False
    assert channel.is_available() is False


def test_last_value_after_finish_consume_clears_it_once_finished() -> None:
    channel = LastValueAfterFinish(int)
    channel.update([1])
    assert channel.consume() is False
    channel.finish()
    assert channel.consume() is True
    assert channel.is_available() is False


def test_last_value_after_finish_round_trips_its_finished_flag() -> None:
    channel = LastValueAfterFinish(int)
    channel.update([1])
    channel.finish()
    assert restored(channel).get() == 1


def test_barrier_after_finish_opens_only_after_all_names_and_finish() -> None:
    channel = NamedBarrierValueAfterFinish(str, {"a", "b"})
    channel.update(["a"])
    assert channel.finish() is False
    channel.update(["b"])
    assert channel.is_available() is False
    assert channel.finish() is True
    assert channel.is_available() is True
    assert channel.consume() is True
    assert channel.is_available() is False


def test_a_topic_holds_a_sequence_and_takes_a_value_or_a_list() -> None:
    from collections.abc import Sequence
    from typing import Union

    from stategraph.channels import Topic

    topic = Topic(str)
    assert topic.ValueType == Sequence[str]
    assert topic.UpdateType == Union[str, list[str]]


def test_an_overwrite_that_went_through_json_is_still_an_overwrite() -> None:
    import dataclasses
    import json

    from stategraph.channels import BinaryOperatorAggregate
    from stategraph.types import Overwrite

    erased = json.loads(json.dumps(dataclasses.asdict(Overwrite(["new"]))))
    assert erased == {"value": ["new"], "type": "__overwrite__"}
    channel = BinaryOperatorAggregate(list, operator.add).from_checkpoint(["old"])
    channel.update([erased])
    assert channel.get() == ["new"]
