"""HistoryStore on SQLite and PostgreSQL: round trips, queries, owners and interruption, migrations,
the lean layout, unusable databases, and no secrets stored."""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import Secret, Settings
from bot.errors import ConfigError, NotFound
from bot.model import CauseCode, Outcome, Run, StepResult, StepStatus, iso, utcnow
from bot.render import format_run, format_timeline
from bot.request import ActorSecret, CheckRequest, FailingRequest
from bot.store import MIGRATIONS, Change, HistoryStore, Migration, Owner, SqliteDb, Via, migrate, this_process
from bot.store.db import Db
from bot.store.records import decode_doc
from tests.conftest import Database
from tests.samples import ACTOR, CANARY, T0, gone_owner, sample_run


@pytest.fixture
def store(database: Database) -> Iterator[HistoryStore]:
    opened = database.open()
    yield opened
    opened.close()


def ids(runs: list[Run]) -> list[str]:
    return [run.run_id for run in runs]


def row(db: Db, run_id: str, *columns: str) -> tuple[object, ...]:
    return tuple(db.execute(f"SELECT {', '.join(columns)} FROM runs WHERE run_id = ?", [run_id]).fetchone())


def step_rows(db: Db, run_id: str) -> list[tuple[object, ...]]:
    return [tuple(r) for r in db.execute(
        "SELECT position, step_id FROM run_steps WHERE run_id = ? ORDER BY position", [run_id]).fetchall()]


# --- save / get -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cause", [CauseCode.CREDENTIAL_REJECTED, CauseCode.OK, None], ids=["problem", "ok", "in-progress"]
)
def test_get_returns_what_was_saved(store: HistoryStore, cause: CauseCode | None) -> None:
    run = sample_run("r_1", cause=cause)
    store.save(run)
    assert store.get("r_1").to_dict() == run.to_dict()


def test_get_unknown_run_raises_not_found(store: HistoryStore) -> None:
    with pytest.raises(NotFound, match="r_missing"):
        store.get("r_missing")


def test_saving_again_updates_the_run_and_moves_its_steps_into_its_steps_document(store: HistoryStore) -> None:
    store.save(sample_run("r_1", cause=None, done=2))
    assert step_rows(store.db, "r_1") == [(0, "site.reachable"), (1, "actor.replay")]
    store.save(sample_run("r_1"))
    assert row(store.db, "r_1", "outcome", "cause", "confidence") == ("problem", "credential_rejected", "likely")
    assert row(store.db, "r_1", "finished_at") == ("2026-11-20T10:02:00Z",)  # 840 ms rounds down to the second
    # stored once: the finished run's steps live in its steps document only
    assert step_rows(store.db, "r_1") == []
    [[head, steps]] = store.db.execute("SELECT doc, steps_doc FROM runs WHERE run_id = 'r_1'").fetchall()
    assert decode_doc(head)["steps"] == []
    assert [s["id"] for s in decode_doc(steps)] == ["site.reachable", "actor.replay", "policy.org"]
    assert store.db.execute("SELECT count(*) FROM runs").fetchone()[0] == 1


def test_steps_saved_as_they_finish_come_back_in_declared_order(store: HistoryStore) -> None:
    run = sample_run("r_1", cause=None, done=0)
    store.save(run)
    steps = sample_run("r_1").steps
    store.save_step("r_1", 2, steps[2])  # steps finish in any order; position is their declared place
    store.save_step("r_1", 0, steps[0])
    assert [s.id for s in store.get("r_1").steps] == ["site.reachable", "policy.org"]
    assert [s.id for s in store.list()[0].steps] == ["site.reachable", "policy.org"]
    assert store.list(steps=False)[0].steps == []


def test_in_progress_run_has_no_outcome_and_belongs_to_this_process(store: HistoryStore) -> None:
    store.save(sample_run("r_1", cause=None))
    me = this_process()
    assert row(store.db, "r_1", "outcome", "cause", "finished_at") == (None, None, None)
    assert row(store.db, "r_1", "owner_host", "owner_pid", "owner_nonce") == (me.host, me.pid, me.nonce)
    [lease] = row(store.db, "r_1", "lease_until")
    assert isinstance(lease, str) and lease > iso(utcnow())


# --- origin ---------------------------------------------------------------------------------


def test_origin_given_at_start_survives_a_later_save_without_it(store: HistoryStore) -> None:
    origin = {"via": "slack", "slack_channel": "C1", "slack_thread_ts": "1.2", "slack_user": "U1"}
    store.save(sample_run("r_1", cause=None), origin=origin)
    store.save(sample_run("r_1"))
    assert store.origin("r_1") == origin
    assert store.origins(["r_1", "r_nope"]) == {"r_1": origin}


def test_set_origin_updates_only_the_given_keys(store: HistoryStore) -> None:
    store.save(sample_run("r_1"), origin={"via": Via.CLI})
    store.set_origin("r_1", slack_thread_ts="171.5")
    assert store.origin("r_1") == {"via": "cli", "slack_channel": None, "slack_thread_ts": "171.5", "slack_user": None}


@pytest.mark.parametrize(
    "origin", [{"token": CANARY}, {"via": "carrier-pigeon"}], ids=["unknown-key", "unknown-via"]
)
def test_origin_refuses_anything_but_known_ids(store: HistoryStore, origin: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        store.save(sample_run("r_1"), origin=origin)
    store.save(sample_run("r_1"))
    with pytest.raises(ValueError):
        store.set_origin("r_1", **origin)
    assert store.db.execute("SELECT count(*) FROM runs").fetchone()[0] == 1


def test_origin_of_unknown_run_raises_not_found(store: HistoryStore) -> None:
    with pytest.raises(NotFound):
        store.origin("r_nope")
    with pytest.raises(NotFound):
        store.set_origin("r_nope", via="cli")


# --- queries --------------------------------------------------------------------------------


def test_list_is_newest_first_with_limit_and_actor_filter(store: HistoryStore) -> None:
    for n in range(5):
        actor = ACTOR if n % 2 == 0 else "other@acme.com"
        store.save(sample_run(f"r_{n}", actor=actor, started_at=T0 + timedelta(minutes=n)))
    assert ids(store.list()) == ["r_4", "r_3", "r_2", "r_1", "r_0"]
    assert ids(store.list(limit=2)) == ["r_4", "r_3"]
    assert ids(store.list(ACTOR)) == ["r_4", "r_2", "r_0"]
    assert ids(store.list("other@acme.com", limit=1)) == ["r_3"]
    assert store.list("nobody@acme.com") == []


def test_list_orders_same_second_runs_by_save_order(store: HistoryStore) -> None:
    store.save(sample_run("r_b"))
    store.save(sample_run("r_a"))
    assert ids(store.list()) == ["r_a", "r_b"]


def test_failing_accounts_takes_each_actors_latest_finished_run(store: HistoryStore) -> None:
    at = iter(T0 + timedelta(hours=h) for h in range(10))
    store.save(sample_run("a_old_problem", actor="a@acme.com", started_at=next(at)))
    store.save(sample_run("a_fixed", actor="a@acme.com", started_at=next(at), cause=CauseCode.OK))
    store.save(sample_run("b_ok", actor="b@acme.com", started_at=next(at), cause=CauseCode.OK))
    store.save(sample_run("b_broken", actor="b@acme.com", started_at=next(at), cause=CauseCode.TOKEN_EXPIRED))
    store.save(sample_run("c_broken", actor="c@acme.com", started_at=next(at)))
    store.save(sample_run("c_running", actor="c@acme.com", started_at=next(at), cause=None))
    store.save(sample_run("d_unsure", actor="d@acme.com", started_at=next(at), cause=CauseCode.INCONCLUSIVE))
    assert ids(store.failing_accounts()) == ["c_broken", "b_broken"]
    assert ids(store.failing_accounts(limit=1)) == ["c_broken"]
    assert ids(store.latest()) == ["d_unsure", "c_running", "b_broken", "a_fixed"]
    assert ids(store.latest(limit=2)) == ["d_unsure", "c_running"]


def test_latest_runs_follow_saves_in_any_order(store: HistoryStore) -> None:
    """The latest-run table is kept on save: an older run saved late never displaces a newer one,
    and a running run that then finishes is what "failing now" shows."""
    store.save(sample_run("new", started_at=T0 + timedelta(hours=1), cause=CauseCode.OK))
    store.save(sample_run("old", started_at=T0))  # a problem, but older: not "failing now"
    assert ids(store.latest()) == ["new"] and store.failing_accounts() == []
    store.save(sample_run("newest", started_at=T0 + timedelta(hours=2), cause=None))
    assert ids(store.latest()) == ["newest"] and store.failing_accounts() == []
    store.save(sample_run("newest", started_at=T0 + timedelta(hours=2), cause=CauseCode.TOKEN_EXPIRED))
    assert ids(store.failing_accounts()) == ["newest"]


# --- timeline -------------------------------------------------------------------------------


def test_timeline_collapses_runs_into_periods(store: HistoryStore) -> None:
    day2 = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    for n, minutes in enumerate((0, 28, 58)):
        store.save(sample_run(f"r_fail{n}", started_at=T0 + timedelta(minutes=minutes)))
    store.save(sample_run("r_running", started_at=T0 + timedelta(hours=2), cause=None))  # no outcome: left out
    store.save(sample_run("r_other", actor="other@acme.com", started_at=T0 + timedelta(hours=3)))
    store.save(sample_run("r_fixed", started_at=day2, cause=CauseCode.OK))
    store.save(sample_run("r_still_ok", started_at=day2 + timedelta(hours=1), cause=CauseCode.OK))

    changes = store.timeline(ACTOR)

    assert changes == [
        Change(T0, day2, Outcome.PROBLEM, CauseCode.CREDENTIAL_REJECTED, 3, "r_fail0", "r_fail2"),
        Change(day2, None, Outcome.OK, CauseCode.OK, 2, "r_fixed", "r_still_ok"),
    ]
    text = format_timeline(ACTOR, changes)
    assert "failing since 2026-11-20 10:02 (credential_rejected, 3 runs" in text
    assert "fixed at 2026-11-21 09:00 (ok, 2 runs" in text


def test_timeline_splits_on_a_new_cause_and_honours_limit(store: HistoryStore) -> None:
    causes = [CauseCode.TOKEN_EXPIRED, CauseCode.CREDENTIAL_REJECTED, CauseCode.CREDENTIAL_REJECTED]
    for n, cause in enumerate(causes):
        store.save(sample_run(f"r_{n}", started_at=T0 + timedelta(days=n), cause=cause))
    assert [(c.cause, c.runs) for c in store.timeline(ACTOR)] == [
        (CauseCode.TOKEN_EXPIRED, 1),
        (CauseCode.CREDENTIAL_REJECTED, 2),
    ]
    assert [(c.first_run_id, c.runs) for c in store.timeline(ACTOR, limit=2)] == [("r_1", 2)]
    assert store.timeline("nobody@acme.com") == []


# --- owners, leases and interruption --------------------------------------------------------


def _live_process() -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])


def test_mark_interrupted_takes_only_runs_whose_owner_is_gone(database: Database) -> None:
    """Dead: a process of this host that ended, a previous process with this very pid, a lease run
    out. Alive: this process, another live process here, another host within its lease."""
    host = this_process().host
    live = _live_process()
    now = utcnow()
    owners = {
        "ended": gone_owner(),
        "same_pid_before": Owner(host, os.getpid(), "an-earlier-process"),
        "other_host_expired": Owner("elsewhere", 4242, "n"),
        "mine": this_process(),
        "live_neighbour": Owner(host, live.pid, "n"),
        "other_host_leased": Owner("elsewhere", 4243, "n"),
    }
    try:
        for name, owner in owners.items():
            store = database.open(owner=owner)
            store.save(sample_run(name, cause=None, done=2), origin={"via": "slack", "slack_channel": "C1",
                                                                       "slack_thread_ts": f"1.{len(name)}"})
            if name == "other_host_expired":
                store.db.execute("UPDATE runs SET lease_until = ? WHERE run_id = ?",
                                 [iso(now - timedelta(seconds=1)), name])
            store.close()
        store = database.open()
        marked = store.mark_interrupted()
        assert sorted(ids(marked)) == ["ended", "other_host_expired", "same_pid_before"]
        assert store.mark_interrupted() == []  # once
        for name in owners:
            assert store.get(name).interrupted is (name in ids(marked))
        cut = store.get("ended")
        assert cut.outcome is None and [s.id for s in cut.steps] == ["site.reachable", "actor.replay"]
        assert step_rows(store.db, "ended") == []  # folded into the document
        store.close()
    finally:
        live.kill()
        live.wait()


def test_a_run_without_an_owner_is_dead(store: HistoryStore) -> None:
    store.save(sample_run("r_legacy", cause=None))
    store.db.execute("UPDATE runs SET owner_host = NULL, owner_pid = NULL WHERE run_id = 'r_legacy'")
    assert ids(store.mark_interrupted()) == ["r_legacy"]


def test_renewing_leases_keeps_a_long_run_alive(database: Database) -> None:
    owner = Owner("elsewhere", 4244, "n")
    store = database.open(owner=owner)
    store.save(sample_run("r_long", cause=None))
    store.save(sample_run("r_done"))
    past = iso(utcnow() - timedelta(seconds=1))
    store.db.execute("UPDATE runs SET lease_until = ?", [past])
    assert store.renew_leases() == 1  # only the run still going on
    [lease] = row(store.db, "r_long", "lease_until")
    store.close()
    assert isinstance(lease, str) and lease > past
    other = database.open()
    assert other.mark_interrupted() == []
    other.close()


def test_interrupt_keeps_the_finished_steps_and_never_overrides_a_verdict(store: HistoryStore) -> None:
    run = sample_run("r_cut", cause=None, done=2)
    store.save(run, origin={"via": "slack", "slack_channel": "C1", "slack_thread_ts": "1.5"})
    assert store.interrupt(run) is True and run.interrupted
    again = store.get("r_cut")
    assert again.interrupted and again.outcome is None and len(again.steps) == 2
    shown = format_run(again, color=False)
    assert "Site is reachable" in shown and "Replay as the actor" in shown
    assert store.interrupt(run) is False
    finished = sample_run("r_done")
    store.save(finished)
    assert store.interrupt(sample_run("r_done", cause=None)) is False
    assert store.get("r_done").verdict is not None and not store.get("r_done").interrupted


def test_each_interrupted_slack_run_is_announced_by_one_process(database: Database) -> None:
    first, second = database.open(), database.open()
    first.save(sample_run("r_slack", cause=None), origin={"via": "slack", "slack_channel": "C1",
                                                          "slack_thread_ts": "1.5"})
    first.save(sample_run("r_cli", cause=None), origin={"via": "cli"})
    first.interrupt(sample_run("r_slack", cause=None))
    first.interrupt(sample_run("r_cli", cause=None))
    assert ids(second.pending_notices()) == ["r_slack"]
    assert [first.claim_notice("r_slack"), second.claim_notice("r_slack")] == [True, False]
    assert second.pending_notices() == []
    first.close()
    second.close()


# --- refusals -------------------------------------------------------------------------------


def test_refusals_are_recorded_newest_first_and_scrubbed(store: HistoryStore) -> None:
    token = "ATATT3xFfGF0abcdefghijklmnopqrstuvwxyz0123456789"
    store.record_refusal("U1", "C1", "/confluence-check a@acme.com", "user not allowed")
    store.record_refusal("U2", "C2", f"/confluence-check b@acme.com {token}", "channel not allowed")
    refusals = store.refusals()
    assert [(r.slack_user, r.reason) for r in refusals] == [
        ("U2", "channel not allowed"),
        ("U1", "user not allowed"),
    ]
    assert token not in refusals[0].text and "b@acme.com" in refusals[0].text
    assert len(store.refusals(limit=1)) == 1


# --- schema and migrations ------------------------------------------------------------------


def _tables(db: Db) -> set[str]:
    if isinstance(db, SqliteDb):
        return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()}
    return {r[0] for r in db.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()").fetchall()}


def test_schema_has_the_lean_tables(store: HistoryStore) -> None:
    assert _tables(store.db) >= {"runs", "run_steps", "latest_runs", "refusals", "_migrations"}
    assert "steps" not in _tables(store.db)  # the old copy of every step is gone
    versions = [r[0] for r in store.db.execute("SELECT version FROM _migrations ORDER BY version").fetchall()]
    assert versions == [m.version for m in MIGRATIONS]


def test_reopening_migrates_once_and_keeps_runs(database: Database) -> None:
    first = database.open()
    first.save(sample_run("r_1"))
    first.close()
    second = database.open()
    try:
        if isinstance(second.db, SqliteDb):
            assert second.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert migrate(second.db) == []
        assert second.get("r_1").to_dict() == sample_run("r_1").to_dict()
    finally:
        second.close()


def test_a_failing_migration_step_leaves_no_trace(database: Database) -> None:
    def add_then_fail(db: Db) -> None:
        db.execute("CREATE TABLE half_done (id INTEGER)")
        raise RuntimeError("boom")

    store = database.open()
    try:
        with pytest.raises(RuntimeError):
            migrate(store.db, [*MIGRATIONS, Migration(99, "broken", add_then_fail)])
        assert "half_done" not in _tables(store.db)
        versions = [r[0] for r in store.db.execute("SELECT version FROM _migrations ORDER BY version").fetchall()]
        assert versions == [m.version for m in MIGRATIONS]
    finally:
        store.close()


def test_runs_of_the_first_layout_move_into_the_lean_one(database: Database) -> None:
    """A database written by the first release (run JSON + steps again) keeps its runs."""
    import json

    db = SqliteDb.connect(database.path) if database.url is None else _pg(database.url)
    migrate(db, MIGRATIONS[:2])
    runs = [sample_run("r_old", started_at=T0), sample_run("r_open", started_at=T0 + timedelta(hours=1), cause=None)]
    for run in runs:
        db.execute("INSERT INTO runs (run_id, actor, site, started_at, outcome, interrupted, via, run_json)"
                   " VALUES (?, ?, ?, ?, ?, 0, 'cli', ?)",
                   [run.run_id, run.actor, run.site, iso(run.started_at),
                    run.outcome.value if run.outcome else None, json.dumps(run.to_dict())])
    db.close()
    store = database.open()
    try:
        assert store.get("r_old").to_dict() == runs[0].to_dict()
        assert store.get("r_open").to_dict() == runs[1].to_dict()  # its steps too, though it never ended
        assert ids(store.latest()) == ["r_open"] and ids(store.failing_accounts()) == ["r_old"]
        assert store.origin("r_old")["via"] == "cli"
        assert ids(store.mark_interrupted()) == ["r_open"]  # nobody owns a run of the first layout
    finally:
        store.close()


def _pg(url: str) -> Db:
    from bot.store import PostgresDb

    return PostgresDb.connect(url)


# --- what the store costs -------------------------------------------------------------------


def test_a_finished_run_is_its_document_once_compressed(store: HistoryStore) -> None:
    run = sample_run("r_1", replay_excerpt='{"message":"caller cannot access"}' * 40)
    store.save(run)
    [[head, steps]] = store.db.execute("SELECT doc, steps_doc FROM runs").fetchall()
    assert len(bytes(head)) + len(bytes(steps)) < len(str(run.to_dict())) / 3
    assert decode_doc(head) | {"steps": decode_doc(steps)} == run.to_dict()


def test_lists_without_steps_read_only_what_a_list_shows(store: HistoryStore) -> None:
    store.save(sample_run("r_1"))
    store.save(sample_run("r_2", actor="b@acme.com", cause=None))
    for full, lean in ((store.list(), store.list(steps=False)), (store.latest(), store.latest(steps=False)),
                       (store.failing_accounts(), store.failing_accounts(steps=False))):
        assert [r.to_dict() | {"steps": []} for r in full] == [r.to_dict() for r in lean]


# --- unusable databases ---------------------------------------------------------------------


def test_a_directory_as_database_path_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=f"DATABASE_PATH {tmp_path} is a directory"):
        HistoryStore.open(tmp_path)


def test_a_file_that_is_not_sqlite_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    path.write_bytes(b"these bytes are no SQLite database" * 200)
    with pytest.raises(ConfigError, match=re.escape(f"DATABASE_PATH {path} is not a SQLite database")):
        HistoryStore.open(path)


def test_an_unreachable_database_url_is_a_config_error_without_its_password() -> None:
    url = f"postgresql://bot:{CANARY}@127.0.0.1:1/history"
    with pytest.raises(ConfigError) as caught:
        HistoryStore.open("unused.db", url)
    message = str(caught.value)
    assert message.startswith("DATABASE_URL postgresql://bot:***@127.0.0.1:1/history: cannot connect")
    assert CANARY not in message


_UNPRIVILEGED = 65534  # nobody: root ignores file modes, so the read-only cases run as another user


def _open_as_nobody(path: Path, work: Callable[[Path], str] | None = None) -> tuple[int, str]:
    """Open the history at `path` (or do `work(path)`) in a forked child that gave up root; its exit
    code and message."""
    import warnings

    datetime.strptime("2026", "%Y")  # its module loads lazily, from where `nobody` may not read
    read, write = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads: the child only opens a file
        pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code, message = 70, "no error"
        try:
            if os.geteuid() == 0:
                os.setgid(_UNPRIVILEGED)
                os.setuid(_UNPRIVILEGED)
            if work is None:
                HistoryStore.open(path).close()
            else:
                message = work(path)
            code = 0
        except ConfigError as exc:
            code, message = 64, str(exc)
        except BaseException as exc:
            message = repr(exc)
        finally:
            os.write(write, message.encode())
            os._exit(code)
    os.close(write)
    with os.fdopen(read) as pipe:
        message = pipe.read()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), message


@pytest.fixture
def shared_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder another user can reach (pytest's own temp root is private to this user)."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="history-"))
    folder.chmod(0o755)
    return folder


def test_a_read_only_database_is_a_config_error(shared_dir: Path) -> None:
    path = shared_dir / "h.db"
    HistoryStore.open(path).close()
    path.chmod(0o444)
    assert _open_as_nobody(path) == (64, f"DATABASE_PATH {path} is read-only; make it writable or point "
                                         "DATABASE_PATH at another file")


def _read_history(path: Path) -> str:
    store = HistoryStore.for_settings(Settings.from_mapping({"DATABASE_PATH": str(path)}), write=False)
    try:
        return ",".join(ids(store.list()))
    finally:
        store.close()


def test_a_read_only_history_can_still_be_read(shared_dir: Path) -> None:
    path = shared_dir / "h.db"
    store = HistoryStore.open(path)
    store.save(sample_run("r_1"))
    store.close()
    for file in shared_dir.iterdir():
        file.chmod(0o444)
    assert _open_as_nobody(path, _read_history) == (0, "r_1")


def test_an_unwritable_folder_is_a_config_error(shared_dir: Path) -> None:
    folder = shared_dir / "locked"
    folder.mkdir(mode=0o555)
    code, message = _open_as_nobody(folder / "h.db")
    assert code == 64 and f"the folder {folder} is not writable" in message


# --- nothing secret -------------------------------------------------------------------------


def _everything(db: Db) -> str:
    """Every value of every table, documents decompressed."""
    out = []
    for table in sorted(_tables(db)):
        for values in db.execute(f"SELECT * FROM {table}").fetchall():
            out += [str(decode_doc(v)) if isinstance(v, bytes | memoryview) else str(v) for v in values]
    return "\n".join(out)


def test_the_store_holds_no_secret_even_when_the_request_carried_one(database: Database) -> None:
    failing = FailingRequest(
        "GET", "https://acme.atlassian.net/wiki/rest/api/space", headers={"Authorization": f"Basic {CANARY}"}
    )
    request = CheckRequest(ACTOR, failing=failing, observed_status=403,
                           actor_secret=ActorSecret(token=Secret(CANARY), email=ACTOR))
    running = sample_run("r_1", cause=None)
    running.request = request.describe()
    store = database.open()
    try:
        store.save(running, origin={"via": "slack", "slack_channel": "C1", "slack_user": "U1"})
        store.save_step("r_1", 1, StepResult("actor.replay", "Replay", StepStatus.FAIL, "refused"))
        during = _everything(store.db)
        finished = sample_run("r_1")
        finished.request = request.describe()
        store.save(finished)
        after = _everything(store.db)
    finally:
        store.close()
    for dump in (during, after):
        assert CANARY not in dump and "'actor_token_given': True" in dump
    if database.url is None:
        assert CANARY.encode() not in b"".join(p.read_bytes() for p in database.path.parent.iterdir() if p.is_file())


def test_save_takes_only_a_run_and_origin_ids() -> None:
    assert list(inspect.signature(HistoryStore.save).parameters) == ["self", "run", "origin"]


def test_a_postgres_connection_the_server_dropped_is_made_again(postgres_url: str) -> None:
    """A restart or failover of the server between two calls costs nothing (never inside a write)."""
    import psycopg

    from bot.store import PostgresDb

    store = HistoryStore(PostgresDb.connect(postgres_url, idle_check_s=0))  # every write checks first
    try:
        store.save(sample_run("r_1"))
        [[pid]] = store.db.execute("SELECT pg_backend_pid()").fetchall()
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        assert store.get("r_1").to_dict() == sample_run("r_1").to_dict()  # a read, on a new connection
        [[other]] = store.db.execute("SELECT pg_backend_pid()").fetchall()
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [other])
        store.save(sample_run("r_2"))  # a write transaction checks the connection first
        assert ids(store.list()) == ["r_2", "r_1"]
    finally:
        store.close()
