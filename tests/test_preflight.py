"""An unreachable configured Atlassian host is a configuration error naming the host and the
setting (exit 64, nothing stored), never a step of the actor's diagnosis."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from bot.cli import ExitCode, main
from bot.commands import simulator_in_thread
from bot.simulator import load_scenario


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when this returns: nothing listens there


@pytest.mark.parametrize("unreachable", ["ATLASSIAN_SITE_URL", "ATLASSIAN_API_URL"])
def test_an_unreachable_configured_host_exits_64_naming_it(unreachable: str, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    port = _closed_port()
    with simulator_in_thread(load_scenario("ok")) as sim:
        env = {**sim.env(), "DATABASE_PATH": str(tmp_path / "h.db"), unreachable: f"http://127.0.0.1:{port}"}
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        code = main(["check", sim.resolve_input()["actor"], "--status", "403"])
        captured = capsys.readouterr()
        assert sim.requests == []  # not a single diagnosis request
    assert code == ExitCode.USAGE
    [line] = captured.err.strip().splitlines()
    assert unreachable in line and f"127.0.0.1:{port}" in line and "refused" in line.lower()
    assert "CannotConnect" not in captured.out and "Checking" not in captured.out
    main(["history", "--json"])
    assert capsys.readouterr().out.strip() in ("[]", '{"runs": []}')


def test_an_unresolvable_site_host_exits_64(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ATLASSIAN_SITE_URL", "https://acme.invalid")  # RFC 2606: never resolves
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "h.db"))
    assert main(["check", "a@acme.com"]) == ExitCode.USAGE
    assert "ATLASSIAN_SITE_URL host acme.invalid:443 cannot be reached" in capsys.readouterr().err
