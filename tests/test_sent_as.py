"""How the failing caller sends the token (`check --sent-as`, Slack `sent:`): outside an automation rule
the product cannot read the caller's header, and on Confluence v1 a Bearer API token, no header and a
wrong token get the same 403 (docs/atlassian.md §0.1, §1.3). Given the form, the failing call is sent
that way with the actor's token, over real HTTP to the simulator, and the judge weighs what came back.

The world is the llama reader's (a public report, tests/field): a working classic token that a reader
configured with the token alone sent as Bearer, so Atlassian never recorded a use of it.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from bot.atlassian import Atlassian, Auth, Role
from bot.atlassian.hosts import HostGuard
from bot.cli import main
from bot.commands import simulator_in_thread
from bot.config import SETTING_HELP, Secret, Settings
from bot.errors import HostNotAllowed, UsageError
from bot.judge import Context, Seen, judge
from bot.model import CauseCode, Confidence, Run
from bot.observations import HeaderAsSent, HeaderProblem
from bot.request import SentAs
from bot.simulator import list_field_scenarios
from bot.simulator.scenario import secret_line
from bot.slack.runs import request_from_run
from bot.slack.text import CheckCommand, parse_command
from tests.atlassian.test_clients import Recorder
from tests.fakes.atlassian_http import MockTransport
from tests.test_scenarios import cli_args

WORLD = next(s for s in list_field_scenarios() if s.name == "llama_reader_bearer")
TOKEN = WORLD.input["actor_token"].split(":", 1)[1]


def run_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sent_as: str | None,
            *, token: bool = True) -> tuple[int, dict, str, list]:
    """`confluence-check check … --json [--sent-as FORM]` on the llama world: exit, run, all output, the requests."""
    for key in list(os.environ):
        if key in SETTING_HELP or key.startswith(("ATLASSIAN_", "SLACK_")):
            monkeypatch.delenv(key)
    with simulator_in_thread(WORLD) as sim:
        for key, value in {**sim.env(), "DATABASE_PATH": str(tmp_path / "h.db")}.items():
            monkeypatch.setenv(key, value)
        given = {k: v for k, v in sim.resolve_input().items() if k != "sent_as" and (token or k != "actor_token")}
        if sent_as is not None:
            given["sent_as"] = sent_as
        monkeypatch.setattr("sys.stdin", io.StringIO(secret_line(given) + "\n"))
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(cli_args(given))
        requests = list(sim.requests)
    text = out.getvalue()
    return code, json.loads(text) if text.strip().startswith("{") else {}, text + err.getvalue(), requests


def test_a_bearer_caller_is_named_and_confirmed_once_the_call_is_sent_as_bearer(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, run, output, requests = run_cli(tmp_path, monkeypatch, "bearer")
    verdict = run["verdict"]
    assert (verdict["cause"], verdict["confidence"], code) == ("bearer_with_api_token", "confirmed", 1)
    assert run["request"]["sent_as"] == "bearer"
    step = next(s for s in run["steps"] if s["id"] == "replay.as_sent")
    assert step["status"] == "fail" and "Bearer" in step["summary"] and "403" in step["summary"]
    # the API token went as Bearer once, to the site only; it is shown nowhere, in no encoding
    bearer = [r for r in requests if r.auth_kind == "bearer" and r.role == "site"]
    assert len(bearer) == 1 and bearer[0].path.startswith("/wiki/rest/api/content")
    shown = output + json.dumps(run)
    for form in (TOKEN, base64.b64encode(TOKEN.encode()).decode(), TOKEN[8:30]):
        assert form not in shown


def test_without_the_form_the_same_report_stays_a_rejected_credential_with_bearer_open(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, run, _, _ = run_cli(tmp_path, monkeypatch, None)
    verdict = run["verdict"]
    assert verdict["cause"] == "credential_rejected" and verdict["confidence"] != "confirmed"
    open_rivals = {o["cause"]: o["would_decide"] for o in verdict["not_ruled_out"]}
    assert "--sent-as" in open_rivals["bearer_with_api_token"]


def test_a_caller_said_to_send_basic_rules_bearer_and_a_missing_header_out(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, run, _, _ = run_cli(tmp_path, monkeypatch, "basic")
    verdict = run["verdict"]
    assert verdict["cause"] not in ("bearer_with_api_token", "auth_header_missing")
    out = {r["cause"]: r["by"] for r in verdict["ruled_out"]}
    assert "as described" in out["bearer_with_api_token"] and "as described" in out["auth_header_missing"]
    assert "bearer_with_api_token" not in {o["cause"] for o in verdict["not_ruled_out"]}


def test_no_header_is_sent_without_any_credential(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, run, _, requests = run_cli(tmp_path, monkeypatch, "none")
    assert run["verdict"]["cause"] == "auth_header_missing"
    as_sent = [r for r in requests if r.path.startswith("/wiki/rest/api/content") and r.auth_kind == "none"]
    assert as_sent, "the failing call was sent without an Authorization header"


def test_the_form_alone_without_the_token_is_indirect(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, run, _, requests = run_cli(tmp_path, monkeypatch, "bearer", token=False)
    verdict = run["verdict"]
    assert verdict["cause"] == "bearer_with_api_token" and verdict["confidence"] == "likely"
    assert not [r for r in requests if r.auth_kind == "bearer" and r.role == "site"]
    # nothing was sent, so the step did not check anything: skipped, never passed
    step = next(s for s in run["steps"] if s["id"] == "replay.as_sent")
    assert step["status"] == "skip" and "not sent: no actor token given" in step["summary"]


def test_an_unknown_form_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, output, _ = run_cli(tmp_path, monkeypatch, "token")
    assert code == 64 and "--sent-as takes basic, bearer or none" in output


# -- the pieces ------------------------------------------------------------------------------------

def test_slack_text_takes_sent_and_a_rerun_keeps_it() -> None:
    guard = HostGuard("https://acme.atlassian.net", "https://api.atlassian.com")
    command = parse_command("sayan@acme.com GET /wiki/rest/api/content status:403 sent:Bearer", guard)
    assert isinstance(command, CheckCommand) and command.request.sent_as is SentAs.BEARER
    with pytest.raises(UsageError, match="`sent:` takes basic, bearer or none"):
        parse_command("sayan@acme.com sent:token", guard)
    def stored(request: dict[str, object]) -> Run:
        return Run(run_id="r1", actor="sayan@acme.com", site="https://acme.atlassian.net",
                   started_at=datetime.now(UTC), request=request)

    assert request_from_run(stored(command.request.describe()), guard).sent_as is SentAs.BEARER
    assert request_from_run(stored({"actor": "sayan@acme.com"}), guard).sent_as is None  # a run stored before


async def test_the_api_token_as_bearer_goes_to_the_site_and_the_gateway_only() -> None:
    rec = Recorder(httpx.Response(200, json={}))
    settings = Settings.load({"ATLASSIAN_SITE_URL": "https://acme.atlassian.net"})
    async with Atlassian(settings, transport=MockTransport(rec), actor_token=Secret(TOKEN)) as http:  # type: ignore[arg-type]
        await http.call(Role.SITE, "GET", "/wiki/rest/api/content", auth=Auth.ACTOR_TOKEN_AS_BEARER)
        await http.call(Role.API, "GET", "/ex/confluence/c1/wiki/rest/api/content", auth=Auth.ACTOR_TOKEN_AS_BEARER)
        with pytest.raises(HostNotAllowed):
            await http.call(Role.API, "GET", "/admin/v1/orgs", auth=Auth.ACTOR_TOKEN_AS_BEARER)
        with pytest.raises(HostNotAllowed):  # an OAuth route is no place for an API token either
            await http.call(Role.API, "GET", "/oauth/token/accessible-resources", auth=Auth.ACTOR_TOKEN_AS_BEARER)
        with pytest.raises(HostNotAllowed):
            await http.call(Role.STATUS, "GET", "/api/v2/summary.json", auth=Auth.ACTOR_TOKEN_AS_BEARER)
    assert [r.headers["authorization"] for r in rec.requests] == [f"Bearer {TOKEN}"] * 2


@pytest.mark.parametrize(("sent", "worked", "expect"), [
    (True, False, (CauseCode.BEARER_WITH_API_TOKEN, Confidence.CONFIRMED)),  # sent that way and refused
    (False, False, (CauseCode.BEARER_WITH_API_TOKEN, Confidence.LIKELY)),  # only described
], ids=["sent and refused", "described only"])
def test_the_judge_weighs_a_described_form_by_whether_it_was_sent(sent: bool, worked: bool,
                                                                  expect: tuple[CauseCode, Confidence]) -> None:
    seen = [Seen("replay.as_sent", HeaderAsSent(HeaderProblem.BEARER, worked, sent, "sent with Bearer",
                                                reported=True))]
    verdict = judge(seen, Context(reported_status=403))
    assert (verdict.cause, verdict.confidence) == expect


def test_a_described_form_that_works_when_sent_is_not_the_cause() -> None:
    seen = [Seen("replay.as_sent", HeaderAsSent(HeaderProblem.BEARER, True, True, "Sent with Bearer, it answered 200",
                                                reported=True))]
    verdict = judge(seen, Context(reported_status=403))
    assert verdict.cause is not CauseCode.BEARER_WITH_API_TOKEN
    assert any(r.cause is CauseCode.BEARER_WITH_API_TOKEN and "Not the header form" in r.by for r in verdict.ruled_out)
