"""A rule's Send web request to another host (GitHub, with a GitHub token): analysed and reported as such,
its credential never replayed anywhere, and no credential-based verdict drawn from a request that never
goes to Confluence."""

from __future__ import annotations

import copy
import json
import logging
from pathlib import Path

import pytest

from bot.automation.load import build_request
from bot.automation.rule import parse_rule
from bot.config import Settings
from bot.simulator import load_scenario
from bot.simulator.scenario import Scenario
from tests.rules import basic, rule, web_request
from tests.test_rule_command import _run

GITHUB_TOKEN = "ghp_CANARYforeignGITHUBtoken0123456789"
DISPATCH = "https://api.github.com/repos/acme/docs/dispatches"
SETTINGS = Settings.from_mapping({"ATLASSIAN_SITE_URL": "https://acme.atlassian.net"})


@pytest.mark.parametrize("header", [f"Bearer {GITHUB_TOKEN}", basic("ci@acme.com", GITHUB_TOKEN)])
def test_a_request_to_another_host_carries_no_credential_into_the_run(header: str) -> None:
    payload = rule([web_request(DISPATCH, "POST", [("Authorization", header, True)])])
    parsed = parse_rule(payload)
    request = build_request(parsed, parsed.actions[0], SETTINGS)
    assert request.actor_secret is None and request.failing is None  # nothing to replay, anywhere
    assert request.actor == parsed.actor_account_id  # not whoever the other system's credential names
    assert GITHUB_TOKEN in request.secrets()  # ...and still masked wherever it could appear


def _foreign(header: str) -> Scenario:
    base = load_scenario("rule_space_permission_missing")
    world = copy.deepcopy(base.world)
    action = world.automation_rules[0]["rule"]["components"][0]["children"][0]["children"][0]["value"]
    action.update(url=DISPATCH, method="POST",
                  headers=[{"name": "Authorization", "value": header, "headerSecure": True},
                           {"name": "Accept", "value": "application/vnd.github+json", "headerSecure": False}])
    return Scenario(**{**base.__dict__, "world": world})


@pytest.mark.parametrize("header", [f"Bearer {GITHUB_TOKEN}", basic("automation@acme.com", GITHUB_TOKEN)])
def test_a_rule_posting_to_github_is_reported_as_not_going_to_confluence(
        header: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    code, log = _run(_foreign(header), ["rule", "{rule}", "--json"], tmp_path, monkeypatch)
    captured = capsys.readouterr()
    run = json.loads(captured.out)
    steps = {s["id"]: s for s in run["steps"]}
    as_sent = steps["request.as_sent"]
    assert "this request does not go to Confluence; nothing was sent" in as_sent["summary"]
    assert as_sent["status"] == "warn" and "api.github.com" in as_sent["summary"]
    # no replay of the other system's credential: not planned, not sent, not judged
    assert not [s for s in steps if s.startswith("replay.")]
    assert run["verdict"]["cause"] == "inconclusive" and code == 2
    assert "does not go to Confluence" in run["verdict"]["explanation"]
    assert not [f for f in run["findings"] if f["cause"] == "credential_rejected"]
    assert not [r for r in log if "github" in r.path or "dispatches" in r.path]
    logs = "\n".join(f"{r.getMessage()} {r.args}" for r in caplog.records)
    assert GITHUB_TOKEN not in captured.out + captured.err + logs


def test_the_same_request_to_the_site_is_still_replayed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """The rule the fix must not break: a request to Confluence with its credential is replayed as before."""
    code, _ = _run(load_scenario("rule_scoped_token_site_url"), ["rule", "{rule}", "--json"], tmp_path,
                     monkeypatch)
    run = json.loads(capsys.readouterr().out)
    assert [s for s in run["steps"] if s["id"].startswith("replay.")] and code == 1
