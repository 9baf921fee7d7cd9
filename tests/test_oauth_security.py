"""Canaries for OAuth 2.0 credentials: a client secret and the access tokens (given, or issued for the
client credentials during the run) reach no sink — terminal, JSON, logs at DEBUG, history, exports,
exception text — and go to no host but theirs: the secret to the token host only, an access token to
the API host (and the site only as the deliberate contrast call)."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest

from bot.cli import main
from bot.commands import simulator_in_thread
from bot.simulator import load_scenario

CANARY_CLIENT_SECRET = "ATOA-CANARY-CLIENT-SECRET-9d41e2"
# a JWT-shaped canary (three base64url segments), so it is taken for an OAuth access token
CANARY_ACCESS_TOKEN = ("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjYW5hcnkiLCJleHAiOjQwNzA5MDg4MDB9"
                       ".Q0FOQVJZLUFDQ0VTUy1UT0tFTi1zaWduYXR1cmU")


def _sinks(tmp_path: Path, outputs: list[str], err: str, logs: str) -> list[str]:
    blobs = [*outputs, err, logs]
    return blobs + [p.read_bytes().decode("latin-1") for p in tmp_path.iterdir() if p.name.startswith("h.db")]


def _run_all(actor: str, line: str, flag: str, given: dict[str, object], capsys: pytest.CaptureFixture[str],
             monkeypatch: pytest.MonkeyPatch) -> list[str]:
    outputs = []
    for extra in ([], ["--json"]):
        monkeypatch.setattr("sys.stdin", io.StringIO(line + "\n"))
        main(["check", actor, "--endpoint", str(given["endpoint"]), flag, "--status", "401",
              "--body", f"sent {line} and it failed", *extra])
        outputs.append(capsys.readouterr().out)
    run_id = next(x for x in outputs[1].splitlines() if '"run_id"' in x).split('"')[3]
    for args in (["show", run_id, "--markdown"], ["show", run_id, "--json"], ["history", actor]):
        main(args)
        outputs.append(capsys.readouterr().out)
    return outputs


def test_a_client_secret_and_the_token_it_buys_reach_no_sink_and_no_other_host(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with simulator_in_thread(load_scenario("oauth_missing_scope")) as sim:
        sim.state.oauth_clients[0].secret = CANARY_CLIENT_SECRET
        client_id = sim.state.oauth_clients[0].client_id
        for key, value in {**sim.env(), "DATABASE_PATH": str(tmp_path / "h.db")}.items():
            monkeypatch.setenv(key, value)
        given = sim.resolve_input()
        outputs = _run_all(str(given["actor"]), f"{client_id}:{CANARY_CLIENT_SECRET}", "--client-credentials-stdin",
                           given, capsys, monkeypatch)
        issued = [t.value for t in sim.state.oauth_tokens]
        log = list(sim.requests)
    assert len(issued) == 2  # one token per run: the exchange really happened, twice
    assert "missing_scope" in outputs[0] and "read:space:confluence" in outputs[0]
    for blob in _sinks(tmp_path, outputs, capsys.readouterr().err, caplog.text):
        for canary in (CANARY_CLIENT_SECRET, *issued):
            assert canary not in blob
    # where each credential went: the token host sees no Authorization header (the secret is in the body,
    # which the simulator never logs); Bearer goes to the API host, and to the site once per run (the contrast)
    assert {r.role for r in log if r.role == "auth"} == {"auth"}
    assert all(r.auth_kind == "none" for r in log if r.role in ("auth", "status"))
    bearer_at_site = [r for r in log if r.role == "site" and r.auth_kind == "bearer"]
    assert [r.path for r in bearer_at_site] == ["/wiki/rest/api/user/current"] * 2
    assert not any(c in str(r) for r in log for c in (CANARY_CLIENT_SECRET, *issued))


def test_a_given_access_token_reaches_no_sink(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str],
                                              caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with simulator_in_thread(load_scenario("oauth_token_site_url")) as sim:
        sim.state.oauth_tokens[0].value = CANARY_ACCESS_TOKEN
        for key, value in {**sim.env(), "DATABASE_PATH": str(tmp_path / "h.db")}.items():
            monkeypatch.setenv(key, value)
        given = sim.resolve_input()
        outputs = _run_all(str(given["actor"]), CANARY_ACCESS_TOKEN, "--actor-token-stdin", given, capsys,
                           monkeypatch)
        log = list(sim.requests)
    assert "oauth_token_site_url" in outputs[0]
    assert any(r.auth_kind == "bearer" and r.role == "api" for r in log)  # the canary was really used
    for blob in _sinks(tmp_path, outputs, capsys.readouterr().err, caplog.text):
        assert CANARY_ACCESS_TOKEN not in blob
        assert CANARY_ACCESS_TOKEN.split(".")[1] not in blob  # not even its claims


def test_an_unreachable_token_host_is_a_configuration_error_without_the_secret(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with simulator_in_thread(load_scenario("oauth_ok")) as sim:
        env = {**sim.env(), "DATABASE_PATH": str(tmp_path / "h.db"), "ATLASSIAN_AUTH_URL": "http://127.0.0.1:9"}
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        client_id = sim.state.oauth_clients[0].client_id
        monkeypatch.setattr("sys.stdin", io.StringIO(f"{client_id}:{CANARY_CLIENT_SECRET}\n"))
        code = main(["check", str(sim.resolve_input()["actor"]), "--client-credentials-stdin", "--json"])
        log = list(sim.requests)
    out, err = capsys.readouterr()
    assert code == 64 and "ATLASSIAN_AUTH_URL" in err and out == ""  # the bot's setting, not a diagnosis
    assert not any(r.role == "auth" for r in log)  # nothing reached the simulator's token host
    for blob in (out, err, caplog.text):
        assert CANARY_CLIENT_SECRET not in blob


async def test_a_token_host_that_fails_mid_run_is_missing_evidence_without_the_secret(simulator) -> None:
    """Past the preflight (the Slack bot has none), a token host that does not answer is an error step:
    no cause, and its text holds no secret."""
    from bot import engine
    from bot.config import Settings
    from bot.request import ActorSecret, CheckRequest

    sim = await simulator("oauth_ok")
    client_id = sim.state.oauth_clients[0].client_id
    settings = Settings.from_mapping({**sim.env(), "ATLASSIAN_AUTH_URL": "http://127.0.0.1:9"})
    request = CheckRequest(str(sim.resolve_input()["actor"]),
                           actor_secret=ActorSecret.parse_client(f"{client_id}:{CANARY_CLIENT_SECRET}"))
    run = await engine.start(request, settings).wait()
    token = run.step("oauth.token")
    assert token is not None and token.status.value == "error"
    assert run.verdict is not None and run.verdict.cause.value == "inconclusive"
    assert CANARY_CLIENT_SECRET not in str(run.to_dict())
