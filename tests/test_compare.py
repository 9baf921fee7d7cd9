"""`confluence-check compare ACTOR KNOWN_GOOD`: both accounts diagnosed at once through the real
CLI and the simulator over HTTP, their typed facts side by side, what explains the failure first."""

from __future__ import annotations

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
