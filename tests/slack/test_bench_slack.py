"""The Slack benchmark still runs against the bot as deployed: one `serve --http` process, the load
client and the simulator in processes of their own. It must see every run's thread through to its
verdict (a bot whose last write changed once left the benchmark waiting forever). Figures are not
checked: speed is the benchmark's to print, not a test's to assert."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_slack_follows_one_command_to_its_verdict_in_a_serve_process() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_slack.py"), "--sizes", "1",
                           "--one-channel", "0", "--latency-ms", "5"],
                          capture_output=True, text=True, timeout=180, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    header, *lines = done.stdout.splitlines()
    assert header.startswith("bot: 1 `serve --http` process"), done.stdout
    assert "load client in its own process" in header
    [figures] = [line for line in lines if line.startswith("1 over 1 channels")]
    assert "1/1 verdicts" in figures, done.stdout
    assert "not acked" not in figures and "only" not in done.stdout, done.stdout
