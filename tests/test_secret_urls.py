"""Secret-bearing URLs and bodies: a Slack webhook's path, a token in a fragment, a rule's `urlSecure` URL,
credential-named JSON members and form fields are masked in every sink (terminal, JSON, Markdown, logs,
the history's compressed documents, Slack and the support bundle)."""

from __future__ import annotations

import copy
import io
import json
import logging
import sqlite3
from pathlib import Path

import pytest

from bot.automation.analysis import check_url
from bot.cli import main
from bot.commands import simulator_in_thread
from bot.redact import MASK, is_secret_url, redact_text
from bot.simulator import load_scenario
from bot.simulator.scenario import Scenario
from bot.store.records import decode_doc
from tests.rules import web_request

WEBHOOK_SECRET = "CANARYwebhookPATHsecret7f3a"
WEBHOOK = f"https://hooks.slack.com/services/T0CANARY1/B0CANARY2/{WEBHOOK_SECRET}"
TRIGGER_SECRET = "CANARYtriggerSECRET91c2"
SECURE_URL_SECRET = "CANARYsecureURLpart5d5d"
FRAGMENT_TOKEN = "CANARY-FRAGMENT-TOKEN-0b0b"
BODY_TOKEN = "CANARY-BODY-TOKEN-4e4e4e"
CANARIES = (WEBHOOK_SECRET, TRIGGER_SECRET, SECURE_URL_SECRET, FRAGMENT_TOKEN, BODY_TOKEN)


@pytest.mark.parametrize(("text", "secret"), [
    (WEBHOOK, WEBHOOK_SECRET),
    (f"POST https://hooks.slack.com/triggers/T01ABC/1234567/{TRIGGER_SECRET} → 200", TRIGGER_SECRET),
    (f"https://hooks.slack.com/workflows/T01ABC/A01/1234/{TRIGGER_SECRET}", TRIGGER_SECRET),
    (f"https://HOOKS.slack-gov.com/services/T1/B1/{WEBHOOK_SECRET}", WEBHOOK_SECRET),
    (f"https://app.example.com/callback#access_token={FRAGMENT_TOKEN}&token_type=bearer", FRAGMENT_TOKEN),
    (f'{{"token": "{BODY_TOKEN}", "limit": 5}}', BODY_TOKEN),
    (f'{{"access_token":"{BODY_TOKEN}"}}', BODY_TOKEN),
    (f'{{"clientSecret" : "{BODY_TOKEN}"}}', BODY_TOKEN),
    (f'"body": "{{\\"refresh_token\\": \\"{BODY_TOKEN}\\"}}"', BODY_TOKEN),  # JSON inside a JSON string
    (f"grant_type=client_credentials&client_secret={BODY_TOKEN}", BODY_TOKEN),
    (f"client_secret={BODY_TOKEN}&grant_type=client_credentials", BODY_TOKEN),
    (f"access_token={BODY_TOKEN}", BODY_TOKEN),
])
def test_secret_bearing_urls_and_bodies_are_masked(text: str, secret: str) -> None:
    out = redact_text(text)
    assert secret not in out and MASK in out


@pytest.mark.parametrize("text", [
    '{"token_type": "bearer", "key": "ENG", "spaceKey": "DOCS"}',
    "https://acme.atlassian.net/wiki/admin/automation#/rule/019d0162-a338-7210-8481-960dff8f80ad",
    "https://hooks.slack.com/",  # the host alone holds nothing
    "limit=25&start=0",
])
def test_ordinary_bodies_and_links_stay_readable(text: str) -> None:
    assert redact_text(text) == text


def test_one_notion_of_a_secret_bearing_url() -> None:
    assert is_secret_url(WEBHOOK) and is_secret_url("https://x.example/cb#access_token=abcdef12")
    assert is_secret_url("https://u:pw123456@x.example/") and is_secret_url("https://x.example/?api_key=abc")
    assert not is_secret_url("https://acme.atlassian.net/wiki/rest/api/space?spaceKey=ENG")


def test_the_header_view_shows_such_a_url_as_host_and_masked_path() -> None:
    site, api = "https://acme.atlassian.net", "https://api.atlassian.com"
    assert check_url(WEBHOOK, site, api).shown == f"https://hooks.slack.com/{MASK}"
    marked = check_url(f"https://ci.example.com/hook/{SECURE_URL_SECRET}", site, api, secret=True)
    assert marked.shown == f"https://ci.example.com/{MASK}"


def _with_secret_urls(base: Scenario) -> Scenario:
    """The scenario's rule with three more Send web requests: a Slack webhook, a workflow trigger and a URL
    the rule marks as holding a secret (`urlSecure`)."""
    world = copy.deepcopy(base.world)
    children = world.automation_rules[0]["rule"]["components"][0]["children"][0]["children"]
    json_type = [("Content-Type", "application/json", False)]
    children.append(web_request(WEBHOOK, "POST", json_type, component_id="hook", body='{"text": "released"}'))
    children.append(web_request(f"https://hooks.slack.com/triggers/T01/999/{TRIGGER_SECRET}", "POST", json_type,
                                component_id="trigger"))
    secure = web_request(f"https://ci.example.com/hook/{SECURE_URL_SECRET}", "POST", json_type, component_id="sec")
    secure["value"]["urlSecure"] = True
    children.append(secure)
    return Scenario(**{**base.__dict__, "world": world})


def stored_texts(db_path: Path) -> list[str]:
    """Everything the history holds: raw bytes of every file (WAL included) and every compressed
    document, decompressed."""
    texts = [p.read_bytes().decode("latin-1") for p in db_path.parent.iterdir() if p.name.startswith(db_path.name)]
    db = sqlite3.connect(db_path)
    try:
        for doc, steps in db.execute("select doc, steps_doc from runs"):
            texts += [json.dumps(decode_doc(doc))] + ([json.dumps(decode_doc(steps))] if steps else [])
        texts += [row[0] for row in db.execute("select doc from run_steps")]
    finally:
        db.close()
    return texts


def test_secret_urls_of_a_rule_never_reach_a_sink(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str],
                                                   caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    db = tmp_path / "h.db"
    scenario = _with_secret_urls(load_scenario("rule_space_permission_missing"))
    outputs = []
    with simulator_in_thread(scenario) as sim:
        for key, value in {**sim.env(), "DATABASE_PATH": str(db)}.items():
            monkeypatch.setenv(key, value)
        rule = sim.resolve_input()["rule"]
        for extra in ([], ["--json"], ["--markdown"]):
            main(["rule", rule, *extra])
            outputs.append(capsys.readouterr().out)
    runs = json.loads(outputs[1])
    assert len(runs) == 4
    for run in runs[1:]:
        main(["show", run["run_id"]])
        main(["show", run["run_id"], "--markdown"])
    main(["history", "--json"])
    outputs.append(capsys.readouterr().out)
    shown = [r["request"]["rule"]["url"] for r in runs[1:]]
    assert shown == [f"https://hooks.slack.com/{MASK}"] * 2 + [f"https://ci.example.com/{MASK}"]
    assert f"POST https://hooks.slack.com/{MASK}" in outputs[0]
    logs = "\n".join(f"{r.getMessage()} {r.args}" for r in caplog.records)
    for blob in [*outputs, capsys.readouterr().err, logs, *stored_texts(db)]:
        for canary in CANARIES:
            assert canary not in blob


def test_a_token_in_a_pasted_body_or_a_fragment_never_reaches_a_sink(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    db = tmp_path / "h.db"
    with simulator_in_thread(load_scenario("space_permission_missing")) as sim:
        for key, value in {**sim.env(), "DATABASE_PATH": str(db)}.items():
            monkeypatch.setenv(key, value)
        actor = sim.resolve_input()["actor"]
        body = json.dumps({"message": "denied", "access_token": BODY_TOKEN, "token": BODY_TOKEN})
        endpoint = f"GET /wiki/rest/api/space/DOCS#access_token={FRAGMENT_TOKEN}"
        monkeypatch.setattr("sys.stdin", io.StringIO(""))
        for extra in ([], ["--json"]):
            main(["check", actor, "--status", "403", "--body", body, "--endpoint", endpoint, *extra])
    store = sqlite3.connect(db)
    ids = [r[0] for r in store.execute("select run_id from runs")]
    store.close()
    for run_id in ids:
        for extra in ([], ["--markdown"], ["--json"]):
            main(["show", run_id, *extra])
    captured = capsys.readouterr()
    logs = "\n".join(f"{r.getMessage()} {r.args}" for r in caplog.records)
    assert '"message": "denied"' in captured.out  # the body is kept, its secret masked
    for blob in [captured.out, captured.err, logs, *stored_texts(db)]:
        assert BODY_TOKEN not in blob and FRAGMENT_TOKEN not in blob
