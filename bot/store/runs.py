"""`HistoryStore`: saving and reading runs, their owners and leases, and Slack refusals.

Synchronous and confined to the thread that opened it; the bot and the CLI reach it through
`AsyncHistory` (`aio.py`), which runs every call on one worker thread, off the event loop.

Nothing secret is stored: the store writes only what `Run.to_dict()` gives (evidence is
redacted where it is built), origin ids (via, Slack channel, thread and user) and the owner
(host, process id, nonce). There is no column, argument or key through which a token could
reach the database.
"""

from __future__ import annotations

import builtins
import contextlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.errors import NotFound
from bot.model import CauseCode, Outcome, Run, StepResult, iso, utcnow
from bot.redact import redact_text
from bot.store import records
from bot.store.db import Db, Dialect, SqliteDb, connect
from bot.store.owner import Owner, owner_gone, this_process
from bot.store.records import (
    BOT_CAUSES,
    ORIGIN_KEYS,
    identity_columns,
    load_run,
    looks_like_account_id,
    origin_columns,
    parse_time,
    run_columns,
    run_head,
    run_steps,
)
from bot.store.schema import migrate

if TYPE_CHECKING:
    from bot.config import Settings

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
class Timeline:
    """One question asked about one account on one site, its answers collapsed into periods."""

    site: str
    question: str
    changes: tuple[Change, ...]


@dataclass(frozen=True, slots=True)
class AccountHistory:
    """What happened to one account: a timeline per (site, question), the most recently asked
    first; and, apart, the bot's own failures met while checking it (its refused credentials, a
    wrong site), which say nothing about the account."""

    identities: tuple[str, ...]  # the account id(s) and email(s) the runs were filed under
    timelines: tuple[Timeline, ...]
    bot: tuple[Change, ...]


@dataclass(frozen=True, slots=True)
class Refusal:
    """A Slack request the access guard refused."""

    id: int
    at: datetime
    slack_user: str
    slack_channel: str
    text: str
    reason: str


class HistoryStore:
    """Runs, their steps and Slack refusals in one database (see `records.py` for the layout)."""

    def __init__(self, db: Db | None = None, *, owner: Owner | None = None, write: bool = True) -> None:
        """Wrap `db` (default: a new in-memory SQLite) and bring its schema up to date; with `write`
        (the default) prove it takes writes now rather than at the end of the first run.

        :raises ConfigError: when the database cannot be read (or, with `write`, written).
        """
        self._db = db if db is not None else SqliteDb.memory()
        self.owner = owner or this_process()
        try:
            migrate(self._db)
            if write:
                self._probe_write()
        except self._db.errors as exc:
            self._db.close()
            raise self._db.problem(exc) from None

    @classmethod
    def open(cls, database_path: str | Path, database_url: str | None = None, *,
             owner: Owner | None = None, write: bool = True) -> HistoryStore:
        """Open the history (PostgreSQL when `database_url`, else the SQLite file, created with its
        folder if needed). :raises ConfigError: naming DATABASE_PATH or DATABASE_URL."""
        if not database_url:
            path = Path(database_path)
            with contextlib.suppress(OSError):  # connect() says what is wrong with the folder
                path.parent.mkdir(parents=True, exist_ok=True)
        return cls(connect(database_path, database_url), owner=owner, write=write)

    @classmethod
    def for_settings(cls, settings: Settings, *, write: bool = True) -> HistoryStore:
        """The history the settings name (DATABASE_URL, else DATABASE_PATH), with the runs of gone
        processes marked interrupted: every command starts with this. Without `write`, a history
        that cannot be written (a read-only file) is still opened for reading, unswept.
        :raises ConfigError:"""
        url = settings.database_url.reveal() if settings.database_url is not None else None
        store = cls.open(settings.database_path, url, write=write)
        try:
            store.mark_interrupted()
        except store.db.errors as exc:
            if write:
                store.close()
                raise store.db.problem(exc) from None
        return store

    @property
    def db(self) -> Db:
        return self._db

    def close(self) -> None:
        self._db.close()

    # --- writing runs ---

    def save(self, run: Run, *, origin: Mapping[str, str] | None = None) -> None:
        """Insert or update `run` whole (its steps replace any stored ones) in one transaction.

        A run without a verdict is stored as going on, owned by this process with a fresh lease.
        Origin ids (`ORIGIN_KEYS`) given once are kept when a later save passes none.
        :raises ValueError: for an origin key outside `ORIGIN_KEYS` or an unknown `via`.
        """
        extra = origin_columns(origin or {})
        going_on = run.verdict is None and not run.interrupted
        columns = run_columns(run) | identity_columns(run) | extra
        if going_on:
            columns |= self._ownership()
        else:
            columns["lease_until"] = None
            if run.verdict is not None:
                columns["notice_pending"] = 0  # finished after all: nothing to announce
        columns["doc"] = run_head(run)
        columns["steps_doc"] = None if going_on else run_steps(run)
        names = list(columns)
        keep = set(ORIGIN_KEYS) - set(extra)  # origin ids not given now keep their stored value
        updates = ", ".join(f"{n} = excluded.{n}" for n in names if n not in keep and n != "run_id")
        with self._db.transaction():
            seq = self._db.execute(
                f"INSERT INTO runs ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
                f" ON CONFLICT (run_id) DO UPDATE SET {updates} RETURNING seq",
                [columns[n] for n in names]).fetchone()[0]
            self._db.execute("DELETE FROM run_steps WHERE run_id = ?", [run.run_id])
            if going_on:
                for position, step in enumerate(run.steps):
                    self._put_step(run.run_id, position, step)
            self._note_latest(run, seq)

    def save_step(self, run_id: str, position: int, step: StepResult) -> None:
        """Store one finished step of a run that goes on (`position`: its declared place)."""
        self.save_steps_of({run_id: [(position, step)]})

    def save_steps_of(self, steps_by_run: Mapping[str, Iterable[tuple[int, StepResult]]]) -> None:
        """Store finished steps of several runs that go on, (position, step) each, in one transaction."""
        with self._db.transaction():
            for run_id, steps in steps_by_run.items():
                for position, step in steps:
                    self._put_step(run_id, position, step)

    def interrupt(self, run: Run) -> bool:
        """Store `run` (with the steps it finished) as interrupted, unless it has meanwhile been
        stored finished or interrupted. Returns whether it was marked now."""
        run.interrupted = True
        with self._db.transaction():
            return self._mark_interrupted(run)

    def renew_leases(self) -> int:
        """Extend the lease of every run this process still owns; the number renewed."""
        me = self.owner
        with self._db.transaction():
            return self._db.execute(
                "UPDATE runs SET lease_until = ? WHERE owner_host = ? AND owner_pid = ? AND owner_nonce = ?"
                " AND outcome IS NULL AND interrupted = 0",
                [iso(me.lease_until(utcnow())), me.host, me.pid, me.nonce]).rowcount

    def mark_interrupted(self) -> builtins.list[Run]:
        """Mark every run whose owner is gone (see `owner.py`) as interrupted; return those runs.

        Called at the start of every command. A live process's runs, this one's or a replica's,
        are left alone. The outcome stays NULL (nothing was decided); the steps that finished stay.
        """
        now = utcnow()
        rows = self._db.execute(
            "SELECT run_id, owner_host, owner_pid, owner_nonce, lease_until FROM runs"
            " WHERE outcome IS NULL AND interrupted = 0 ORDER BY started_at, seq").fetchall()
        dead = [row[0] for row in rows
                if owner_gone(row[1], row[2], row[3], parse_time(row[4]) if row[4] else None, now=now, me=self.owner)]
        marked = []
        for run_id in dead:
            with self._db.transaction():
                run = self._load(run_id)
                run.interrupted = True
                if self._mark_interrupted(run):
                    marked.append(run)
        return marked

    def pending_notices(self) -> builtins.list[Run]:
        """Interrupted Slack runs whose thread has not been told yet, oldest first."""
        rows = self._db.execute(
            "SELECT run_id FROM runs WHERE notice_pending = 1 ORDER BY started_at, seq").fetchall()
        return [self.get(row[0]) for row in rows]

    def claim_notice(self, run_id: str) -> bool:
        """Take the job of telling `run_id`'s thread; False when another process took it."""
        with self._db.transaction():
            return self._db.execute("UPDATE runs SET notice_pending = 0 WHERE run_id = ? AND notice_pending = 1",
                                    [run_id]).rowcount == 1

    # --- reading runs ---

    def get(self, run_id: str) -> Run:
        """The run with this id. :raises NotFound: when history holds no such run."""
        return self._load(run_id)

    def origin(self, run_id: str) -> dict[str, str | None]:
        """Every `ORIGIN_KEYS` key of the run (None where unset). :raises NotFound:"""
        row = self._db.execute(f"SELECT {', '.join(ORIGIN_KEYS)} FROM runs WHERE run_id = ?", [run_id]).fetchone()
        if row is None:
            raise _not_found(run_id)
        return dict(zip(ORIGIN_KEYS, row, strict=True))

    def origins(self, run_ids: Sequence[str]) -> dict[str, dict[str, str | None]]:
        """`origin()` of several runs at once (unknown ids are left out)."""
        if not run_ids:
            return {}
        rows = self._db.execute(
            f"SELECT run_id, {', '.join(ORIGIN_KEYS)} FROM runs WHERE run_id IN ({', '.join('?' * len(run_ids))})",
            list(run_ids)).fetchall()
        return {row[0]: dict(zip(ORIGIN_KEYS, row[1:], strict=True)) for row in rows}

    def set_origin(self, run_id: str, **origin: str) -> None:
        """Set origin ids of a saved run. :raises NotFound: :raises ValueError: unknown key."""
        record = origin_columns(origin)
        self.origin(run_id)
        if record:
            with self._db.transaction():
                self._db.execute(f"UPDATE runs SET {', '.join(f'{k} = ?' for k in record)} WHERE run_id = ?",
                                 [*record.values(), run_id])

    def list(self, actor: str | None = None, limit: int = 20, *, steps: bool = True) -> builtins.list[Run]:
        """The newest `limit` runs, of one actor when given (under any of its `identities`), newest
        first (without their steps unless `steps`: what a list shows needs none, and leaving them
        is most of the cost)."""
        where, params = "", []
        if actor is not None:
            keys = sorted({actor, *self.identities(actor)})
            where, params = f"WHERE seq IN {_filed_under(keys)}", [*keys, *keys]
        rows = self._db.execute(
            f"SELECT r.run_id, r.doc, {_steps(steps)} FROM (SELECT seq, started_at FROM runs {where}"
            " ORDER BY started_at DESC, seq DESC LIMIT ?) n JOIN runs r ON r.seq = n.seq"
            " ORDER BY n.started_at DESC, n.seq DESC", [*params, max(limit, 0)]).fetchall()
        return self._runs(rows) if steps else self._heads(rows)

    def latest(self, limit: int = 20, *, steps: bool = True) -> builtins.list[Run]:
        """Each actor's most recent run (finished or not), newest first (see `list` for `steps`)."""
        # the newest `limit` rows by index first, then their documents (never sort documents)
        rows = self._db.execute(
            f"SELECT r.run_id, r.doc, {_steps(steps)} FROM (SELECT seq, started_at FROM latest_runs"
            " ORDER BY started_at DESC, seq DESC LIMIT ?) l JOIN runs r ON r.seq = l.seq"
            " ORDER BY l.started_at DESC, l.seq DESC", [max(limit, 0)]).fetchall()
        return self._runs(rows) if steps else self._heads(rows)

    def failing_accounts(self, limit: int = 20, *, steps: bool = True) -> builtins.list[Run]:
        """Actors whose latest finished run found a problem: those runs, newest first (see `list`)."""
        rows = self._db.execute(
            f"SELECT r.run_id, r.doc, {_steps(steps)} FROM (SELECT finished_seq, finished_started_at"
            " FROM latest_runs WHERE finished_outcome = ? ORDER BY finished_started_at DESC, finished_seq DESC"
            " LIMIT ?) l JOIN runs r ON r.seq = l.finished_seq"
            " ORDER BY l.finished_started_at DESC, l.finished_seq DESC",
            [Outcome.PROBLEM.value, max(limit, 0)]).fetchall()
        return self._runs(rows) if steps else self._heads(rows)

    def timeline(self, actor: str, limit: int = 200) -> builtins.list[Change]:
        """The periods of the question most recently asked about the actor (see `account_history`)."""
        found = self.account_history(actor, limit)
        return list(found.timelines[0].changes) if found.timelines else []

    def identities(self, actor: str) -> builtins.list[str]:
        """Every key the actor's runs are filed under: the account id(s) an email resolved to, and
        the emails that resolved to an account id (so `check EMAIL` and `rule` runs meet)."""
        key = actor.lower() if "@" in actor else actor
        found = {key}
        if "@" in key:
            rows = self._db.execute("SELECT DISTINCT account FROM runs WHERE actor IN (?, ?)", [actor, key]).fetchall()
        else:
            rows = self._db.execute("SELECT DISTINCT lower(actor) FROM runs WHERE account = ?", [key]).fetchall()
        found |= {row[0] for row in rows if row[0]}
        accounts = sorted(k for k in found if looks_like_account_id(k))
        if accounts:  # an email that never resolved itself (the lookup failed) still belongs to the account
            rows = self._db.execute(
                f"SELECT DISTINCT lower(actor) FROM runs WHERE account IN ({', '.join('?' * len(accounts))})",
                accounts).fetchall()
            found |= {row[0] for row in rows if row[0] and "@" in row[0]}
        return sorted(found)

    def account_history(self, actor: str, limit: int = 200) -> AccountHistory:
        """The actor's last `limit` finished runs: per (site, question) periods, and the bot's own failures apart."""
        keys = self.identities(actor)
        rows = self._db.execute(
            f"SELECT run_id, started_at, outcome, cause, site, question FROM runs"
            f" WHERE seq IN {_filed_under(keys)} AND outcome IS NOT NULL"
            " ORDER BY started_at DESC, seq DESC LIMIT ?", [*keys, *keys, max(limit, 0)]).fetchall()
        rows.reverse()
        bot_causes = {cause.value for cause in BOT_CAUSES}
        bot = [row[:4] for row in rows if row[3] in bot_causes]
        asked: dict[tuple[str, str], builtins.list[tuple[str, str, str, str]]] = {}
        latest: dict[tuple[str, str], int] = {}
        for position, row in enumerate(rows):
            if row[3] not in bot_causes:
                asked.setdefault((row[4], row[5] or ""), []).append(row[:4])
                latest[(row[4], row[5] or "")] = position
        order = sorted(asked, key=lambda key: latest[key], reverse=True)  # the question asked last first
        timelines = [Timeline(site, question, tuple(_collapse(asked[(site, question)]))) for site, question in order]
        return AccountHistory(tuple(keys), tuple(timelines), tuple(_collapse(bot)))

    # --- refusals ---

    def record_refusal(self, slack_user: str, slack_channel: str, text: str, reason: str) -> None:
        """Record a refused Slack request. The text is scrubbed of anything token-like."""
        with self._db.transaction():
            self._db.execute(
                "INSERT INTO refusals (at, slack_user, slack_channel, text, reason) VALUES (?, ?, ?, ?, ?)",
                [iso(utcnow()), slack_user, slack_channel, redact_text(text)[:_REFUSAL_TEXT_LIMIT], reason])

    def refusals(self, limit: int = 20) -> builtins.list[Refusal]:
        """The newest `limit` refusals, newest first."""
        rows = self._db.execute(
            "SELECT id, at, slack_user, slack_channel, text, reason FROM refusals ORDER BY id DESC LIMIT ?",
            [max(limit, 0)]).fetchall()
        return [Refusal(row[0], parse_time(row[1]), *row[2:]) for row in rows]

    # --- private ---

    def _probe_write(self) -> None:
        """Prove the database takes writes now, not at the end of the first run."""
        try:
            with self._db.transaction():
                self._db.execute("INSERT INTO _migrations (version, name, applied_at) VALUES (-1, 'probe', '')")
                raise _ProbeDone
        except _ProbeDone:
            pass

    def _ownership(self) -> dict[str, Any]:
        me = self.owner
        return {"owner_host": me.host, "owner_pid": me.pid, "owner_nonce": me.nonce,
                "lease_until": iso(me.lease_until(utcnow()))}

    def _put_step(self, run_id: str, position: int, step: StepResult) -> None:
        self._db.execute(
            "INSERT INTO run_steps (run_id, position, step_id, doc) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (run_id, step_id) DO UPDATE SET position = excluded.position, doc = excluded.doc",
            [run_id, position, step.id, records.step_document(step)])

    def _mark_interrupted(self, run: Run) -> bool:
        """Inside a transaction: fold the run's steps into its document and flag it interrupted."""
        marked = self._db.execute(
            "UPDATE runs SET interrupted = 1, lease_until = NULL, doc = ?, steps_doc = ?,"
            # a Slack run is announced: in its thread, or privately to its user when it had none yet
            " notice_pending = CASE WHEN slack_channel IS NULL THEN 0 ELSE 1 END"
            " WHERE run_id = ? AND outcome IS NULL AND interrupted = 0",
            [run_head(run), run_steps(run), run.run_id]).rowcount == 1
        if marked:
            self._db.execute("DELETE FROM run_steps WHERE run_id = ?", [run.run_id])
        return marked

    def _note_latest(self, run: Run, seq: int) -> None:
        """Keep `latest_runs` pointing at the actor's newest run (and newest finished run)."""
        started = iso(run.started_at)
        self._db.execute(
            "INSERT INTO latest_runs (actor, run_id, started_at, seq) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (actor) DO UPDATE SET run_id = excluded.run_id, started_at = excluded.started_at,"
            " seq = excluded.seq"
            " WHERE (excluded.started_at, excluded.seq) >= (latest_runs.started_at, latest_runs.seq)",
            [run.actor, run.run_id, started, seq])
        if run.outcome is not None:
            self._db.execute(
                "UPDATE latest_runs SET finished_run_id = ?, finished_started_at = ?, finished_seq = ?,"
                " finished_outcome = ? WHERE actor = ? AND (finished_seq IS NULL"
                " OR (finished_started_at, finished_seq) <= (?, ?))",
                [run.run_id, started, seq, run.outcome.value, run.actor, started, seq])

    def _load(self, run_id: str) -> Run:
        row = self._db.execute("SELECT doc, steps_doc FROM runs WHERE run_id = ?", [run_id]).fetchone()
        if row is None:
            raise _not_found(run_id)
        return load_run(row[0], row[1], self._step_docs(run_id) if row[1] is None else ())

    def _step_docs(self, run_id: str) -> builtins.list[str]:
        rows = self._db.execute("SELECT doc FROM run_steps WHERE run_id = ? ORDER BY position", [run_id]).fetchall()
        return [row[0] for row in rows]

    def _runs(self, rows: Iterable[Any]) -> builtins.list[Run]:
        return [load_run(doc, steps_doc, self._step_docs(run_id) if steps_doc is None else ())
                for run_id, doc, steps_doc in rows]

    def _heads(self, rows: Iterable[Any]) -> builtins.list[Run]:
        return [load_run(doc) for _, doc, _ in rows]


class _ProbeDone(Exception):
    """Rolls the write probe back."""


def _filed_under(keys: Sequence[str]) -> str:
    """A subquery of the runs filed under any of `keys` (as typed, or as the resolved account): one
    indexed lookup each, so an account's few runs are found without walking everyone's (an `OR` of
    the two columns would scan the table in time order). Its parameters: `keys`, twice."""
    marks = ", ".join("?" * len(keys))
    return f"(SELECT seq FROM runs WHERE actor IN ({marks}) UNION SELECT seq FROM runs WHERE account IN ({marks}))"


def _steps(wanted: bool) -> str:
    return "r.steps_doc" if wanted else "NULL"


def _not_found(run_id: str) -> NotFound:
    return NotFound(f"no run {run_id!r} in history (list runs with `confluence-check history`)")


def _collapse(rows: Iterable[tuple[str, str, str, str]]) -> builtins.list[Change]:
    changes: builtins.list[Change] = []
    for run_id, started_at, outcome, cause in rows:
        at = parse_time(started_at)
        last = changes[-1] if changes else None
        if last and (last.outcome.value, last.cause.value) == (outcome, cause):
            changes[-1] = Change(last.since, None, last.outcome, last.cause, last.runs + 1, last.first_run_id, run_id)
            continue
        if last:
            changes[-1] = Change(last.since, at, last.outcome, last.cause, last.runs, last.first_run_id,
                                 last.last_run_id)
        changes.append(Change(at, None, Outcome(outcome), CauseCode(cause), 1, run_id, run_id))
    return changes


__all__ = ["AccountHistory", "Change", "Dialect", "HistoryStore", "Refusal", "Timeline"]
