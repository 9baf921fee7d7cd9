"""Site facts kept between runs (`bot.site_facts`): one row per fact, with when it was last read.

A row is `(kind, key) -> value`: a site URL's cloudId, or the org id an org API key administers
(keyed by a digest of the key, never the key). `read_at` is epoch seconds from the caller's clock,
so tests can move time; rows older than the caller's time to live are not returned.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.store.db import Db


def read_facts(db: Db, wanted: Iterable[tuple[str, str]], *, now: float,
               ttl_s: float) -> dict[tuple[str, str], tuple[str, float]]:
    """`(value, read_at)` of the wanted `(kind, key)` rows read less than `ttl_s` ago."""
    out: dict[tuple[str, str], tuple[str, float]] = {}
    for kind, key in wanted:
        row = db.execute("SELECT value, read_at FROM site_facts WHERE kind = ? AND key = ?", [kind, key]).fetchone()
        if row is not None and now - float(row[1]) < ttl_s:
            out[(kind, key)] = (str(row[0]), float(row[1]))
    return out


def keep_facts(db: Db, values: dict[tuple[str, str], str | None], *, now: float) -> None:
    """Store each value as read at `now`; None forgets the row (the fact could not be confirmed)."""
    with db.transaction():
        for (kind, key), value in values.items():
            if value is None:
                db.execute("DELETE FROM site_facts WHERE kind = ? AND key = ?", [kind, key])
            else:
                db.execute("INSERT INTO site_facts (kind, key, value, read_at) VALUES (?, ?, ?, ?)"
                           " ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value, read_at = excluded.read_at",
                           [kind, key, value, now])
