"""Deprecation warnings, under LangGraph's names and hierarchy.

    DeprecationWarning
    └── LangGraphDeprecationWarning      (message, since, expected_removal)
        ├── LangGraphDeprecatedSinceV05  deprecated in API 0.5, removed in 2.0
        ├── LangGraphDeprecatedSinceV10  deprecated in API 1.0, removed in 2.0
        └── LangGraphDeprecatedSinceV11  deprecated in API 1.1, removed in 3.0

The versions are those of the LangGraph API that stategraph implements, so a filter written
for LangGraph (``filterwarnings("ignore", category=LangGraphDeprecatedSinceV10)``) applies
unchanged.
"""

from __future__ import annotations

__all__ = [
    "LangGraphDeprecatedSinceV05",
    "LangGraphDeprecatedSinceV10",
    "LangGraphDeprecatedSinceV11",
    "LangGraphDeprecationWarning",
]


class LangGraphDeprecationWarning(DeprecationWarning):
    """A deprecated part of the LangGraph API is in use.

    ``message`` says what to use instead; ``since`` and ``expected_removal`` are API versions
    as ``(major, minor)``. Removal defaults to the next major version.
    """

    message: str
    since: tuple[int, int]
    expected_removal: tuple[int, int]

    def __init__(
        self,
        message: str,
        *args: object,
        since: tuple[int, int],
        expected_removal: tuple[int, int] | None = None,
    ) -> None:
        super().__init__(message, *args)
        self.message = message.rstrip(".")
        self.since = since
        self.expected_removal = expected_removal or (since[0] + 1, 0)

    def __str__(self) -> str:
        since = ".".join(map(str, self.since))
        removal = ".".join(map(str, self.expected_removal))
        return f"{self.message}. Deprecated in LangGraph V{since} to be removed in V{removal}."


class LangGraphDeprecatedSinceV05(LangGraphDeprecationWarning):
    """Deprecated since LangGraph API v0.5; to be removed in v2.0."""

    def __init__(self, message: str, *args: object) -> None:
        super().__init__(message, *args, since=(0, 5), expected_removal=(2, 0))


class LangGraphDeprecatedSinceV10(LangGraphDeprecationWarning):
    """Deprecated since LangGraph API v1.0; to be removed in v2.0."""

    def __init__(self, message: str, *args: object) -> None:
        super().__init__(message, *args, since=(1, 0), expected_removal=(2, 0))


class LangGraphDeprecatedSinceV11(LangGraphDeprecationWarning):
    """Deprecated since LangGraph API v1.1; to be removed in v3.0."""

    def __init__(self, message: str, *args: object) -> None:
        super().__init__(message, *args, since=(1, 1), expected_removal=(3, 0))
