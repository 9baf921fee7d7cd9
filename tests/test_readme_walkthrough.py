"""The README's five-minute walkthrough, run literally: `simulate` prints exactly the settings the
README shows, and every command after it gives the exit status the README says. Only the ports are
moved (the README's fixed 8710-8713 may be taken on a shared machine); nothing else is rewritten."""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
START = "## Five minutes with the simulator"
SECTION = README[README.index(START):README.index("\n## ", README.index(START) + len(START))]
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", SECTION, re.S)
COMMAND = re.compile(r"(^|\|\s*)confluence-check\b")
README_PORT = 8710


def _free_ports() -> int:
    """A first port whose next three are free too (site, API, status page, OAuth token host)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base > 65000:
            continue
        try:
            holders = []
            for port in (base, base + 1, base + 2, base + 3):
                holder = socket.socket()
                holders.append(holder)
                holder.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for holder in holders:
                holder.close()
    raise RuntimeError("no four free ports in a row")


def _moved(text: str, base: int) -> str:
    for offset in (0, 1, 2, 3):
        text = text.replace(f":{README_PORT + offset}", f":{base + offset}")
    return text


class Simulator:
    def __init__(self) -> None:
        self.proc: subprocess.Popen[str] | None = None
        self.printed: list[str] = []

    def start(self, line: str, base: int, env: dict[str, str], cwd: Path) -> None:
        self.stop()
        args = shlex.split(line.split("#")[0])[1:]
        self.proc = subprocess.Popen([sys.executable, "-m", "bot", *args, "--port", str(base)], env=env, cwd=cwd,
                                     text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert self.proc.stdout is not None
        self.printed = []
        for out in self.proc.stdout:
            self.printed.append(out.rstrip("\n"))
            if out.startswith(("Press Ctrl-C", "confluence-check: error")):
                break
        assert self.printed and self.printed[-1].startswith("Press Ctrl-C"), self.printed

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            finally:
                if self.proc.poll() is None:
                    self.proc.kill()
                    self.proc.wait(timeout=10)
                assert self.proc.stdout is not None
                self.proc.stdout.close()
            self.proc = None


def test_the_walkthrough_has_its_parts() -> None:
    kinds = [kind for kind, _ in BLOCKS]
    assert kinds.count("dotenv") == 1 and kinds.count("sh") >= 3
    text = "\n".join(body for _, body in BLOCKS)
    for needed in ("confluence-check simulate", "confluence-check check", "--actor-token-stdin",
                   "confluence-check rule", "confluence-check config"):
        assert needed in text, needed


def test_the_readme_walkthrough_runs_literally(tmp_path: Path) -> None:
    base = _free_ports()
    home = tmp_path / "home"
    env = {key: value for key, value in os.environ.items() if key in ("PATH", "LANG", "LC_ALL", "PYTHONPATH")}
    env |= {"HOME": str(home), "PYTHONUNBUFFERED": "1"}
    simulator = Simulator()
    ran = 0
    try:
        for kind, body in BLOCKS:
            if kind == "dotenv":
                settings = _moved(body, base)
                printed = [line for line in simulator.printed if re.match(r"^[A-Z_]+=", line)]
                assert printed == settings.strip().splitlines(), "simulate prints other settings than the README"
                (tmp_path / ".env").write_text(settings)
                continue
            for line in filter(None, (raw.strip() for raw in _moved(body, base).splitlines())):
                if line.startswith("confluence-check simulate"):
                    simulator.start(line, base, env, tmp_path)
                    continue
                expected = re.search(r"#\s*exit (\d+)", line)
                command = COMMAND.sub(lambda m: f"{m.group(1)}{shlex.quote(sys.executable)} -m bot", line)
                done = subprocess.run(["bash", "-c", command], env=env, cwd=tmp_path, capture_output=True, text=True,
                                      timeout=180, check=False)
                want = int(expected.group(1)) if expected else 0
                assert done.returncode == want, f"{line}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
                assert "error" not in done.stderr.lower(), done.stderr
                if "--actor-token-stdin" in line:  # the token the README pipes in is the one simulate printed
                    token = re.search(r'echo "([^"]+)"', line)
                    assert token and any(token.group(1) in out for out in simulator.printed)
                    assert "confirmed" in done.stdout
                ran += 1
    finally:
        simulator.stop()
    assert ran >= 4


@pytest.mark.parametrize("limit", [110])
def test_the_readme_fits_on_about_two_screens(limit: int) -> None:
    assert len(README.splitlines()) <= limit
