"""A history that tells what happened: twenty checks of one account in which nothing changed, asking
different questions, with a wrong site and the bot's own refused token among them, give timelines
with no "fixed" and without the bot's failures; an email and the account id it resolves to meet."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.commands import simulator_in_thread
from bot.simulator import load_scenario
from bot.store import HistoryStore
from bot.store.records import question_of
from tests.conftest import Database

EMAIL = "automation@acme.com"
ACCOUNT_ID = "557058:6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
TOKEN = "automation@acme.com:ATATT3xFfGF0-sim-automation-acme-0001"


def _cli(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], *args: str, stdin: str = "") -> str:
    with monkeypatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        patch.setattr("sys.stdin", io.StringIO(stdin))
        out = io.StringIO()
        patch.setattr("sys.stdout", out)
        main(list(args))
    return out.getvalue()


def _check(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], *args: str, token: bool = False) -> dict:  # type: ignore[type-arg]
    return json.loads(_cli(monkeypatch, env, "check", *args, *(["--actor-token-stdin"] if token else []), "--json",
                           stdin=TOKEN + "\n" if token else ""))


def test_twenty_unchanged_checks_tell_no_false_fix(monkeypatch: pytest.MonkeyPatch, database: Database) -> None:
    causes: list[str] = []
    with simulator_in_thread(load_scenario("seed_automation_actor")) as sim, \
            simulator_in_thread(load_scenario("site_not_found")) as wrong_site:
        good = {**sim.env(), **database.env}
        space = f"GET {sim.site_url}/wiki/rest/api/space"
        asks: list[tuple[dict[str, str], tuple[str, ...], bool]] = [
            (good, (EMAIL, "--endpoint", space, "--status", "403"), False),
            (good, (EMAIL,), True),  # another question: the token given, no endpoint
            (good, (ACCOUNT_ID, "--endpoint", space, "--status", "403"), False),  # the same person by id
            (good, (EMAIL, "--space", "DOCS"), False),
            ({**wrong_site.env(), **database.env},  # ATLASSIAN_SITE_URL names no site
             (EMAIL, "--endpoint", space.replace(sim.site_url, wrong_site.site_url)), False),
            ({**good, "ATLASSIAN_API_TOKEN": "ATATT3xFfGF0-revoked-or-mistyped"}, (EMAIL, "--endpoint", space), False),
        ]
        for n in range(20):
            env, args, token = asks[n % len(asks)]
            run = _check(monkeypatch, env, *args, token=token)
            causes.append(run["verdict"]["cause"])
            if token:  # the replay itself is a use of the token Atlassian records; keep the account unchanged
                for user_token in sim.state.user_by_email(EMAIL).tokens:  # type: ignore[union-attr]
                    user_token.last_access = None
    assert "site_not_found" in causes and "inspector_misconfigured" in causes
    assert len({c for c in causes if c not in ("site_not_found", "inspector_misconfigured")}) >= 2

    text = _cli(monkeypatch, good, "history", EMAIL)
    story = text.split("\n\n")[0]
    timelines, _, bot_part = story.partition("The bot's own problems")
    assert "fixed" not in story, story
    assert "site_not_found" not in timelines and "inspector_misconfigured" not in timelines, story
    assert "site_not_found" in bot_part and "inspector_misconfigured" in bot_part, story
    assert ACCOUNT_ID in story  # the email and the account id are one identity

    store = database.open(write=False)
    try:
        found = store.account_history(ACCOUNT_ID)
        assert found.timelines == store.account_history(EMAIL).timelines  # by id or by email: the same story
        for timeline in found.timelines:
            assert len({c.outcome for c in timeline.changes}) == 1, timeline  # nothing changed, nothing "fixed"
        runs = store.list(EMAIL, 100, steps=False)
        assert len(runs) == 20  # every run, whether it was started by email or by account id
        assert len(store.list(ACCOUNT_ID, 100, steps=False)) == 20
    finally:
        store.close()


def test_fixed_means_the_same_question_now_passes(database: Database) -> None:
    from datetime import timedelta

    from bot.model import CauseCode
    from tests.samples import T0, sample_run

    store = database.open()
    try:
        ask = {"endpoint": "GET https://acme.atlassian.net/wiki/rest/api/space", "space": None,
               "actor_token_given": False, "account_id": ACCOUNT_ID}
        other = {**ask, "endpoint": None, "actor_token_given": True}
        store.save(sample_run("r_1", started_at=T0, request=ask))
        store.save(sample_run("r_2", started_at=T0 + timedelta(minutes=1), request=other, cause=CauseCode.OK))
        store.save(sample_run("r_3", started_at=T0 + timedelta(minutes=2), request=ask))
        found = store.account_history(ACCOUNT_ID)
        assert [t.question for t in found.timelines] == [question_of(sample_run(request=ask)),
                                                         question_of(sample_run(request=other))]
        assert all(len(t.changes) == 1 for t in found.timelines)  # no "fixed" between r_1 and r_3
        store.save(sample_run("r_4", started_at=T0 + timedelta(minutes=3), request=ask, cause=CauseCode.OK))
        first = store.account_history(ACCOUNT_ID).timelines[0]
        assert [c.outcome.value for c in first.changes] == ["problem", "ok"]
    finally:
        store.close()


def test_stored_runs_are_migrated_to_accounts_and_questions(tmp_path: Path) -> None:
    """Runs written before version 9 get their account (from the identity lookup they did) and question."""
    from bot.store.db import SqliteDb
    from bot.store.schema import MIGRATIONS, migrate
    from tests.samples import sample_run

    path = tmp_path / "old.db"
    db = SqliteDb.connect(path)
    migrate(db, [m for m in MIGRATIONS if m.version < 9])
    from bot.model import StepResult, StepStatus

    lookup = StepResult("identity.lookup", "Actor exists", StepStatus.PASS, f"Automation Actor ({ACCOUNT_ID})")
    run = sample_run("r_old", actor=EMAIL, steps=[lookup], request={"endpoint": None, "actor_token_given": False})
    columns = [c for c in ("run_id", "actor", "site", "started_at", "outcome", "cause", "confidence")]
    from bot.store.records import run_columns, run_head, run_steps

    values = run_columns(run)
    marks = ", ".join("?" * (len(columns) + 2))
    db.execute(f"INSERT INTO runs ({', '.join(columns)}, doc, steps_doc) VALUES ({marks})",
               [*(values[c] for c in columns), run_head(run), run_steps(run)])
    db.close()
    store = HistoryStore.open(path)
    try:
        assert store.identities(EMAIL) == sorted([EMAIL, ACCOUNT_ID])
        assert store.account_history(ACCOUNT_ID).timelines[0].changes[0].first_run_id == "r_old"
    finally:
        store.close()
