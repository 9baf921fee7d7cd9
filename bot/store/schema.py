"""The run store's schema, as numbered migrations applied once per database (SQLite or PostgreSQL).

Both backends run the same steps: plain SQL with three dialect words (`{serial}`, `{blob}`,
`{bigint}`, see `db.SQL_TYPES`), or a Python function for the data moves. Version 1 and 2 are the
layout the first release wrote (through sqlite-utils: one `runs` row with the whole run JSON, its
steps again in `steps`); version 3 is the lean layout (`records.py`) with owners and the
latest-run-per-actor table, and moves any existing runs into it.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bot.model import Run, iso, utcnow
from bot.store.db import SQL_TYPES, Db, Dialect
from bot.store.records import (
    decode_doc,
    encode_doc,
    identity_columns,
    load_run,
    run_columns,
    run_head,
    run_steps,
)


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema step; applied once, in a transaction with its `_migrations` record."""

    version: int
    name: str
    apply: Callable[[Db], None]


def _sql(*statements: str) -> Callable[[Db], None]:
    def apply(db: Db) -> None:
        for statement in statements:
            db.execute(statement.format(**SQL_TYPES[db.dialect]))

    return apply


_V1 = _sql(
    "CREATE TABLE IF NOT EXISTS runs (run_id TEXT PRIMARY KEY, actor TEXT NOT NULL, site TEXT NOT NULL,"
    " started_at TEXT NOT NULL, finished_at TEXT, duration_ms INTEGER, outcome TEXT, cause TEXT,"
    " confidence TEXT, interrupted INTEGER NOT NULL DEFAULT 0, previous_run_id TEXT, via TEXT,"
    " slack_channel TEXT, slack_thread_ts TEXT, slack_user TEXT, run_json TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS idx_runs_actor_started_at ON runs (actor, started_at)",
    "CREATE TABLE IF NOT EXISTS steps (run_id TEXT REFERENCES runs (run_id), position INTEGER, step_id TEXT,"
    " status TEXT, summary TEXT, duration_ms INTEGER, PRIMARY KEY (run_id, step_id))",
)

_V2 = _sql(
    "CREATE TABLE IF NOT EXISTS refusals (id {serial}, at TEXT, slack_user TEXT, slack_channel TEXT,"
    " text TEXT, reason TEXT)",
)

_V3_TABLES = _sql(
    # seq orders runs that started in the same second by when they were first saved.
    "CREATE TABLE runs_v3 (seq {serial}, run_id TEXT NOT NULL UNIQUE, actor TEXT NOT NULL,"
    " site TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT, duration_ms INTEGER, outcome TEXT,"
    " cause TEXT, confidence TEXT, interrupted INTEGER NOT NULL DEFAULT 0, previous_run_id TEXT,"
    " via TEXT, slack_channel TEXT, slack_thread_ts TEXT, slack_user TEXT,"
    " owner_host TEXT, owner_pid INTEGER, owner_nonce TEXT, lease_until TEXT,"
    " notice_pending INTEGER NOT NULL DEFAULT 0, doc {blob} NOT NULL)",
    "CREATE TABLE run_steps (run_id TEXT NOT NULL, position INTEGER NOT NULL, step_id TEXT NOT NULL,"
    " doc TEXT NOT NULL, PRIMARY KEY (run_id, step_id))",
    # Each actor's latest run, and latest finished run: what the Home tab and "failing now" read.
    "CREATE TABLE latest_runs (actor TEXT PRIMARY KEY, run_id TEXT NOT NULL, started_at TEXT NOT NULL,"
    " seq {bigint} NOT NULL, finished_run_id TEXT, finished_started_at TEXT, finished_seq {bigint},"
    " finished_outcome TEXT)",
)

_V3_INDEXES = _sql(
    "CREATE INDEX runs_actor_started ON runs (actor, started_at, seq)",
    "CREATE INDEX runs_started ON runs (started_at, seq)",
    "CREATE INDEX runs_live ON runs (owner_host, owner_pid) WHERE outcome IS NULL AND interrupted = 0",
    "CREATE INDEX runs_notice ON runs (notice_pending) WHERE notice_pending = 1",
    "CREATE INDEX latest_started ON latest_runs (started_at, seq)",
    "CREATE INDEX latest_failing ON latest_runs (finished_outcome, finished_started_at, finished_seq)",
)

_COLUMNS = ("run_id", "actor", "site", "started_at", "finished_at", "duration_ms", "outcome", "cause",
            "confidence", "interrupted", "previous_run_id", "via", "slack_channel", "slack_thread_ts",
            "slack_user")


def _lean_runs(db: Db) -> None:
    """Version 3: move every run into the lean layout; rebuild the latest-run table."""
    _V3_TABLES(db)
    tie = "rowid" if db.dialect is Dialect.SQLITE else "run_id"
    rows = db.execute(f"SELECT {', '.join(_COLUMNS)}, run_json FROM runs ORDER BY started_at, {tie}").fetchall()
    latest: dict[str, tuple[str, str, int]] = {}
    finished: dict[str, tuple[str, str, int, str]] = {}
    insert = (f"INSERT INTO runs_v3 ({', '.join(_COLUMNS)}, doc) VALUES ({', '.join('?' * (len(_COLUMNS) + 1))})"
              " RETURNING seq")
    for row in rows:
        run = Run.from_dict(json.loads(row[-1]))
        values = dict(zip(_COLUMNS, row[:-1], strict=True)) | run_columns(run)
        # the whole document for now: version 5 moves the steps apart
        seq = db.execute(insert, [*(values[c] for c in _COLUMNS), encode_doc(run.to_dict())]).fetchone()[0]
        latest[run.actor] = (run.run_id, values["started_at"], seq)
        if run.outcome is not None:
            finished[run.actor] = (run.run_id, values["started_at"], seq, run.outcome.value)
    for actor, (run_id, started_at, seq) in latest.items():
        done = finished.get(actor, (None, None, None, None))
        db.execute("INSERT INTO latest_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   [actor, run_id, started_at, seq, *done])
    db.execute("DROP TABLE steps")
    db.execute("DROP TABLE runs")
    db.execute("ALTER TABLE runs_v3 RENAME TO runs")
    _V3_INDEXES(db)


_V4 = _sql(
    # One Slack write pace per channel for every process (pace.py); stamp in epoch seconds.
    "CREATE TABLE channel_pace (channel TEXT PRIMARY KEY, tokens DOUBLE PRECISION NOT NULL,"
    " stamp DOUBLE PRECISION NOT NULL)",
)


def _steps_apart(db: Db) -> None:
    """Version 5: `runs.steps_doc` holds the steps of a run that ended; `runs.doc` the rest."""
    db.execute("ALTER TABLE runs ADD COLUMN steps_doc {blob}".format(**SQL_TYPES[db.dialect]))
    for run_id, doc, ended in db.execute(
            "SELECT run_id, doc, outcome IS NOT NULL OR interrupted = 1 FROM runs").fetchall():
        document = decode_doc(doc)
        if ended or document["steps"]:  # a run going on keeps its steps in run_steps until it ends
            run = Run.from_dict(document)
            db.execute("UPDATE runs SET doc = ?, steps_doc = ? WHERE run_id = ?",
                       [run_head(run), run_steps(run), run_id])


_V6 = _sql(
    # Site facts that do not change, kept between runs (site_facts.py); read_at in epoch seconds.
    "CREATE TABLE site_facts (kind TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,"
    " read_at DOUBLE PRECISION NOT NULL, PRIMARY KEY (kind, key))",
)

_V7 = _sql(
    # Watches (watches.py): what `serve` checks again and again, and what it last said about each.
    "CREATE TABLE watches (id TEXT PRIMARY KEY, actor TEXT NOT NULL, endpoint TEXT, space TEXT,"
    " every_s INTEGER NOT NULL, channel TEXT, created_by TEXT NOT NULL, created_at TEXT NOT NULL,"
    " next_due DOUBLE PRECISION NOT NULL, lease_owner TEXT, lease_until DOUBLE PRECISION, last_run_id TEXT,"
    " last_checked_at TEXT, verdict TEXT, trouble TEXT, warned TEXT NOT NULL DEFAULT '[]')",
    "CREATE INDEX watches_due ON watches (next_due)",
)


_SEEN_REQUESTS = _sql(
    # Signed Slack requests already taken, claimed by digest (bot/store/seen.py); sent_at in epoch seconds.
    "CREATE TABLE seen_requests (digest TEXT PRIMARY KEY, sent_at DOUBLE PRECISION NOT NULL)",
    "CREATE INDEX seen_requests_sent_at ON seen_requests (sent_at)",
)


def _identities(db: Db) -> None:
    """Version 9: each run's account (the resolved account id, so an email and an account id meet)
    and question (endpoint, space, rule action, credential kind), for per-question timelines."""
    db.execute("ALTER TABLE runs ADD COLUMN account TEXT")
    db.execute("ALTER TABLE runs ADD COLUMN question TEXT")
    for run_id, doc, steps in db.execute("SELECT run_id, doc, steps_doc FROM runs").fetchall():
        step_docs = () if steps is not None else [row[0] for row in db.execute(
            "SELECT doc FROM run_steps WHERE run_id = ? ORDER BY position", [run_id]).fetchall()]
        columns = identity_columns(load_run(doc, steps, step_docs))
        db.execute("UPDATE runs SET account = ?, question = ? WHERE run_id = ?",
                   [columns["account"], columns["question"], run_id])
    db.execute("CREATE INDEX runs_account ON runs (account, started_at, seq)")


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "runs and steps", _V1),
    Migration(2, "refusals", _V2),
    Migration(3, "lean runs: one compressed document, owners and leases, latest run per actor", _lean_runs),
    Migration(4, "shared Slack write pace per channel", _V4),
    Migration(5, "steps apart from the rest of the run document", _steps_apart),
    Migration(6, "site facts kept between runs", _V6),
    Migration(7, "watches", _V7),
    Migration(8, "signed Slack requests already taken (replays are dropped)", _SEEN_REQUESTS),
    Migration(9, "each run's account and question, for per-question timelines", _identities),
    Migration(10, "named leases: one token sweep at a time across processes", _sql(
        "CREATE TABLE leases (name TEXT PRIMARY KEY, owner TEXT NOT NULL, holder TEXT NOT NULL,"
        " until_s DOUBLE PRECISION NOT NULL)")),
)


def migrate(db: Db, migrations: Iterable[Migration] = MIGRATIONS) -> builtins.list[int]:
    """Apply the pending migrations in version order; return the versions applied now.

    Each step runs in one transaction together with its `_migrations` row (holding the schema
    lock, so processes starting together apply it once), so a failing step leaves no trace
    and stays pending. Re-running is a no-op and writes nothing.
    """
    steps = sorted(migrations, key=lambda m: m.version)
    try:
        if not _pending(db, steps):
            return []  # up to date: nothing written (a read-only history stays readable)
    except db.errors:
        pass  # a new database (no _migrations yet), or a broken one: the transaction below tells
    with db.transaction():
        db.lock_schema()
        db.execute("CREATE TABLE IF NOT EXISTS _migrations (version INTEGER PRIMARY KEY, name TEXT, applied_at TEXT)")
    applied = []
    for step in steps:
        with db.transaction():
            db.lock_schema()
            if step not in _pending(db, [step]):
                continue
            step.apply(db)
            db.execute("INSERT INTO _migrations (version, name, applied_at) VALUES (?, ?, ?)",
                       [step.version, step.name, iso(utcnow())])
        applied.append(step.version)
    return applied


def _pending(db: Db, steps: builtins.list[Migration]) -> builtins.list[Migration]:
    done = {row[0] for row in db.execute("SELECT version FROM _migrations").fetchall()}
    return [step for step in steps if step.version not in done]
