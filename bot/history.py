"""The run store's public names (the store itself lives in `bot.store`)."""

from bot.store import (
    MIGRATIONS,
    ORIGIN_KEYS,
    AsyncHistory,
    Change,
    HistoryStore,
    Migration,
    Refusal,
    Via,
    migrate,
)

__all__ = ["MIGRATIONS", "ORIGIN_KEYS", "AsyncHistory", "Change", "HistoryStore", "Migration", "Refusal", "Via",
           "migrate"]
