"""Signed Slack requests already taken, shared by every bot process on one database (`bot.slack.replays`)."""

from __future__ import annotations

from bot.store.db import Db

KEEP_S = 600.0  # twice Slack's five-minute window: a copy older than that fails its timestamp check


def claim_request(db: Db, digest: str, sent_at: float) -> bool:
    """Claim a request's signature digest; False when some process claimed it already. `sent_at` is the
    request's own timestamp (the same for every replica, whatever its clock); older claims are dropped."""
    with db.transaction():
        db.execute("DELETE FROM seen_requests WHERE sent_at < ?", [sent_at - KEEP_S])
        row = db.execute("INSERT INTO seen_requests (digest, sent_at) VALUES (?, ?) ON CONFLICT (digest) DO NOTHING"
                         " RETURNING digest", [digest, sent_at]).fetchone()
    return row is not None
