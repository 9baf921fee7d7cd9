"""Text from outside is inert: escape sequences in a display name, an error body, a rule's name or a
`--body-file` reach a terminal (a real pty) and a Markdown bundle as visible escapes (`\\x1b`), never raw."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import time
from pathlib import Path

from bot.commands import simulator_in_thread
from bot.model import Run, StepResult, StepStatus, utcnow
from bot.redact import inert
from bot.render import format_json, format_markdown, format_run, format_step
from bot.simulator import load_scenario
from tests.test_exit_codes import cli_command, env_with

# clipboard write (OSC 52), erase the line and go back to its start, hidden text, a right-to-left override
HOSTILE = "Eve\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2K\rAll good\x1b[8m hidden\x1b[0m\u202etxt.exe\x9b31m"
RAW = ("\x1b]52", "\x1b[2K", "\x1b[8m", "\u202e", "\x9b", "\x07")


def test_inert_shows_every_control_character_as_a_visible_escape() -> None:
    assert inert(HOSTILE) == ("Eve\\x1b]52;c;cm0gLXJmIH4=\\x07\\x1b[2K\\x0dAll good\\x1b[8m hidden\\x1b[0m"
                              "\\u202etxt.exe\\x9b31m")
    assert inert("two\nlines\tand a tab, é, 日本") == "two\nlines\tand a tab, é, 日本"


def _hostile_run() -> Run:
    step = StepResult("identity.lookup", "Account exists", StepStatus.FAIL, f"found {HOSTILE}", fix=HOSTILE)
    return Run(run_id="r_01JTEST0000000000000000000", actor="sam@acme.com", site="https://acme.atlassian.net",
               started_at=utcnow(), planned=[("identity.lookup", "Account exists")], steps=[step],
               request={"body": HOSTILE})


def test_every_renderer_makes_outside_text_inert() -> None:
    run = _hostile_run()
    for text in (format_run(run, color=True), format_step(run.steps[0], color=True), format_markdown(run)):
        assert not [r for r in RAW if r in text] and "\\x1b]52" in text
    assert "\x1b[1m" in format_run(run, color=True)  # the renderer's own colours stay
    shown = format_json(run)
    assert not [r for r in ("\u202e", "\x9b") if r in shown]
    assert json.loads(shown)["steps"][0]["summary"] == f"found {HOSTILE}"  # the same value, escaped


def _through_a_pty(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 60.0) -> tuple[int, bytes]:
    """Run the CLI with a real terminal as its stdout and stderr; everything it wrote, and its exit status."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(cli_command(*args), env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=terminal,
                               stderr=terminal, close_fds=True)
    os.close(terminal)
    out = b""
    ends = time.monotonic() + timeout
    try:
        while time.monotonic() < ends:
            ready, _, _ = select.select([controller], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(controller, 65536)
                except OSError:  # the terminal closed: the process is gone
                    break
                if not chunk:
                    break
                out += chunk
            elif process.poll() is not None:
                break
        return process.wait(timeout=max(1.0, ends - time.monotonic())), out
    finally:
        if process.poll() is None:
            process.kill()
        os.close(controller)


def test_check_and_show_print_a_hostile_display_name_inert_on_a_terminal(tmp_path: Path) -> None:
    body_file = tmp_path / "body.txt"
    body_file.write_bytes(b'{"message": "denied \x1b]52;c;aGk=\x07 \x1b[2K\r"}')
    with simulator_in_thread(load_scenario("space_permission_missing")) as sim:
        actor = sim.resolve_input()["actor"]
        for user in sim.state.users:
            user.name = HOSTILE
        env = env_with(**sim.env(), DATABASE_PATH=str(tmp_path / "h.db"), TERM="xterm")
        # --verbose: every step, so the account's (hostile) name is printed; by default its layer is one line
        code, checked = _through_a_pty(["check", actor, "--status", "403", "--body-file", str(body_file),
                                        "--verbose"], env, tmp_path)
        assert code in (0, 1, 2), checked.decode(errors="replace")
        code, printed = _through_a_pty(["history", "--json"], env, tmp_path)
        run_id = json.loads(printed.decode().replace("\r\n", "\n"))[0]["run_id"]
        shown = [_through_a_pty(["show", run_id, *extra], env, tmp_path)[1] for extra in ([], ["--markdown"])]
    for out in (checked, *shown):
        text = out.decode("utf-8", errors="replace")
        assert not [r for r in RAW if r in text], text
    assert "\\x1b]52" in checked.decode() and "\\x1b]52" in shown[0].decode()  # shown, visibly
    assert "\\x1b[2K" in shown[1].decode()  # the --body-file's bytes, in the bundle
