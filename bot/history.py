"""The SQLite history of runs: schema and migrations, saving and reading runs, refusals.

One `runs` row per run holds indexed columns (actor, started_at, outcome, cause, ...) plus the
full `Run.to_dict()` JSON, so `show --json` reads back exactly what `check --json` printed.
`steps` mirrors each run's step list for queries. `refusals` records Slack requests the
access guard turned away.

Nothing secret is stored: the store writes only what `Run.to_dict()` gives (evidence is
redacted where it is built) and the origin ids (via, Slack channel, thread and user). There is
no column, argument or key through which a token could reach the file.

sqlite-utils is synchronous; each save is one small transaction, made from the one thread
that owns the connection (the event loop).
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlite_utils import Database
from sqlite_utils.db import NotFoundError, Table

from bot.errors import NotFound
from bot.model import CauseCode, Outcome, Run, iso, utcnow
from bot.render.markdown import scrub


class Via(StrEnum):
    """Where a run was started from."""

    CLI = "cli"
    SLACK = "slack"
    DEMO = "demo"


ORIGIN_KEYS = ("via", "slack_channel", "slack_thread_ts", "slack_user")
_REFUSAL_TEXT_LIMIT = 500


@dataclass(frozen=True, slots=True)
class Change:
    """A period of consecutive runs of one actor with the same (outcome, cause)."""

    since: datetime  # started_at of the first run of the period
    until: datetime | None  # started_at of the first run of the next period; None = still so
    outcome: Outcome
    cause: CauseCode
    runs: int
    first_run_id: str
    last_run_id: str


@dataclass(frozen=True, slots=True)
class Refusal:
    """A Slack request the access guard refused."""

    id: int
    at: datetime
    slack_user: str
    slack_channel: str
    text: str
    reason: str


# --- schema ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema step; applied once, in a transaction with its `_migrations` record."""

    version: int
    name: str
    apply: Callable[[Database], None]


def _create_runs_and_steps(db: Database) -> None:
    db["runs"].create(
        {
            "run_id": str,
            "actor": str,
            "site": str,
            "started_at": str,
            "finished_at": str,
            "duration_ms": int,
            "outcome": str,
            "cause": str,
            "confidence": str,
            "interrupted": int,
            "previous_run_id": str,
            "via": str,
            "slack_channel": str,
            "slack_thread_ts": str,
            "slack_user": str,
            "run_json": str,
        },
        pk="run_id",
        not_null={"actor", "site", "started_at", "interrupted", "run_json"},
        defaults={"interrupted": 0},
        if_not_exists=True,
    )
    runs = _table(db, "runs")
    runs.create_index(["actor", "started_at"], if_not_exists=True)
    for column in ("started_at", "outcome", "cause"):
        runs.create_index([column], if_not_exists=True)
    db["steps"].create(
        {"run_id": str, "position": int, "step_id": str, "status": str, "summary": str, "duration_ms": int},
        pk=("run_id", "step_id"),
        foreign_keys=[("run_id", "runs", "run_id")],
        if_not_exists=True,
    )
    _table(db, "steps").create_index(["run_id"], if_not_exists=True)


def _create_refusals(db: Database) -> None:
    db["refusals"].create(
        {"id": int, "at": str, "slack_user": str, "slack_channel": str, "text": str, "reason": str},
        pk="id",
        if_not_exists=True,
    )


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "runs and steps", _create_runs_and_steps),
    Migration(2, "refusals", _create_refusals),
)


def migrate(db: Database, migrations: Iterable[Migration] = MIGRATIONS) -> builtins.list[int]:
    """Apply the pending migrations in version order; return the versions applied now.

    Each step runs in `db.atomic()` together with its `_migrations` row, so a failing step
    leaves no trace and stays pending. Re-running is a no-op.
    """
    db["_migrations"].create(
        {"version": int, "name": str, "applied_at": str}, pk="version", if_not_exists=True
    )
    done = {row["version"] for row in _table(db, "_migrations").rows}
    applied = []
    for step in sorted(migrations, key=lambda m: m.version):
        if step.version in done:
            continue
        with db.atomic():
            step.apply(db)
            _table(db, "_migrations").insert(
                {"version": step.version, "name": step.name, "applied_at": iso(utcnow())}
            )
        applied.append(step.version)
    return applied


# --- the store ------------------------------------------------------------------------------


class HistoryStore:
    """Runs, their steps and Slack refusals in one SQLite database.

    Use from one thread: the connection belongs to the thread that opened it.
    """

    def __init__(self, db: Database) -> None:
        """Wrap `db` and bring its schema up to date (see `MIGRATIONS`)."""
        self._db = db
        migrate(db)

    @classmethod
    def open(cls, path: str | Path) -> HistoryStore:
        """Open (creating the file and its folder if needed) a history file in WAL mode."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        db = Database(path)
        db.execute("PRAGMA busy_timeout = 5000")  # a CLI run and the bot may write at once
        db.enable_wal()
        return cls(db)

    @property
    def db(self) -> Database:
        return self._db

    def close(self) -> None:
        self._db.close()

    def save(self, run: Run, *, origin: Mapping[str, str] | None = None) -> None:
        """Insert or update `run` and replace its steps, in one transaction.

        Origin ids (`ORIGIN_KEYS`) given once are kept when a later save passes none.
        :raises ValueError: for an origin key outside `ORIGIN_KEYS` or an unknown `via`.
        """
        record = _run_record(run) | _origin_record(origin or {})
        with self._db.atomic():
            _table(self._db, "runs").upsert(record, pk="run_id")
            steps = _table(self._db, "steps")
            steps.delete_where("run_id = ?", [run.run_id])
            steps.insert_all(_step_records(run), pk=("run_id", "step_id"))

    def get(self, run_id: str) -> Run:
        """The run with this id. :raises NotFound: when history holds no such run."""
        return _to_run(self._row(run_id))

    def origin(self, run_id: str) -> dict[str, str | None]:
        """Every `ORIGIN_KEYS` key of the run (None where unset). :raises NotFound:"""
        row = self._row(run_id)
        return {key: row[key] for key in ORIGIN_KEYS}

    def set_origin(self, run_id: str, **origin: str) -> None:
        """Set origin ids of a saved run. :raises NotFound: :raises ValueError: unknown key."""
        record = _origin_record(origin)
        self._row(run_id)
        if record:
            with self._db.atomic():
                _table(self._db, "runs").update(run_id, record)

    def list(self, actor: str | None = None, limit: int = 20) -> builtins.list[Run]:
        """The newest `limit` runs, of one actor when given, newest first."""
        where, params = ("WHERE actor = ?", [actor]) if actor is not None else ("", [])
        rows = self._db.execute(
            f"SELECT run_json FROM runs {where} ORDER BY started_at DESC, rowid DESC LIMIT ?",
            [*params, max(limit, 0)],
        ).fetchall()
        return [_to_run({"run_json": row[0]}) for row in rows]

    def latest(self, limit: int = 20) -> builtins.list[Run]:
        """Each actor's most recent run (finished or not), newest first."""
        return self._latest_per_actor(limit, finished_only=False, outcome=None)

    def failing_accounts(self, limit: int = 20) -> builtins.list[Run]:
        """Actors whose latest finished run found a problem: those runs, newest first."""
        return self._latest_per_actor(limit, finished_only=True, outcome=Outcome.PROBLEM)

    def timeline(self, actor: str, limit: int = 200) -> builtins.list[Change]:
        """The actor's last `limit` finished runs collapsed into periods, oldest first."""
        rows = self._db.execute(
            "SELECT run_id, started_at, outcome, cause FROM runs "
            "WHERE actor = ? AND outcome IS NOT NULL AND cause IS NOT NULL "
            "ORDER BY started_at DESC, rowid DESC LIMIT ?",
            [actor, max(limit, 0)],
        ).fetchall()
        return _collapse(reversed(rows))

    def mark_interrupted(self) -> builtins.list[Run]:
        """Mark every unfinished, not yet interrupted run as interrupted; return those runs.

        Called at start-up: a run without an outcome was cut short by a stop or crash.
        The outcome stays NULL (nothing was decided).
        """
        rows = self._db.execute(
            "SELECT run_json FROM runs WHERE outcome IS NULL AND interrupted = 0 ORDER BY started_at, rowid"
        ).fetchall()
        runs = [_to_run({"run_json": row[0]}) for row in rows]
        with self._db.atomic():
            for run in runs:
                run.interrupted = True
                _table(self._db, "runs").update(run.run_id, {"interrupted": 1, "run_json": _dumps(run)})
        return runs

    def record_refusal(self, slack_user: str, slack_channel: str, text: str, reason: str) -> None:
        """Record a refused Slack request. The text is scrubbed of anything token-like."""
        with self._db.atomic():
            _table(self._db, "refusals").insert(
                {
                    "at": iso(utcnow()),
                    "slack_user": slack_user,
                    "slack_channel": slack_channel,
                    "text": scrub(text)[:_REFUSAL_TEXT_LIMIT],
                    "reason": reason,
                }
            )

    def refusals(self, limit: int = 20) -> builtins.list[Refusal]:
        """The newest `limit` refusals, newest first."""
        rows = _table(self._db, "refusals").rows_where(order_by="id DESC", limit=max(limit, 0))
        return [Refusal(**(row | {"at": _parse_time(row["at"])})) for row in rows]

    # --- private ---

    def _row(self, run_id: str) -> dict[str, Any]:
        try:
            return _table(self._db, "runs").get(run_id)
        except NotFoundError:
            raise NotFound(
                f"no run {run_id!r} in history (list runs with `confluence-check history`)"
            ) from None

    def _latest_per_actor(
        self, limit: int, *, finished_only: bool, outcome: Outcome | None
    ) -> builtins.list[Run]:
        rows = self._db.execute(
            "SELECT run_json FROM ("
            "  SELECT run_json, outcome, started_at, rowid AS rid, ROW_NUMBER() OVER ("
            "    PARTITION BY actor ORDER BY started_at DESC, rowid DESC) AS position"
            "  FROM runs WHERE (:finished_only = 0 OR outcome IS NOT NULL)"
            ") WHERE position = 1 AND (:outcome IS NULL OR outcome = :outcome)"
            " ORDER BY started_at DESC, rid DESC LIMIT :limit",
            {
                "finished_only": int(finished_only),
                "outcome": outcome.value if outcome else None,
                "limit": max(limit, 0),
            },
        ).fetchall()
        return [_to_run({"run_json": row[0]}) for row in rows]


# --- records --------------------------------------------------------------------------------


def _table(db: Database, name: str) -> Table:
    table = db[name]
    assert isinstance(table, Table)  # the store never names a view
    return table


def _dumps(run: Run) -> str:
    return json.dumps(run.to_dict(), ensure_ascii=False)


def _to_run(row: Mapping[str, Any]) -> Run:
    return Run.from_dict(json.loads(row["run_json"]))


def _parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _run_record(run: Run) -> dict[str, Any]:
    verdict = run.verdict
    finished_at = None
    if verdict is not None and run.duration_ms is not None:
        finished_at = iso(run.started_at + timedelta(milliseconds=run.duration_ms))
    return {
        "run_id": run.run_id,
        "actor": run.actor,
        "site": run.site,
        "started_at": iso(run.started_at),
        "finished_at": finished_at,
        "duration_ms": run.duration_ms,
        "outcome": run.outcome.value if run.outcome else None,
        "cause": verdict.cause.value if verdict else None,
        "confidence": verdict.confidence.value if verdict else None,
        "interrupted": int(run.interrupted),
        "previous_run_id": run.previous_run_id,
        "run_json": _dumps(run),
    }


def _origin_record(origin: Mapping[str, str | None]) -> dict[str, str]:
    unknown = sorted(set(origin) - set(ORIGIN_KEYS))
    if unknown:
        raise ValueError(f"unknown origin keys {unknown}; the store keeps only {list(ORIGIN_KEYS)}")
    record = {key: str(value) for key, value in origin.items() if value is not None}
    if "via" in record:
        record["via"] = Via(record["via"]).value
    return record


def _step_records(run: Run) -> builtins.list[dict[str, Any]]:
    return [
        {
            "run_id": run.run_id,
            "position": position,
            "step_id": step.id,
            "status": step.status.value,
            "summary": step.summary,
            "duration_ms": step.duration_ms,
        }
        for position, step in enumerate(run.steps)
    ]


def _collapse(rows: Iterable[tuple[str, str, str, str]]) -> builtins.list[Change]:
    changes: builtins.list[Change] = []
    for run_id, started_at, outcome, cause in rows:
        at = _parse_time(started_at)
        last = changes[-1] if changes else None
        if last and (last.outcome.value, last.cause.value) == (outcome, cause):
            changes[-1] = Change(
                last.since, None, last.outcome, last.cause, last.runs + 1, last.first_run_id, run_id
            )
            continue
        if last:
            changes[-1] = Change(
                last.since, at, last.outcome, last.cause, last.runs, last.first_run_id, last.last_run_id
            )
        changes.append(Change(at, None, Outcome(outcome), CauseCode(cause), 1, run_id, run_id))
    return changes
