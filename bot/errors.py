"""The few exceptions of confluence-check.

    ConfluenceCheckError
    ├── ConfigError      a setting is missing or malformed (names the setting)
    │   └── HistoryError     the history database refused a write (names DATABASE_PATH/URL)
    ├── UsageError       bad input from a person: actor, endpoint, flags (CLI exit 64)
    │   └── HostNotAllowed   an endpoint or redirect points outside the configured hosts
    └── NotFound         a run id that history does not hold

An observed 401/403/404 from Atlassian is evidence, never an exception. None of these
messages may contain a secret: they are shown to people and written to logs.
"""

from __future__ import annotations


class ConfluenceCheckError(Exception):
    """Base class: one line, safe to show."""


class ConfigError(ConfluenceCheckError):
    pass


class HistoryError(ConfigError):
    """A run could not be saved. The run itself (as far as it got) is `run`, so it can still be shown."""

    def __init__(self, message: str, run: object = None) -> None:
        super().__init__(message)
        self.run = run


class UsageError(ConfluenceCheckError):
    pass


class HostNotAllowed(UsageError):
    pass


class NotFound(ConfluenceCheckError):
    pass
