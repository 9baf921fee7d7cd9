"""Exit codes as docs/architecture.md §Command line says, for every case that used to crash with exit 1.

64 bad usage or configuration (the message names the argument or setting), 70 an internal error
(one line with the run id and how to see the traceback), 130 interrupted, 143 stopped by SIGTERM; a closed output pipe
ends quietly. Where it matters the real program runs in a subprocess (pipes, signals, argv bytes).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import ExitCode, main
from bot.commands import simulator_in_thread
from bot.simulator import SimulatorServer, load_scenario
from bot.store import HistoryStore

UNREACHABLE_SITE = "http://127.0.0.1:9"  # discard port: nothing listens; never reached by these tests


def run_main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def cli_command(*args: str | bytes, unprivileged: bool = False) -> list[str | bytes]:
    """`python -m bot ARGS`; `unprivileged` drops root's power to ignore file permissions, so a
    read-only file is read-only for this test even when it runs as root."""
    prefix: list[str | bytes] = []
    if unprivileged and os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        assert setpriv, "running as root needs setpriv to test file permissions"
        prefix = [setpriv, "--bounding-set=-dac_override,-dac_read_search",
                  "--inh-caps=-dac_override,-dac_read_search"]
    return [*prefix, sys.executable, "-m", "bot", *args]


def env_with(**settings: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "SYSTEMROOT")}
    return {**keep, "PYTHONUNBUFFERED": "1", **settings}


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture
def sim() -> Iterator[SimulatorServer]:
    with simulator_in_thread(load_scenario("no_confluence_access")) as server:
        yield server


# --- 64: configuration ---------------------------------------------------------------------------


def _directory(tmp: Path) -> Path:
    (tmp / "folder").mkdir()
    return tmp / "folder"


def _corrupted(tmp: Path) -> Path:
    path = tmp / "corrupt.db"
    path.write_bytes(b"this is not an SQLite database, it is a text file that happens to sit here\n" * 20)
    return path


def _read_only(tmp: Path) -> Path:
    path = tmp / "readonly.db"
    HistoryStore.open(path).close()
    for p in tmp.iterdir():  # the -wal/-shm files as well
        p.chmod(0o444)
    return path


def _unwritable_folder(tmp: Path) -> Path:
    folder = tmp / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    return folder / "history.db"


@pytest.mark.parametrize("make", [_directory, _corrupted, _read_only, _unwritable_folder],
                         ids=["directory", "corrupted", "read-only", "unwritable-folder"])
def test_an_unusable_database_path_exits_64_naming_it(make, tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    path = make(tmp_path)
    env = env_with(ATLASSIAN_SITE_URL=UNREACHABLE_SITE, DATABASE_PATH=str(path))
    for args in (["check", "a@acme.com"], ["history"]):
        if make is _read_only and args == ["history"]:
            continue  # reading a read-only history is fine
        done = subprocess.run(cli_command(*args, unprivileged=True), env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == ExitCode.USAGE, done.stderr
        line = one_line(done.stderr)
        assert "DATABASE_PATH" in line and str(path) in line


@pytest.mark.parametrize("value", ["http://[::1", "https://acme.atlassian.net:abc", "acme.atlassian.net",
                                   "https://acme.atlassian.net/wiki", "https://acme.atlassian.net/wiki/spaces/X"])
def test_a_malformed_site_url_exits_64_naming_the_setting(value: str, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ATLASSIAN_SITE_URL", value)
    code, _, err = run_main(["check", "a@acme.com"], capsys)
    assert code == ExitCode.USAGE
    assert "ATLASSIAN_SITE_URL" in one_line(err)


def test_a_site_url_with_wiki_says_what_to_set_instead(monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ATLASSIAN_SITE_URL", "https://acme.atlassian.net/wiki/")
    _, _, err = run_main(["history"], capsys)
    assert "set ATLASSIAN_SITE_URL=https://acme.atlassian.net " in err


@pytest.mark.parametrize("args,named", [
    (["simulate", "--scenario", "nope"], "no scenario 'nope'"),
    (["simulate", "--scenario", "missing.json"], "missing.json"),
    (["simulate", "--scenario", "broken.json"], "broken.json"),
    (["simulate", "--port", "99999"], "--port"),
    (["simulate", "--port", "-1"], "--port"),
    (["demo", "nope"], "no scenario 'nope'"),
    (["demo", "broken.json"], "broken.json"),
])
def test_simulator_usage_errors_exit_64_with_the_usage(args: list[str], named: str, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "broken.json").write_text('{"name": "broken", "world": ')
    code, _, err = run_main(args, capsys)
    assert code == ExitCode.USAGE
    error, usage = err.strip().splitlines()
    assert named in error and usage.startswith(f"usage: confluence-check {args[0]}")


def test_simulate_on_a_port_in_use_exits_64_naming_the_port(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, _, err = run_main(["simulate", "--port", str(port)], capsys)
    assert code == ExitCode.USAGE
    assert f"--port {port}" in err.splitlines()[0] and "Traceback" not in err


@pytest.mark.parametrize("port", ["99999", "-5", "http"])
def test_serve_with_a_bad_port_exits_64_naming_port(port: str, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    for key, value in {"PORT": port, "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s",
                       "ATLASSIAN_SITE_URL": "https://acme.atlassian.net"}.items():
        monkeypatch.setenv(key, value)
    code, _, err = run_main(["serve", "--http"], capsys)
    assert code == ExitCode.USAGE and "PORT" in one_line(err)


# --- 64: malformed input ---------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ["GET http://[", "GET https://a@evil:abc/", "GET https://evil℀.com/",
                                      "GET https://acme.atlassian.net:99999/wiki", "GET /wiki/\x00x",
                                      "GET https://[::1]:x/"])
def test_malformed_endpoints_exit_64(endpoint: str, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ATLASSIAN_SITE_URL", "https://acme.atlassian.net")
    code, _, err = run_main(["check", "a@acme.com", "--endpoint", endpoint], capsys)
    assert code == ExitCode.USAGE
    assert "Traceback" not in err and err.startswith("confluence-check: error: ")
    assert err.splitlines()[1].startswith("usage: confluence-check check")


def _argv_bytes(*parts: str | bytes) -> list[bytes]:
    return [p if isinstance(p, bytes) else p.encode() for p in parts]


def test_non_utf8_bytes_in_body_keep_the_run(sim: SimulatorServer, tmp_path: Path) -> None:
    env = env_with(**sim.env(), DATABASE_PATH=str(tmp_path / "h.db"))
    actor = sim.resolve_input()["actor"]
    done = subprocess.run(cli_command(*_argv_bytes("check", actor, "--status", "403", "--json", "--body",
                                                   b"caller \xff\xfe cannot access Confluence")),
                          env=env, cwd=tmp_path, capture_output=True, timeout=120)
    assert done.returncode == ExitCode.PROBLEM, done.stderr
    printed = json.loads(done.stdout)
    shown = subprocess.run(cli_command("show", printed["run_id"], "--json"), env=env, cwd=tmp_path,
                           capture_output=True, timeout=60)
    stored = json.loads(shown.stdout)
    assert stored["outcome"] == "problem" and "\ufffd" in stored_body(stored)


def stored_body(run: dict) -> str:
    return json.dumps(run, ensure_ascii=False)


def test_non_utf8_bytes_in_endpoint_exit_64(tmp_path: Path) -> None:
    env = env_with(ATLASSIAN_SITE_URL="https://acme.atlassian.net", DATABASE_PATH=str(tmp_path / "h.db"))
    done = subprocess.run(cli_command(*_argv_bytes("check", "a@acme.com", "--endpoint", b"GET /wiki/\xff")),
                          env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == ExitCode.USAGE, done.stderr
    assert "cannot hold" in done.stderr.splitlines()[0]


# --- a closed pipe ---------------------------------------------------------------------------------


def test_a_closed_output_pipe_ends_quietly_and_keeps_the_run(sim: SimulatorServer, tmp_path: Path) -> None:
    """`check … --status 403 | head -1`: no BrokenPipeError, the run is stored whole, exit 1 stands."""
    env = env_with(**sim.env(), DATABASE_PATH=str(tmp_path / "h.db"))
    actor = sim.resolve_input()["actor"]
    with subprocess.Popen(cli_command("check", actor, "--status", "403"), env=env, cwd=tmp_path,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        first = proc.stdout.readline().decode()
        proc.stdout.close()  # what `head -1` does
        err = proc.stderr.read().decode()
        assert proc.wait(timeout=120) == ExitCode.PROBLEM, err
    assert err == ""
    run_id = first.split("(run ")[1].rstrip(")\n")
    shown = subprocess.run(cli_command("show", run_id, "--json"), env=env, cwd=tmp_path,
                           capture_output=True, text=True, timeout=60)
    stored = json.loads(shown.stdout)
    assert stored["outcome"] == "problem" and stored["steps"]


# --- 70: an internal error -------------------------------------------------------------------------


def _explode(*_: object, **__: object) -> str:
    raise RuntimeError("a bug with a CANARY-INTERNAL-SECRET-77 inside ATATT3xFfGF0abcdefgh")


@pytest.mark.parametrize("debug", [False, True])
def test_an_internal_error_exits_70_with_one_line_naming_the_run(debug: bool, sim: SimulatorServer,
                                                                 tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    for key, value in {**sim.env(), "DATABASE_PATH": str(tmp_path / "h.db")}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr("bot.commands.format_verdict", _explode)
    actor = sim.resolve_input()["actor"]
    code, out, err = run_main(["check", actor, *(["--debug"] if debug else [])], capsys)
    assert code == ExitCode.INTERNAL
    run_id = out.splitlines()[0].split("(run ")[1].rstrip(")")
    last = err.strip().splitlines()[-1]
    assert run_id in last and "--debug" in last and "LOG_LEVEL=DEBUG" in last and "RuntimeError" in last
    assert ("Traceback" in err) is debug
    assert "ATATT3xFfGF0abcdefgh" not in err


# --- 130: interrupted ------------------------------------------------------------------------------


@pytest.mark.parametrize("signum, code, said", [(signal.SIGINT, ExitCode.INTERRUPTED, ""),
                                                (signal.SIGTERM, ExitCode.TERMINATED, " by SIGTERM")],
                         ids=["ctrl-c", "sigterm"])
def test_a_signal_exits_128_plus_its_number_naming_the_run(signum: int, code: int, said: str, sim: SimulatorServer,
                                                           tmp_path: Path) -> None:
    sim.state.faults.latency_ms = 400  # a run of several seconds
    env = env_with(**sim.env(), DATABASE_PATH=str(tmp_path / "h.db"))
    with subprocess.Popen(cli_command("check", sim.resolve_input()["actor"]), env=env, cwd=tmp_path,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        first = proc.stdout.readline()
        proc.stdout.readline()  # a step has finished: the run is under way
        proc.send_signal(signum)
        status = proc.wait(timeout=60)
        err = proc.stderr.read()
    run_id = first.split("(run ")[1].rstrip(")\n")
    assert status == code, err
    assert one_line(err) == f"confluence-check: interrupted (run {run_id}){said}"
    shown = subprocess.run(cli_command("show", run_id, "--json"), env=env, cwd=tmp_path,
                           capture_output=True, text=True, timeout=60)
    stored = json.loads(shown.stdout)
    assert stored["interrupted"] is True and stored["steps"]  # saved as interrupted, with what had finished


def test_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    from bot import __version__

    code, out, _ = run_main(["--version"], capsys)
    assert code == 0 and out.strip() == f"confluence-check {__version__}"
    code, out, _ = run_main(["check", "--help"], capsys)
    assert code == 0 and "--endpoint" in out


def test_every_option_and_argument_has_help() -> None:
    import argparse

    from bot.cli import build_parser

    parser = build_parser()
    subs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, sub in subs.choices.items():
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help, f"{name} {action.option_strings or action.dest} has no help text"


def _terminal_on_stdin() -> None:
    """In the child: a new session whose controlling terminal is stdin (the pty), as in a shell."""
    import fcntl
    import termios

    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def test_a_token_typed_at_a_terminal_is_prompted_for_and_not_echoed(sim: SimulatorServer, tmp_path: Path) -> None:
    """`--actor-token-stdin` with a terminal on stdin: a prompt says what to type, and the typed
    token never appears on the terminal (echo off), in the output or in the history."""
    import pty
    import select
    import time

    token = "TYPED-AT-A-TERMINAL-c0ffee42"
    env = env_with(**sim.env(), DATABASE_PATH=str(tmp_path / "h.db"))
    primary, secondary = pty.openpty()
    with subprocess.Popen(cli_command("check", sim.resolve_input()["actor"], "--actor-token-stdin"), env=env,
                          cwd=tmp_path, stdin=secondary, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          preexec_fn=_terminal_on_stdin) as proc:
        os.close(secondary)
        seen = b""
        deadline = time.monotonic() + 30
        while b"not shown" not in seen and time.monotonic() < deadline:
            if select.select([primary], [], [], 0.5)[0]:
                seen += os.read(primary, 1024)
        os.write(primary, token.encode() + b"\n")
        out, err = proc.communicate(timeout=120)
        while select.select([primary], [], [], 0.2)[0]:
            try:
                chunk = os.read(primary, 1024)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        os.close(primary)
    assert b"actor's API token" in seen  # the prompt, on the terminal
    assert token.encode() not in seen + out + err
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("h.db"))
    assert token.encode() not in stored and proc.returncode in (0, 1, 2)


def test_a_bad_log_level_exits_64_naming_it(monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LOG_LEVEL", "LOUD")
    code, _, err = run_main(["history"], capsys)
    assert code == ExitCode.USAGE and "LOG_LEVEL" in one_line(err)



def test_log_level_sets_what_reaches_stderr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    import logging

    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "h.db"))
    monkeypatch.setattr("bot.commands.format_history", lambda runs: logging.getLogger("bot.test").info("hello") or "")
    for level, shown in (("WARNING", False), ("INFO", True)):
        monkeypatch.setenv("LOG_LEVEL", level)
        _, _, err = run_main(["history"], capsys)
        assert ("INFO bot.test: hello" in err) is shown
