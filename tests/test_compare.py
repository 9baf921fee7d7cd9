"""`confluence-check compare ACTOR KNOWN_GOOD`: both accounts diagnosed at once through the real
CLI and the simulator over HTTP, their typed facts side by side, what explains the failure first."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.commands import simulator_in_thread
from bot.config import Settings
from bot.simulator import SimulatorServer, load_scenario
from bot.store import HistoryStore

NO_ACCESS, HEALTHY = "sam.lee@acme.com", "priya.n@acme.com"  # the no_confluence_access world


@pytest.fixture
def sim(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[SimulatorServer]:
    with simulator_in_thread(load_scenario("no_confluence_access")) as server:
        for key, value in {**server.env(), "DATABASE_PATH": str(tmp_path / "h.db")}.items():
            monkeypatch.setenv(key, value)
        yield server


def _compare(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["compare", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_no_access_account_against_a_healthy_one_shows_the_product_difference_first(sim, capsys) -> None:
    code, out, _ = _compare(capsys, NO_ACCESS, HEALTHY, "--endpoint", "GET /wiki/rest/api/space", "--json")
    doc: dict[str, Any] = json.loads(out)
    assert code == 1  # the failing account's status, as `check` gives it
    assert set(doc) == {"schema", "runs", "differences"} and doc["schema"] == "confluence-check/compare@1"
    failing, working = doc["runs"]
    assert (failing["actor"], working["actor"]) == (NO_ACCESS, HEALTHY)
    assert failing["verdict"]["cause"] == "no_confluence_access" and working["outcome"] == "ok"
    assert all(run["schema"] == "confluence-check/run@1" for run in doc["runs"])
    first = doc["differences"][0]
    assert set(first) == {"layer", "fact", "actor", "known_good", "explains"}
    assert (first["layer"], first["fact"], first["explains"]) == ("product", "Confluence roles", True)
    assert "atlassian/user" in first["known_good"] and "atlassian/user" not in first["actor"]
    # a fact both share is no difference; nothing outside the failing layer explains it
    assert not any(d["layer"] == "identity" for d in doc["differences"])
    assert all(d["explains"] == (d["layer"] == "product") for d in doc["differences"])
    # both runs are kept in history like any run
    store = HistoryStore.open(Settings.load().database_path)
    try:
        assert {r.actor for r in store.list(None, 10)} == {NO_ACCESS, HEALTHY}
    finally:
        store.close()


def test_the_terminal_shows_both_verdicts_the_differences_then_the_facts_side_by_side(sim, capsys) -> None:
    code, out, _ = _compare(capsys, NO_ACCESS, HEALTHY)
    assert code == 1
    lines = out.splitlines()
    differences = lines.index("Differences (those that explain the failure first):")
    assert lines[differences + 1].strip().startswith("product · Confluence roles:")
    assert "explains the failure" in lines[differences + 1]
    assert any(NO_ACCESS in line and "problem" in line for line in lines[:3])
    side = lines.index("Side by side:")
    assert "account type" in out[out.index("Side by side:"):] and lines[side + 1].split()[:2] == ["layer", "fact"]


def test_both_accounts_are_diagnosed_at_once(sim, capsys) -> None:
    """Run after run, the second account's requests would all come after the first's: they interleave."""
    sim.state.faults.latency_ms = 50
    code, _, _ = _compare(capsys, NO_ACCESS, HEALTHY, "--json")
    ids = {u.email: u.account_id for u in sim.state.users}

    def about(request: Any, email: str) -> bool:
        body = json.dumps(request.json_body or "")
        return ids[email] in request.path + request.query or email in body

    order = list(sim.requests)
    failing = [i for i, r in enumerate(order) if about(r, NO_ACCESS)]
    working = [i for i, r in enumerate(order) if about(r, HEALTHY)]
    assert code == 1 and failing and working
    assert working[0] < failing[-1] and failing[0] < working[-1], (failing, working)


def test_comparing_an_account_with_itself_is_a_usage_error(sim, capsys) -> None:
    code, out, err = _compare(capsys, NO_ACCESS, NO_ACCESS.upper())
    assert code == 64 and out == "" and "two different accounts" in err


def test_a_missing_space_permission_shows_the_space_then_the_groups_that_grant_it(monkeypatch, tmp_path,
                                                                                 capsys) -> None:
    with simulator_in_thread(load_scenario("space_permission_missing")) as server:
        for key, value in {**server.env(), "DATABASE_PATH": str(tmp_path / "s.db")}.items():
            monkeypatch.setenv(key, value)
        code, out, _ = _compare(capsys, "automation@acme.com", HEALTHY, "--space", "ENG", "--json")
    first, second, *rest = json.loads(out)["differences"]
    assert code == 1
    assert (first["layer"], first["fact"], first["known_good"], first["explains"]) == (
        "content", "permission in space ENG", "granted", True)
    assert first["actor"].startswith("missing")
    assert (second["fact"], second["explains"]) == ("groups", True) and "engineering" in second["known_good"]
    assert not any(d["explains"] for d in rest)


def test_the_status_the_failing_account_gets_goes_to_its_run_only(monkeypatch, tmp_path, capsys) -> None:
    """The README's walk: the rule's account has a token it never used; with the 403 it gets, that explains it."""
    with simulator_in_thread(load_scenario("rule_auth_header_missing")) as server:
        for key, value in {**server.env(), "DATABASE_PATH": str(tmp_path / "r.db")}.items():
            monkeypatch.setenv(key, value)
        code, out, _ = _compare(capsys, "automation@acme.com", HEALTHY, "--endpoint", "GET /wiki/rest/api/space",
                                "--status", "403", "--json")
    doc = json.loads(out)
    failing, working = doc["runs"]
    assert code == 1 and failing["request"].get("status") == 403 and working["request"].get("status") is None
    first = doc["differences"][0]
    assert (first["layer"], first["fact"], first["explains"]) == ("credential", "API tokens", True)
    assert "none ever used" in first["actor"] and "ever used" not in first["known_good"]


def test_a_fact_lost_on_one_side_is_shown_but_never_explains(sim, capsys) -> None:
    """The working account's role list answers 500 every time: its roles are missing evidence."""
    from bot.simulator.state import RouteFault

    healthy = next(u for u in sim.state.users if u.email == HEALTHY).account_id
    sim.state.faults.routes.append(RouteFault(role="api", path=f"/admin/v2/orgs/{{o}}/directories/{{d}}/users/"
                                                              f"{healthy}/role-assignments", count=None, status=500))
    code, out, _ = _compare(capsys, NO_ACCESS, HEALTHY, "--json")
    doc = json.loads(out)
    assert code == 1
    roles = next(d for d in doc["differences"] if d["fact"] == "Confluence roles")
    assert doc["runs"][0]["verdict"]["cause"] == "no_confluence_access"
    assert (roles["actor"], roles["known_good"], roles["explains"]) == ("none", "not checked", False)


def test_with_both_tokens_each_account_is_replayed_as_itself(sim, capsys, monkeypatch) -> None:
    tokens = {NO_ACCESS: "ATATT3xFfGF0-sim-sam-acme-0001", HEALTHY: "ATATT3xFfGF0-sim-priya-acme-0001"}
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{tokens[NO_ACCESS]}\n{tokens[HEALTHY]}\n"))
    code, out, err = _compare(capsys, NO_ACCESS, HEALTHY, "--endpoint", "GET /wiki/rest/api/space", "--tokens-stdin",
                              "--json")
    doc: dict[str, Any] = json.loads(out)
    failing, working = doc["runs"]
    assert code == 1 and failing["verdict"]["cause"] == "no_confluence_access"
    assert failing["verdict"]["confidence"] == "confirmed" and working["outcome"] == "ok"
    for run in (failing, working):
        assert run["request"]["actor_token_given"] is True
        assert next(s for s in run["steps"] if s["id"] == "replay.site")["status"] != "skip"
    replay = {d["fact"]: d for d in doc["differences"] if d["layer"] == "credential"}
    site = replay["replay at the site"]
    assert site["known_good"].startswith("200") and not site["actor"].startswith("200") and not site["explains"]
    # each token went only with its own account's email, and is shown nowhere
    for token in tokens.values():
        assert token not in out + err
        assert base64.b64encode(token.encode()).decode()[:20] not in out + err


def test_with_only_the_failing_accounts_token_the_working_one_is_not_replayed(sim, capsys, monkeypatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("ATATT3xFfGF0-sim-sam-acme-0001\n\n"))
    _, out, _ = _compare(capsys, NO_ACCESS, HEALTHY, "--tokens-stdin", "--json")
    failing, working = json.loads(out)["runs"]
    assert failing["request"]["actor_token_given"] is True and working["request"]["actor_token_given"] is False


def test_tokens_stdin_without_the_failing_accounts_token_is_a_usage_error(sim, capsys, monkeypatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("\nATATT3xFfGF0-sim-priya-acme-0001\n"))
    code, out, err = _compare(capsys, NO_ACCESS, HEALTHY, "--tokens-stdin")
    assert code == 64 and out == "" and "first line must hold the failing account's API token" in err
