"""Measure the Slack side under load: acks, first messages, verdicts, writes per run, peak RSS.

    python scripts/bench_slack.py [--sizes 1,10,50,200] [--one-channel 50] [--latency-ms 100]
                                  [--scenario no_confluence_access]

For each size N, N signed `/confluence-check` commands are sent at once over HTTP mode, each in its
own channel; then N at once in one channel (`--one-channel`). Everything runs locally: the real
Bolt AsyncApp behind the real aiohttp server (signed requests) and the fake Slack Web API
(tests/fakes/slack_api.py) in this process, the Atlassian simulator (answering after
`--latency-ms`) in a process of its own, as a remote Atlassian costs the bot no CPU
(`--sim-in-process` keeps it in this process and event loop, as the first figures of issue 8
were taken), all over HTTP on loopback, with Slack's real pace (one write per second per
channel). Times are taken from the fake's arrival stamps (`time.monotonic`), measured from each
command's ack:

- ack: from sending the signed request to its HTTP 200 (and, for the bot in this process, in Bolt:
  from the parsed request entering `AsyncApp.async_dispatch` to its ack);
- parent: the thread's parent appears; first reply: the first message in the thread;
- verdict: the first message that shows the run's verdict (the parent at a glance or the reply);
- writes per run: chat.postMessage + chat.update in the run's channel, over the runs there.

Peak RSS is this whole process (the bot with the fake Slack; with the simulator too when in
process): an upper bound for the bot.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import cProfile
import multiprocessing
import os
import re
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.render.blocks import OUTCOME_LABELS
from bot.simulator import SimulatorServer, load_scenario
from bot.slack.serve import http_server
from tests.fakes import slack_requests as req
from tests.fakes.slack_api import Call, FakeSlack
from tests.fakes.slack_bot import SIGNING_SECRET, SlackBot, start_bot

ROOT = Path(__file__).resolve().parents[1]
_USER = re.compile(r"U0BENCH\d{4}")


@dataclass
class Figures:
    label: str
    acks: list[float]
    dispatched: list[float]  # inside Bolt (this process only)
    parents: list[float]
    first_replies: list[float]
    verdicts: list[float]
    writes_per_run: float
    max_writes: int
    wall_s: float
    rss_mb: float
    busiest: int


class RemoteSimulator:
    """The simulator in a child process: its settings and input, as `SimulatorServer` gives them."""

    def __init__(self, scenario: str, latency_ms: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._stop = ctx.Event()
        parent, child = ctx.Pipe()
        self._process = ctx.Process(target=_serve_simulator, args=(scenario, latency_ms, child, self._stop),
                                    daemon=True)
        self._process.start()
        self._env, self._input = parent.recv()

    def env(self) -> dict[str, str]:
        return self._env

    def resolve_input(self) -> dict[str, Any]:
        return self._input

    def close(self) -> None:
        self._stop.set()
        self._process.join(10)


def _serve_simulator(scenario: str, latency_ms: int, pipe: Any, stop: Any) -> None:
    async def serve() -> None:
        async with SimulatorServer(load_scenario(scenario)) as sim:
            sim.state.faults.latency_ms = latency_ms
            pipe.send((sim.env(), sim.resolve_input()))
            while not stop.is_set():
                await asyncio.sleep(0.2)

    asyncio.run(serve())


def check_text(sim: Any) -> str:
    given = sim.resolve_input()
    return f"{given['actor']} {given['endpoint']} status:{given['status']}"


def ms(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class Target:
    """Where commands go: the bot in this process, or `serve --http` processes (round robin)."""

    fake: FakeSlack
    text: str
    urls: list[str]
    bot: SlackBot | None = None
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    dispatch_s: list[float] = field(default_factory=list)  # in this process: inside Bolt, request to ack

    def __post_init__(self) -> None:
        if self.bot is None:
            return
        dispatch = self.bot.app.async_dispatch

        async def timed(request: Any) -> Any:
            started = time.monotonic()
            try:
                return await dispatch(request)
            finally:
                self.dispatch_s.append(time.monotonic() - started)

        self.bot.app.async_dispatch = timed  # type: ignore[method-assign]

    async def settle(self, runs: int, before: int) -> None:
        if self.bot is not None:
            await self.bot.settle(timeout=600)
            return
        # other processes: every run ends with its step list (the least urgent write)
        async with asyncio.timeout(600):
            while sum(_is_steps(c) for c in self.fake.calls[before:]) < runs:
                await asyncio.sleep(0.2)

    def rss_mb(self) -> float:
        if self.bot is not None:
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return max(_peak_rss_kb(p.pid) for p in self.processes) / 1024


def _is_steps(call: Call) -> bool:
    return call.method == "chat.postMessage" and str(call.params.get("text", "")).startswith("Steps:")


def _peak_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


_VERDICT = re.compile("|".join(f"{re.escape(label)}: " for label in OUTCOME_LABELS.values()))


def _shows_verdict(call: Call) -> bool:
    """A parent at a glance or a verdict reply: its fallback text names the outcome."""
    return bool(_VERDICT.search(str(call.params.get("text", ""))))


async def send(target: Target, session: aiohttp.ClientSession, channel: str, n: int) -> tuple[float, float]:
    body = req.slash_command(target.text, response_url=target.fake.response_url(f"b{n}"), channel=channel,
                             user=f"U0BENCH{n:04d}")
    headers = req.signed_headers(body, SIGNING_SECRET)
    started = time.monotonic()
    async with session.post(target.urls[n % len(target.urls)], data=body.encode(), headers=headers) as response:
        await response.read()
        assert response.status == 200, response.status
    acked = time.monotonic()
    return acked - started, acked


async def burst(target: Target, label: str, channels: list[str]) -> Figures:
    """Send one command per entry of `channels` (repeats = same channel) all at once."""
    before = len(target.fake.calls)
    target.dispatch_s.clear()
    started = time.monotonic()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        sent = await asyncio.gather(*(send(target, session, ch, n) for n, ch in enumerate(channels)))
    await target.settle(len(channels), before)
    wall = time.monotonic() - started
    calls = target.fake.calls[before:]
    acks = [a for a, _ in sent]
    dispatched = list(target.dispatch_s)
    parents: list[float] = []
    replies: list[float] = []
    verdicts: list[float] = []
    writes: list[int] = []  # per thread: parent, replies and edits of either
    ack_of = {f"U0BENCH{n:04d}": at for n, (_, at) in enumerate(sent)}
    for channel in sorted(set(channels)):
        mine = [c for c in calls if c.channel == channel and c.method in ("chat.postMessage", "chat.update")]
        tops = [c for c in mine if c.method == "chat.postMessage" and not c.params.get("thread_ts")
                and c.response.get("ok")]
        for parent in tops:
            ts = parent.response["ts"]
            user = _USER.search(parent.raw)
            ack = ack_of[user.group(0)] if user else max(ack_of.values())
            replies_ts = {c.response.get("ts") for c in mine if c.params.get("thread_ts") == ts} | {ts}
            thread = [c for c in mine if c is parent or c.params.get("thread_ts") == ts
                      or (c.method == "chat.update" and c.params.get("ts") in replies_ts)]
            parents.append(parent.at - ack)
            firsts = [c.at for c in thread if c.params.get("thread_ts") == ts]
            if firsts:
                replies.append(min(firsts) - ack)
            shown = [c.at for c in thread if _shows_verdict(c)]
            if shown:
                verdicts.append(min(shown) - ack)
            writes.append(len(thread))
    total_writes = sum(1 for c in calls if c.method in ("chat.postMessage", "chat.update"))
    return Figures(label, acks, dispatched, parents, replies, verdicts, total_writes / max(1, len(channels)),
                   max(writes, default=0), wall, target.rss_mb(), _busiest_second(calls, channels))


def _busiest_second(calls: list[Call], channels: list[str]) -> int:
    """The most writes any one channel got within one second."""
    most = 0
    for channel in set(channels):
        stamps = sorted(c.at for c in calls if c.channel == channel and c.method in ("chat.postMessage",
                                                                                   "chat.update"))
        most = max([most, *(bisect.bisect_right(stamps, t + 1.0 - 1e-3) - n for n, t in enumerate(stamps))])
    return most


def report(f: Figures) -> None:
    def p(values: list[float], q: float) -> str:
        return f"{ms(values, q):7.0f}" if values else "      -"

    inside = (f" (in Bolt {ms(f.dispatched, .5):.1f}/{ms(f.dispatched, .99):.1f})" if f.dispatched else "")
    print(f"{f.label:<24} ack p50 {p(f.acks, .5)} p99 {p(f.acks, .99)}{inside} ms | parent p50 {p(f.parents, .5)} | "
          f"first reply p50 {p(f.first_replies, .5)} | verdict p50 {p(f.verdicts, .5)} max "
          f"{p(f.verdicts, 1)} ms | writes/run {f.writes_per_run:.2f} (max {f.max_writes}; "
          f"busiest 1 s in a channel: {f.busiest}) | {len(f.verdicts)}/{len(f.acks)} verdicts | "
          f"wall {f.wall_s:.1f} s | peak RSS {f.rss_mb:.0f} MiB", flush=True)


async def main(args: argparse.Namespace) -> None:
    sizes = [int(s) for s in args.sizes.split(",") if s]
    remote = None if args.sim_in_process else RemoteSimulator(args.scenario, args.latency_ms)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            async with FakeSlack() as fake, SimulatorServer(load_scenario(args.scenario)) as local:
                sim: Any = remote or local
                extra = {"MAX_CONCURRENT_RUNS": str(args.max_runs)} if args.max_runs else {}
                if args.database_url:
                    async with serving_processes(fake, sim, args.database_url, Path(tmp), extra) as target:
                        await measure(target, args, sizes, "2 serve --http processes on PostgreSQL")
                    return
                bot = start_bot(fake, sim, Path(tmp) / "bench.db", pace=1.0, **extra)
                profiler = cProfile.Profile() if args.profile else None
                try:
                    async with http_server(bot.app, host="127.0.0.1", port=0) as url:
                        target = Target(fake, check_text(sim), [url], bot=bot)
                        if profiler:
                            profiler.enable()
                        await measure(target, args, sizes, "this process")
                finally:
                    if profiler:
                        profiler.disable()
                        profiler.dump_stats(args.profile)
                    await bot.close()
    finally:
        if remote is not None:
            remote.close()


@asynccontextmanager
async def serving_processes(fake: FakeSlack, sim: Any, database_url: str, tmp: Path,
                            extra: dict[str, str]) -> AsyncIterator[Target]:
    """Two `confluence-check serve --http` processes on one PostgreSQL, as two replicas behind a balancer."""
    ports = [_free_port(), _free_port()]
    processes = []
    for n, port in enumerate(ports):
        env = {**os.environ, **sim.env(), **extra, "SLACK_BOT_TOKEN": fake.token,
               "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": fake.base_url,
               "DATABASE_URL": database_url, "PORT": str(port), "LOG_LEVEL": "WARNING"}
        log = (tmp / f"serve{n}.log").open("wb")
        processes.append(subprocess.Popen([sys.executable, "-m", "bot", "serve", "--http"], env=env,
                                          stdout=log, stderr=subprocess.STDOUT, cwd=ROOT))
    try:
        urls = [f"http://127.0.0.1:{port}/slack/events" for port in ports]
        async with aiohttp.ClientSession() as session:
            for url in urls:
                await _until_healthy(session, url.replace("/slack/events", "/health"), processes, tmp)
        yield Target(fake, check_text(sim), urls, processes=processes)
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(30)


async def _until_healthy(session: aiohttp.ClientSession, url: str, processes: list[subprocess.Popen[bytes]],
                         tmp: Path) -> None:
    async with asyncio.timeout(60):
        while True:
            if any(p.poll() is not None for p in processes):
                logs = "\n".join(f.read_text() for f in sorted(tmp.glob("serve*.log")))
                raise SystemExit(f"a serve process ended at start-up:\n{logs}")
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.2)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def measure(target: Target, args: argparse.Namespace, sizes: list[int], where: str) -> None:
    # one command first, so each process has done its auth.test and first connections
    await burst(target, "warm-up", [f"C0WARM{n:04d}" for n in range(len(target.urls))])
    sim_where = "in this process" if args.sim_in_process else "in its own process"
    if args.sim_in_process and target.bot is not None:
        target.bot.sim.state.faults.latency_ms = args.latency_ms
    print(f"bot: {where}; scenario {args.scenario}, Atlassian latency {args.latency_ms} ms (simulator "
          f"{sim_where}), MAX_CONCURRENT_RUNS {args.max_runs or 'default'}, Slack pace 1 write/s/channel; "
          "times from each command's ack", flush=True)
    alone: Figures | None = None
    for size in sizes:
        figures = await burst(target, f"{size} over {size} channels", [f"C0B{size:03d}X{n:04d}" for n in range(size)])
        report(figures)
        alone = alone or (figures if size == 1 else None)
        if size == 50 and alone and alone.verdicts and figures.verdicts:
            ratio = statistics.median(figures.verdicts) / statistics.median(alone.verdicts)
            print(f"{'':<24} verdict p50 at 50 / one run alone: {ratio:.2f}x", flush=True)
    if args.one_channel:
        report(await burst(target, f"{args.one_channel} in one channel", ["C0BONECHAN"] * args.one_channel))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,10,50,200", help="concurrent commands, each over its own channels")
    parser.add_argument("--one-channel", type=int, default=50, help="commands at once in one channel (0: skip)")
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--scenario", default="no_confluence_access")
    parser.add_argument("--max-runs", type=int, default=0, help="MAX_CONCURRENT_RUNS (default: the setting's)")
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of this process's measured part to FILE")
    parser.add_argument("--database-url", metavar="URL",
                        help="instead of the bot in this process: two `serve --http` processes on this PostgreSQL")
    parser.add_argument("--sim-in-process", action="store_true",
                        help="run the Atlassian simulator in this process and event loop (as issue 8 measured)")
    asyncio.run(main(parser.parse_args()))
