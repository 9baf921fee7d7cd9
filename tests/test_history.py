"""HistoryStore: round trips, queries, timeline, interruption, migrations, and no secrets stored."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlite_utils import Database

from bot.config import Secret
from bot.errors import NotFound
from bot.history import MIGRATIONS, Change, HistoryStore, Migration, Via, migrate
from bot.model import CauseCode, Outcome, Run
from bot.render import format_timeline
from bot.request import ActorSecret, CheckRequest, FailingRequest
from tests.samples import ACTOR, CANARY, T0, sample_run


@pytest.fixture
def store() -> Iterator[HistoryStore]:
    db = Database(memory=True)
    yield HistoryStore(db)
    db.close()


def ids(runs: list[Run]) -> list[str]:
    return [run.run_id for run in runs]


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


def test_saving_again_updates_the_run_and_replaces_its_steps(store: HistoryStore) -> None:
    store.save(sample_run("r_1", cause=None))
    store.save(sample_run("r_1"))
    row = store.db["runs"].get("r_1")
    assert (row["outcome"], row["cause"], row["confidence"]) == ("problem", "credential_rejected", "likely")
    assert row["finished_at"] == "2026-11-20T10:02:00Z"  # 840 ms rounds down to the second
    steps = list(store.db["steps"].rows_where("run_id = ?", ["r_1"], order_by="position"))
    assert [(s["position"], s["step_id"], s["status"]) for s in steps] == [
        (0, "site.reachable", "pass"),
        (1, "actor.replay", "fail"),
        (2, "policy.org", "skip"),
    ]
    assert store.db["runs"].count == 1


def test_in_progress_run_has_no_outcome_column(store: HistoryStore) -> None:
    store.save(sample_run("r_1", cause=None))
    row = store.db["runs"].get("r_1")
    assert row["outcome"] is None and row["cause"] is None and row["finished_at"] is None


# --- origin ---------------------------------------------------------------------------------


def test_origin_given_at_start_survives_a_later_save_without_it(store: HistoryStore) -> None:
    origin = {"via": "slack", "slack_channel": "C1", "slack_thread_ts": "1.2", "slack_user": "U1"}
    store.save(sample_run("r_1", cause=None), origin=origin)
    store.save(sample_run("r_1"))
    assert store.origin("r_1") == origin


def test_set_origin_updates_only_the_given_keys(store: HistoryStore) -> None:
    store.save(sample_run("r_1"), origin={"via": Via.CLI})
    store.set_origin("r_1", slack_thread_ts="171.5")
    assert store.origin("r_1") == {
        "via": "cli",
        "slack_channel": None,
        "slack_thread_ts": "171.5",
        "slack_user": None,
    }


@pytest.mark.parametrize(
    "origin", [{"token": CANARY}, {"via": "carrier-pigeon"}], ids=["unknown-key", "unknown-via"]
)
def test_origin_refuses_anything_but_known_ids(store: HistoryStore, origin: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        store.save(sample_run("r_1"), origin=origin)
    store.save(sample_run("r_1"))
    with pytest.raises(ValueError):
        store.set_origin("r_1", **origin)
    assert store.db["runs"].count == 1


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


# --- interruption ---------------------------------------------------------------------------


def test_mark_interrupted_flags_unfinished_runs_once(store: HistoryStore) -> None:
    store.save(sample_run("r_done"))
    store.save(sample_run("r_cut", cause=None), origin={"via": "slack", "slack_channel": "C1"})

    marked = store.mark_interrupted()

    assert ids(marked) == ["r_cut"] and marked[0].interrupted
    again = store.get("r_cut")
    assert again.interrupted and again.outcome is None
    row = store.db["runs"].get("r_cut")
    assert (row["interrupted"], row["outcome"]) == (1, None)
    assert store.origin("r_cut")["slack_channel"] == "C1"
    assert not store.get("r_done").interrupted
    assert store.mark_interrupted() == []


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


def test_schema_has_the_documented_tables_columns_and_indexes(store: HistoryStore) -> None:
    db = store.db
    assert {"runs", "steps", "refusals", "_migrations"} <= set(db.table_names())
    assert set(db["runs"].columns_dict) == {
        "run_id",
        "actor",
        "site",
        "started_at",
        "finished_at",
        "duration_ms",
        "outcome",
        "cause",
        "confidence",
        "interrupted",
        "previous_run_id",
        "via",
        "slack_channel",
        "slack_thread_ts",
        "slack_user",
        "run_json",
    }
    indexed = {tuple(index.columns) for index in db["runs"].indexes}
    assert {("actor", "started_at"), ("started_at",), ("outcome",), ("cause",)} <= indexed
    assert db["steps"].pks == ["run_id", "step_id"]
    assert ("run_id",) in {tuple(index.columns) for index in db["steps"].indexes}


def test_reopening_a_file_database_migrates_once_and_keeps_runs(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "history.db"
    first = HistoryStore.open(path)
    first.save(sample_run("r_1"))
    first.close()

    second = HistoryStore.open(path)
    try:
        assert second.db.journal_mode == "wal"
        assert [row["version"] for row in second.db["_migrations"].rows] == [m.version for m in MIGRATIONS]
        assert migrate(second.db) == []
        assert second.get("r_1").to_dict() == sample_run("r_1").to_dict()
    finally:
        second.close()


def test_a_failing_migration_step_leaves_no_trace() -> None:
    def add_then_fail(db: Database) -> None:
        db["half_done"].create({"id": int}, pk="id")
        raise RuntimeError("boom")

    db = Database(memory=True)
    try:
        with pytest.raises(RuntimeError):
            migrate(db, [*MIGRATIONS, Migration(99, "broken", add_then_fail)])
        assert "half_done" not in db.table_names()
        assert [row["version"] for row in db["_migrations"].rows] == [m.version for m in MIGRATIONS]
    finally:
        db.close()


# --- nothing secret -------------------------------------------------------------------------


def test_the_store_holds_no_secret_even_when_the_request_carried_one(tmp_path: Path) -> None:
    failing = FailingRequest(
        "GET", "https://acme.atlassian.net/wiki/rest/api/space", headers={"Authorization": f"Basic {CANARY}"}
    )
    request = CheckRequest(
        ACTOR,
        failing=failing,
        observed_status=403,
        actor_secret=ActorSecret(token=Secret(CANARY), email=ACTOR),
    )
    run = sample_run("r_1")
    run.request = request.describe()
    store = HistoryStore.open(tmp_path / "history.db")
    try:
        store.save(run, origin={"via": "slack", "slack_channel": "C1", "slack_user": "U1"})
        dump = "\n".join(store.db.iterdump())
    finally:
        store.close()
    assert CANARY not in dump
    assert '"actor_token_given": true' in dump
    assert CANARY.encode() not in b"".join(p.read_bytes() for p in tmp_path.iterdir())


def test_save_takes_only_a_run_and_origin_ids() -> None:
    assert list(inspect.signature(HistoryStore.save).parameters) == ["self", "run", "origin"]
