"""Watches: accounts checked again and again by `serve`, one row each (`bot.watches` decides what to post).

A row holds what to check (actor, endpoint, space), how often (`every_s`), where to post (`channel`),
when it is due next (`next_due`, epoch seconds from the caller's clock) and what was last said
about it (`verdict`, `trouble`, `warned`), so a change is told once, whichever process runs it.

Several processes on one database run a due watch once: a process *claims* it with a conditional
update (the lease is free or has run out, and it is still due) and only the one whose update changed
the row runs it. PostgreSQL re-checks the condition on the locked row, so of two processes racing,
one claims and the other finds nothing; SQLite serialises writers (`BEGIN IMMEDIATE`). A claimer
that dies leaves a lease that runs out (`LEASE_S`), and the watch is run again by whoever comes next.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from bot.store.db import Db

LEASE_S = 300.0  # a claimed watch whose run has not ended this long after is free again (a run lasts ≤ 30 s)

_COLUMNS = ("id", "actor", "endpoint", "space", "every_s", "channel", "created_by", "created_at", "next_due",
            "last_run_id", "last_checked_at", "verdict", "trouble", "warned")


@dataclass(frozen=True)
class Watch:
    """One watch as stored."""

    id: str
    actor: str
    every_s: int
    created_by: str  # "cli", or the Slack user who asked
    created_at: str
    next_due: float
    endpoint: str | None = None  # "METHOD URL", as given
    space: str | None = None
    channel: str | None = None  # the Slack channel its notices go to; None: history only
    last_run_id: str | None = None
    last_checked_at: str | None = None
    verdict: str | None = None  # "outcome:cause" of the last run that decided, as last told
    trouble: str | None = None  # the bot's own trouble already told (`bot.watches.Trouble`), until it ends
    warned: frozenset[str] = field(default_factory=frozenset)  # "token_id:days" expiry warnings already posted

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "actor": self.actor, "endpoint": self.endpoint, "space": self.space,
                "every_s": self.every_s, "channel": self.channel, "created_by": self.created_by,
                "created_at": self.created_at, "next_due": self.next_due, "last_run_id": self.last_run_id,
                "last_checked_at": self.last_checked_at, "verdict": self.verdict, "trouble": self.trouble}


def new_watch_id() -> str:
    return "w_" + secrets.token_hex(5)


def add_watch(db: Db, watch: Watch) -> None:
    with db.transaction():
        db.execute(f"INSERT INTO watches ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",
                   _values(watch))


def list_watches(db: Db, *, channel: str | None = None) -> list[Watch]:
    where, params = ("WHERE channel = ?", [channel]) if channel is not None else ("", [])
    rows = db.execute(f"SELECT {', '.join(_COLUMNS)} FROM watches {where} ORDER BY created_at, id", params)
    return [_watch(row) for row in rows.fetchall()]


def get_watch(db: Db, watch_id: str) -> Watch | None:
    row = db.execute(f"SELECT {', '.join(_COLUMNS)} FROM watches WHERE id = ?", [watch_id]).fetchone()
    return _watch(row) if row is not None else None


def remove_watch(db: Db, watch_id: str) -> bool:
    with db.transaction():
        return db.execute("DELETE FROM watches WHERE id = ?", [watch_id]).rowcount > 0


def claim_due(db: Db, owner: str, *, now: float, limit: int) -> list[Watch]:
    """Claim up to `limit` watches due at `now` whose lease is free; return those this call claimed."""
    due = db.execute("SELECT id FROM watches WHERE next_due <= ? AND (lease_until IS NULL OR lease_until < ?)"
                     " ORDER BY next_due LIMIT ?", [now, now, limit]).fetchall()
    claimed = []
    for (watch_id,) in due:
        with db.transaction():
            changed = db.execute(
                "UPDATE watches SET lease_owner = ?, lease_until = ? WHERE id = ? AND next_due <= ?"
                " AND (lease_until IS NULL OR lease_until < ?)", [owner, now + LEASE_S, watch_id, now, now]).rowcount
            row = get_watch(db, watch_id) if changed == 1 else None
        if row is not None:
            claimed.append(row)
    return claimed


def finish_run(db: Db, watch: Watch, owner: str, *, next_due: float) -> bool:
    """Store what the run of a claimed watch leaves (`watch`: its new state), set its next time, free the
    lease. False when the watch was removed meanwhile or another process took it over (lease run out)."""
    with db.transaction():
        return db.execute(
            "UPDATE watches SET next_due = ?, lease_owner = NULL, lease_until = NULL, last_run_id = ?,"
            " last_checked_at = ?, verdict = ?, trouble = ?, warned = ? WHERE id = ? AND lease_owner = ?",
            [next_due, watch.last_run_id, watch.last_checked_at, watch.verdict, watch.trouble,
             json.dumps(sorted(watch.warned)), watch.id, owner]).rowcount == 1


def _values(watch: Watch) -> list[Any]:
    row = watch.to_dict() | {"warned": json.dumps(sorted(watch.warned))}
    return [row[c] for c in _COLUMNS]


def _watch(row: Iterable[Any]) -> Watch:
    values = dict(zip(_COLUMNS, row, strict=True))
    warned = frozenset(json.loads(values.pop("warned") or "[]"))
    values["next_due"] = float(values["next_due"])
    values["every_s"] = int(values["every_s"])
    return replace(Watch(**values), warned=warned)
