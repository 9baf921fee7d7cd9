"""Scenario files: every bundled one loads; the loader rejects unknown keys and bad values."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from bot.model import CauseCode, Confidence, Outcome
from bot.simulator import ScenarioError, UnknownScenario, list_scenarios, load_scenario
from bot.simulator.scenario import scenarios_dir

BUNDLED = sorted(p.stem for p in scenarios_dir().glob("*.json"))
TOUR = {"seed_automation_actor", "rule_auth_header_missing", "scoped_token_site_url", "oauth_missing_scope",
        "no_confluence_access", "anonymous_fallback", "ok"}


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_scenario_loads_with_a_valid_expectation(name: str) -> None:
    scenario = load_scenario(name)
    assert scenario.name == name and scenario.title and scenario.description
    if scenario.expect["exit"] == 64:  # a command that must refuse (e.g. an unknown rule UUID)
        assert scenario.expect["error"] and scenario.input["rule"]
        return
    CauseCode(scenario.expect["cause"])
    Confidence(scenario.expect["confidence"])
    Outcome(scenario.expect["outcome"])
    assert scenario.input.get("actor") or scenario.input.get("rule")
    inspector = scenario.world.user_by_email(scenario.settings.get("ATLASSIAN_EMAIL", "inspector@acme.com"))
    assert inspector is not None
    if scenario.expect["cause"] != "inspector_misconfigured":
        assert "atlassian/site-admin" in inspector.platform_roles


def test_list_is_sorted_and_the_tour_is_the_chosen_seven() -> None:
    scenarios = list_scenarios()
    assert [s.name for s in scenarios] == BUNDLED
    assert {s.name for s in scenarios if s.tour} == TOUR


def test_every_cause_has_a_bundled_scenario() -> None:
    assert {s.expect.get("cause") for s in list_scenarios()} - {None} == {c.value for c in CauseCode}


def test_seed_story() -> None:
    seed, replay = load_scenario("seed_automation_actor"), load_scenario("seed_automation_actor_replay")
    assert (seed.expect["cause"], seed.expect["confidence"]) == ("credential_rejected", "likely")
    assert (replay.expect["cause"], replay.expect["confidence"]) == ("credential_rejected", "confirmed")
    actor = seed.world.user_by_email(seed.input["actor"])
    assert actor is not None and [t.last_access for t in actor.tokens] == [None]
    assert seed.world.has_confluence_access(actor)
    assert seed.input["actor_token"] is None and replay.input["actor_token"].endswith(actor.tokens[0].value)


def _write(tmp_path: Path, data: dict[str, Any], name: str = "unit") -> Path:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


UNKNOWN_KEY_PLACES = {
    "top level": lambda d: d.update(extra=1),
    "world": lambda d: d["world"].update(extra=1),
    "site": lambda d: d["world"]["site"].update(extra=1),
    "user": lambda d: d["world"]["users"][1].update(extra=1),
    "token": lambda d: d["world"]["users"][1]["tokens"][0].update(extra=1),
    "principal": lambda d: d["world"]["spaces"][0]["permissions"][0]["principal"].update(extra=1),
    "faults": lambda d: d["world"].update(faults={"latency": 5}),
    "settings": lambda d: d["settings"].update(ATLASSIAN_EXTRA="x"),
    "input": lambda d: d["input"].update(extra=1),
    "expect": lambda d: d["expect"].update(extra=1),
}


@pytest.mark.parametrize("place", UNKNOWN_KEY_PLACES.values(), ids=UNKNOWN_KEY_PLACES.keys())
def test_unknown_keys_are_rejected_naming_key_and_file(tmp_path: Path, scenario_data, place) -> None:
    place(scenario_data)
    path = _write(tmp_path, scenario_data)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert str(path) in message
    assert re.search(r"unknown key '(extra|latency|ATLASSIAN_EXTRA)'", message)


BAD_VALUES = {
    "missing key": (lambda d: d["world"]["users"][1].pop("email"), "missing key 'email'"),
    "bad literal": (lambda d: d["world"]["users"][1].update(account_status="gone"), "account_status"),
    "wrong type": (lambda d: d["world"]["site"].update(exists="yes"), "exists must be bool"),
    "bad cause": (lambda d: d["expect"].update(cause="bad_luck"), "bad_luck"),
    "outcome mismatch": (lambda d: d["expect"].update(outcome="ok", exit=0), "outcome problem"),
    "unknown group": (lambda d: d["world"]["users"][1]["groups"].append("nobody"), "unknown group"),
    "classic service token": (lambda d: d["world"]["users"][5]["tokens"][0].update(kind="classic"), "service account"),
    "bad time": (lambda d: d["world"]["users"][1]["tokens"][0].update(expiry="soon"), "bad time"),
    "bad cidr": (lambda d: d["world"].update(policies=[{"id": "p", "name": "n", "cidrs": ["x"]}]), "bad CIDR"),
}


@pytest.mark.parametrize(("change", "needle"), BAD_VALUES.values(), ids=BAD_VALUES.keys())
def test_bad_values_are_rejected(tmp_path: Path, scenario_data, change, needle: str) -> None:
    change(scenario_data)
    with pytest.raises(ScenarioError, match=re.escape(needle)):
        load_scenario(_write(tmp_path, scenario_data))


def test_name_must_match_the_file(tmp_path: Path, scenario_data) -> None:
    with pytest.raises(ScenarioError, match="must equal the file name"):
        load_scenario(_write(tmp_path, scenario_data, name="other"))


def test_unknown_bundled_name() -> None:
    with pytest.raises(UnknownScenario, match="bundled: ") as caught:
        load_scenario("no_such_scenario")
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, KeyError)


async def test_env_and_resolved_input(serve, scenario_data) -> None:
    sim = await serve(scenario_data)
    env = sim.env()
    assert env["ATLASSIAN_SITE_URL"] == sim.site_url and env["ATLASSIAN_API_URL"] == sim.api_url
    assert env["ATLASSIAN_STATUS_URL"] == sim.status_url
    assert env["ATLASSIAN_ORG_API_KEY"] == scenario_data["settings"]["ATLASSIAN_ORG_API_KEY"]
    assert all(not url.endswith("/") for url in (sim.site_url, sim.api_url, sim.status_url))
    given = sim.resolve_input()
    assert given["endpoint"] == f"GET {sim.site_url}/wiki/rest/api/space"
    gateway = f"{sim.api_url}/ex/confluence/{sim.state.site.cloud_id}"
    assert given["body"] == '{"x":{"y":1}} at ' + gateway + " via " + sim.api_url

