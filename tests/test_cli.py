"""The command line: usage errors exit 64 with a clear line; history, show and demo work end to end."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from bot.cli import ExitCode, build_parser, main
from bot.commands import simulator_in_thread
from bot.simulator import load_scenario

SITE = {"ATLASSIAN_SITE_URL": "https://acme.atlassian.net"}


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("args,message", [
    (["check", "not-an-actor"], "not an email address or an Atlassian account id"),
    (["check", "a@acme.com", "--endpoint", "GET wiki/x"], "cannot parse endpoint"),
    (["check", "a@acme.com", "--endpoint", "GET https://evil.example.com/wiki/rest/api/space"], "refusing"),
    (["check", "a@acme.com", "--endpoint", "GET https://acme.atlassian.net@evil.example.com/"], "user-info"),
    (["check", "a@acme.com", "--status", "abc"], "not an HTTP status code"),
    (["check"], "actor"),
    (["frobnicate"], "invalid choice"),
    (["check", "a@acme.com", "--body-file", "/nonexistent/file"], "cannot read --body-file"),
])
def test_bad_input_exits_64_with_one_clear_line_and_the_usage(args: list[str], message: str,
                                                              monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    for k, v in SITE.items():
        monkeypatch.setenv(k, v)
    code, _out, err = run_cli(args, capsys)
    assert code == ExitCode.USAGE
    error, usage = err.splitlines()
    assert message in error and "Traceback" not in err
    assert usage.startswith("usage: confluence-check") and (args[0] not in ("check",) or " check " in usage)


def test_missing_site_setting_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["check", "a@acme.com"], capsys)
    assert code == 64 and "ATLASSIAN_SITE_URL" in err


def test_actor_token_stdin_needs_a_token(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ATLASSIAN_SITE_URL", "https://acme.atlassian.net")
    monkeypatch.setattr("sys.stdin", io.StringIO("\n"))
    code, _, err = run_cli(["check", "a@acme.com", "--actor-token-stdin"], capsys)
    assert code == 64 and "no actor token" in err


def test_parser_builds_options_without_running() -> None:
    args = build_parser().parse_args(["check", "a@acme.com", "--status", "403", "--space", "ENG", "--json"])
    assert (args.actor, args.status, args.space, args.json) == ("a@acme.com", 403, "ENG", True)


def test_check_history_show_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "h.db"
    with simulator_in_thread(load_scenario("no_confluence_access")) as sim:
        for key, value in {**sim.env(), "DATABASE_PATH": str(db)}.items():
            monkeypatch.setenv(key, value)
        actor = sim.resolve_input()["actor"]
        code, out, _ = run_cli(["check", actor], capsys)
        assert code == ExitCode.PROBLEM
        assert "✗" in out and "no_confluence_access" in out and "Grant access" in out
        sim.state.user_by_email(actor).roles.append("atlassian/user")  # an admin fixes it
        code, out, _ = run_cli(["check", actor, "--json"], capsys)
        fixed = json.loads(out)
    assert code == ExitCode.OK and fixed["outcome"] == "ok"
    code, out, _ = run_cli(["history", actor], capsys)
    assert code == 0 and "failing since" in out and "fixed at" in out
    code, out, _ = run_cli(["show", fixed["run_id"], "--json"], capsys)
    assert json.loads(out) == fixed
    code, out, _ = run_cli(["show", fixed["run_id"], "--markdown"], capsys)
    assert out.startswith("#") and fixed["run_id"] in out
    code, _, err = run_cli(["show", "r_nope"], capsys)
    assert code == 64 and "r_nope" in err


def test_demo_tour_runs_every_tour_scenario(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "demo.db"))
    code, out, _ = run_cli(["demo"], capsys)
    assert code == 0, out
    assert "seed_automation_actor" in out and "More scenarios" in out
    assert "gave the expected verdict" in out
    code, _, err = run_cli(["demo", "no_such_scenario"], capsys)
    assert code == 64 and "no scenario" in err
