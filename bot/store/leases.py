"""Named leases in the history database, shared by every process that uses it.

One holder at a time per name: `take` succeeds when the lease is free, has run out (its holder
stopped renewing it: crashed, killed or cut off) or is already the caller's; the holder renews it
while it works and releases it at the end. The token sweep takes one, so replicas serving one app
never sweep the organization twice at once: each sweep reads every account with the same org key,
and a second would only halve the pace of both (docs/tokens-and-compare.md). The clock is the
database's (`pace.now_s`).
"""

from __future__ import annotations

from bot.store.db import Db, Dialect
from bot.store.pace import now_s

TOKEN_SWEEP = "token-sweep"


def take(db: Db, name: str, owner: str, holder: str, ttl_s: float) -> str | None:
    """Take `name` for `owner` (`holder` says who, for the others to read) for `ttl_s` seconds.
    None when taken; otherwise the current holder's `holder` text."""
    with db.transaction():
        now = now_s(db)
        db.execute("INSERT INTO leases (name, owner, holder, until_s) VALUES (?, ?, ?, ?)"
                   " ON CONFLICT (name) DO NOTHING", [name, owner, holder, now + ttl_s])
        lock = " FOR UPDATE" if db.dialect is Dialect.POSTGRES else ""  # SQLite: BEGIN IMMEDIATE locked it
        current, held_by, until = db.execute(f"SELECT owner, holder, until_s FROM leases WHERE name = ?{lock}",
                                             [name]).fetchone()
        if current != owner and until > now:
            return str(held_by)
        db.execute("UPDATE leases SET owner = ?, holder = ?, until_s = ? WHERE name = ?",
                   [owner, holder, now + ttl_s, name])
    return None


def renew(db: Db, name: str, owner: str, ttl_s: float) -> bool:
    """Push the lease's end out; False when it is no longer `owner`'s (it ran out and was taken)."""
    with db.transaction():
        return db.execute("UPDATE leases SET until_s = ? WHERE name = ? AND owner = ?",
                          [now_s(db) + ttl_s, name, owner]).rowcount == 1


def release(db: Db, name: str, owner: str) -> None:
    with db.transaction():
        db.execute("DELETE FROM leases WHERE name = ? AND owner = ?", [name, owner])
