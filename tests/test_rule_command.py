"""`confluence-check rule` end to end against the simulator: secrets stay in memory, several actions,
what is sent where."""

from __future__ import annotations

import copy
import io
import json
import logging
import socket
import sqlite3
from pathlib import Path

import pytest

from bot.cli import main
from bot.commands import simulator_in_thread
from bot.simulator import load_scenario
from bot.simulator.scenario import Scenario

HEADER_SCENARIOS = ["rule_bearer_with_api_token", "rule_auth_header_malformed", "rule_email_token_mismatch",
                    "rule_scoped_token_site_url", "rule_space_permission_missing", "rule_non_get_action"]


def _header_values(scenario: Scenario) -> list[str]:
    """Every Authorization value of the scenario's rules, and each word of it (the credential part)."""
    values: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for header in node.get("headers") or []:
                if isinstance(header, dict) and header.get("name") == "Authorization":
                    values.append(header["value"])
                    values.extend(w for w in header["value"].split() if len(w) > 8)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(scenario.world.automation_rules)
    return values


def _run(scenario: Scenario, args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, list]:
    with simulator_in_thread(scenario) as sim:
        for key, value in {**sim.env(), "DATABASE_PATH": str(tmp_path / "h.db")}.items():
            monkeypatch.setenv(key, value)
        given = sim.resolve_input()
        monkeypatch.setattr("sys.stdin", io.StringIO(""))
        code = main([a.replace("{rule}", given["rule"]) for a in args])
        return code, list(sim.requests)


@pytest.mark.parametrize("name", HEADER_SCENARIOS)
def test_header_values_never_leave_memory(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    scenario = load_scenario(name)
    canaries = _header_values(scenario)
    token_values = [t.value for u in scenario.world.users for t in u.tokens]  # none may show, whoever's
    assert canaries and token_values
    caplog.set_level(logging.DEBUG)
    _run(scenario, ["rule", "{rule}"], tmp_path, monkeypatch)
    _run(scenario, ["rule", "{rule}", "--json"], tmp_path, monkeypatch)
    db = sqlite3.connect(tmp_path / "h.db")
    stored = "\n".join(str(row) for row in db.execute("select * from runs"))
    ids = [r[0] for r in db.execute("select run_id from runs")]
    db.close()
    assert len(ids) == 2
    for rid in ids:
        _run(scenario, ["show", rid, "--markdown"], tmp_path, monkeypatch)
        _run(scenario, ["show", rid, "--json"], tmp_path, monkeypatch)
    captured = capsys.readouterr()
    logs = "\n".join(f"{r.getMessage()} {r.args}" for r in caplog.records)
    for secret in [*canaries, *token_values]:
        for where, text in (("stdout", captured.out), ("stderr", captured.err), ("logs", logs), ("db", stored)):
            assert secret not in text, f"{secret[:12]}… leaked to {where}"


def test_several_actions_give_one_run_each_in_rule_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    base = load_scenario("rule_auth_header_missing")
    good = load_scenario("rule_space_permission_missing").world.automation_rules[0]
    rules = copy.deepcopy(base.world.automation_rules)
    second = copy.deepcopy(good["rule"]["components"][0]["children"][0]["children"][0])
    second["id"] = "second"
    rules[0]["rule"]["components"].append(second)
    world = copy.deepcopy(base.world)
    world.automation_rules = rules
    scenario = Scenario(**{**base.__dict__, "world": world})
    code, log = _run(scenario, ["rule", "{rule}", "--json"], tmp_path, monkeypatch)
    runs = json.loads(capsys.readouterr().out)
    assert [r["verdict"]["cause"] for r in runs] == ["auth_header_missing", "space_permission_missing"]
    assert [r["request"]["rule"]["action"] for r in runs] == [1, 2] and code == 1
    # the rule was read in clear once (to replay) and redacted once per run (to show); nothing but reads
    reads = [r for r in log if "/automation/public/" in r.path]
    assert sum("redactSensitiveFields=true" in r.query for r in reads) == 2 and len(reads) == 3
    assert all(r.method in ("GET", "HEAD") or r.path.endswith(("/users/search", "/check-access-by-email",
                                                               "/users-bulk", "/permission/check")) for r in log)


def test_a_missing_inspector_is_a_configuration_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    scenario = load_scenario("rule_auth_header_missing")
    scenario = Scenario(**{**scenario.__dict__, "settings": {}})
    code, log = _run(scenario, ["rule", "{rule}"], tmp_path, monkeypatch)
    assert code == 64 and "site or Confluence admin" in capsys.readouterr().err and not log


def test_the_seed_verdict_reads_like_a_ticket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = _run(load_scenario("rule_auth_header_missing"), ["rule", "{rule}", "--json"], tmp_path, monkeypatch)
    verdict = json.loads(capsys.readouterr().out)["verdict"]
    assert code == 1 and verdict["cause"] == "auth_header_missing"
    text = verdict["explanation"]
    assert "sends no Authorization header" in text and "anonymous caller" in text
    assert "active and has Confluence access" in text and "never used" in text
    assert "Authorization: Basic base64(automation@acme.com:<API token>)" in verdict["fix"][0]


def test_a_token_in_the_rule_url_or_another_header_stays_in_memory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture) -> None:
    url_token, key = "CANARY-URL-TOKEN-77a1c9", "CANARY-API-KEY-5b5b5b"
    base = load_scenario("rule_space_permission_missing")
    world = copy.deepcopy(base.world)
    action = world.automation_rules[0]["rule"]["components"][0]["children"][0]["children"][0]["value"]
    action["url"] += f"?token={url_token}&limit=5"
    action["headers"].append({"name": "X-API-Key", "value": key, "headerSecure": False})
    scenario = Scenario(**{**base.__dict__, "world": world})
    caplog.set_level(logging.DEBUG)
    code, log = _run(scenario, ["rule", "{rule}"], tmp_path, monkeypatch)
    _run(scenario, ["rule", "{rule}", "--markdown"], tmp_path, monkeypatch)
    captured = capsys.readouterr()
    db = sqlite3.connect(tmp_path / "h.db")
    stored = "\n".join(str(row) for row in db.execute("select * from runs"))
    db.close()
    logs = "\n".join(f"{r.getMessage()} {r.args}" for r in caplog.records)
    assert code == 1 and "limit=5" in captured.out  # the URL is shown, its secret query value masked
    for text in (captured.out, captured.err, stored, logs):
        assert url_token not in text and key not in text
    assert any(url_token in r.query for r in log)  # ...and yet the replay sent the URL exactly as the rule does


def test_the_support_bundle_names_the_rule_and_its_request(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    scenario = load_scenario("rule_bearer_with_api_token")
    code, _ = _run(scenario, ["rule", "{rule}", "--markdown"], tmp_path, monkeypatch)
    bundle = capsys.readouterr().out
    assert code == 1 and "- Automation rule: Sync release notes" in bundle
    assert "- Header as sent: `Authorization: Bearer <API token, 37 chars>`" in bundle
    assert not [s for s in _header_values(scenario) if s in bundle]


def test_an_unreachable_configured_host_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    for key, value in {"ATLASSIAN_SITE_URL": f"http://127.0.0.1:{port}", "ATLASSIAN_API_URL": f"http://127.0.0.1:{port}",
                       "ATLASSIAN_EMAIL": "inspector@acme.com", "ATLASSIAN_API_TOKEN": "ATATT-unused",
                       "DATABASE_PATH": str(tmp_path / "h.db")}.items():
        monkeypatch.setenv(key, value)
    assert main(["rule", "019d4e2a-7c1b-7e55-9a0f-3b2c1d0e0001"]) == 64
    assert "ATLASSIAN_SITE_URL" in capsys.readouterr().err
