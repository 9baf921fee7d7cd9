"""Redaction where Evidence is built: the project's one redactor (`bot.redact`), re-exported here
so the Atlassian layer and its callers keep importing it from `bot.atlassian`."""

from bot.redact import MASK, Redactor

__all__ = ["MASK", "Redactor"]
