"""Managed values: state keys computed by the engine for each task, never stored."""

from __future__ import annotations

from typing import Annotated, Any

__all__ = ["IsLastStep", "ManagedValue", "RemainingSteps", "is_managed_value"]


class ManagedValue:
    """A value the engine computes per task from the run's position (step, stop)."""

    @staticmethod
    def compute(step: int, stop: int) -> Any:
        raise NotImplementedError


class RemainingStepsManager(ManagedValue):
    @staticmethod
    def compute(step: int, stop: int) -> int:
        return stop - step


class IsLastStepManager(ManagedValue):
    @staticmethod
    def compute(step: int, stop: int) -> bool:
        return step == stop - 1


RemainingSteps = Annotated[int, RemainingStepsManager]
IsLastStep = Annotated[bool, IsLastStepManager]


def is_managed_value(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, ManagedValue)
