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

- ack: from sending the signed request to its HTTP 200;
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
import cProfile
import multiprocessing
import re
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.simulator import SimulatorServer, load_scenario
from bot.slack.serve import http_server
from tests.fakes import slack_requests as req
from tests.fakes.slack_api import Call, FakeSlack
from tests.fakes.slack_bot import SlackBot, start_bot

_USER = re.compile(r"U0BENCH\d{4}")


@dataclass
class Figures:
    label: str
    acks: list[float]
    parents: list[float]
    first_replies: list[float]
    verdicts: list[float]
    writes_per_run: float
    max_writes: int
    wall_s: float
    rss_mb: float


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


def check_text(sim: SimulatorServer) -> str:
    given = sim.resolve_input()
    return f"{given['actor']} {given['endpoint']} status:{given['status']}"


def ms(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def send(bot: SlackBot, url: str, session: aiohttp.ClientSession, channel: str, n: int
               ) -> tuple[float, float]:
    body = req.slash_command(check_text(bot.sim), response_url=bot.fake.response_url(f"b{n}"), channel=channel,
                             user=f"U0BENCH{n:04d}")
    started = time.monotonic()
    status = await bot.post_http(url, body, session)
    acked = time.monotonic()
    assert status == 200, status
    return acked - started, acked


def _verdict_shown(call: Call, titles: set[str]) -> bool:
    return any(title in call.raw for title in titles)


async def burst(bot: SlackBot, url: str, label: str, channels: list[str]) -> Figures:
    """Send one command per entry of `channels` (repeats = same channel) all at once."""
    before = len(bot.fake.calls)
    runs_before = {r.run_id for r in bot.history.list(limit=100_000)}
    started = time.monotonic()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        sent = await asyncio.gather(*(send(bot, url, session, ch, n) for n, ch in enumerate(channels)))
    await bot.settle(timeout=600)
    wall = time.monotonic() - started
    runs = [r for r in bot.history.list(limit=100_000) if r.run_id not in runs_before]
    titles = {r.verdict.title.replace("&", "&amp;") for r in runs if r.verdict}
    calls = bot.fake.calls[before:]
    acks = [a for a, _ in sent]
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
            shown = [c.at for c in thread if _verdict_shown(c, titles)]
            if shown:
                verdicts.append(min(shown) - ack)
            writes.append(len(thread))
    total_writes = sum(1 for c in calls if c.method in ("chat.postMessage", "chat.update"))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return Figures(label, acks, parents, replies, verdicts, total_writes / max(1, len(channels)),
                   max(writes, default=0), wall, rss)


def report(f: Figures) -> None:
    def p(values: list[float], q: float) -> str:
        return f"{ms(values, q):7.0f}" if values else "      -"

    print(f"{f.label:<24} ack p50 {p(f.acks, .5)} p99 {p(f.acks, .99)} ms | parent p50 {p(f.parents, .5)} | "
          f"first reply p50 {p(f.first_replies, .5)} | verdict p50 {p(f.verdicts, .5)} max "
          f"{p(f.verdicts, 1)} ms | writes/run {f.writes_per_run:.2f} (max {f.max_writes}) | "
          f"{len(f.verdicts)}/{len(f.acks)} verdicts | wall {f.wall_s:.1f} s | peak RSS {f.rss_mb:.0f} MiB",
          flush=True)


async def main(args: argparse.Namespace) -> None:
    sizes = [int(s) for s in args.sizes.split(",") if s]
    remote = None if args.sim_in_process else RemoteSimulator(args.scenario, args.latency_ms)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            async with FakeSlack() as fake, SimulatorServer(load_scenario(args.scenario)) as local:
                sim: Any = remote or local
                extra = {"MAX_CONCURRENT_RUNS": str(args.max_runs)} if args.max_runs else {}
                bot = start_bot(fake, sim, Path(tmp) / "bench.db", pace=1.0, **extra)
                profiler = cProfile.Profile() if args.profile else None
                try:
                    if profiler:
                        profiler.enable()
                    await measure(bot, args, sizes)
                finally:
                    if profiler:
                        profiler.disable()
                        profiler.dump_stats(args.profile)
                    await bot.close()
    finally:
        if remote is not None:
            remote.close()


async def measure(bot: SlackBot, args: argparse.Namespace, sizes: list[int]) -> None:
    async with http_server(bot.app, host="127.0.0.1", port=0) as url:
        async with aiohttp.ClientSession() as session:  # auth.test once, as serve does at start
            await bot.post_http(url, req.slash_command("help", response_url=bot.fake.response_url("warm")), session)
        await bot.settle()
        if args.sim_in_process:
            bot.sim.state.faults.latency_ms = args.latency_ms
        where = "in this process" if args.sim_in_process else "in its own process"
        print(f"scenario {args.scenario}, Atlassian latency {args.latency_ms} ms (simulator {where}), "
              f"MAX_CONCURRENT_RUNS {bot.settings.max_concurrent_runs}, Slack pace 1 write/s/channel; "
              "times from each command's ack", flush=True)
        alone: Figures | None = None
        for size in sizes:
            figures = await burst(bot, url, f"{size} over {size} channels",
                                  [f"C0B{size:03d}X{n:04d}" for n in range(size)])
            report(figures)
            alone = alone or (figures if size == 1 else None)
            if size == 50 and alone and alone.verdicts and figures.verdicts:
                ratio = statistics.median(figures.verdicts) / statistics.median(alone.verdicts)
                print(f"{'':<24} verdict p50 at 50 / one run alone: {ratio:.2f}x", flush=True)
        if args.one_channel:
            report(await burst(bot, url, f"{args.one_channel} in one channel", ["C0BONECHAN"] * args.one_channel))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,10,50,200", help="concurrent commands, each over its own channels")
    parser.add_argument("--one-channel", type=int, default=50, help="commands at once in one channel (0: skip)")
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--scenario", default="no_confluence_access")
    parser.add_argument("--max-runs", type=int, default=0, help="MAX_CONCURRENT_RUNS (default: the setting's)")
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of this process's measured part to FILE")
    parser.add_argument("--sim-in-process", action="store_true",
                        help="run the Atlassian simulator in this process and event loop (as issue 8 measured)")
    asyncio.run(main(parser.parse_args()))
