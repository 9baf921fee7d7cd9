"""Measure the Slack side under load, the bot as deployed: acks, first messages, verdicts, writes per run, peak RSS.

    python scripts/bench_slack.py [--sizes 1,10,50,200] [--one-channel 50] [--latency-ms 100]
                                  [--scenario no_confluence_access] [--max-runs N]
                                  [--database-url URL | --in-process [--profile FILE]]
                                  [--sim-in-process] [--fresh-connections]

For each size N, N signed `/confluence-check` slash commands are sent at once over HTTP mode, each
in its own channel; then `--one-channel` commands at once in one channel. Who runs where (on one
machine, all over HTTP on loopback):

- the bot: by default one `confluence-check serve --http` process (`python -m bot serve --http`)
  with its SQLite history in a temporary folder (DATABASE_PATH), as deployed; with
  `--database-url`, two such processes on that PostgreSQL (DATABASE_URL), as two replicas behind a
  balancer (commands alternate between them); with `--in-process`, the real Bolt AsyncApp behind
  the real aiohttp server in this benchmark's process and event loop (needed by `--profile`, which
  profiles this process; the fake Slack then shares the bot's event loop and CPU, which a
  deployed bot never pays);
- the fake Slack Web API (tests/fakes/slack_api.py), recording and answering every call at once: in
  this process. The bot keeps Slack's pace itself (its pacer at one write per second per channel,
  as `serve` builds it), as in production;
- the Atlassian simulator, answering after `--latency-ms`: in a process of its own (a remote
  Atlassian costs the bot no CPU); `--sim-in-process` keeps it in this process (and, with
  `--in-process`, in the bot's event loop, as the first figures were taken);
- the load client (Slack's senders of the signed requests): a process of its own, so it shares no
  event loop with the fake Slack or the bot. Before each burst it opens one keep-alive connection
  per command and makes one GET /health on each (so the bot has accepted them all, as Slack's
  connections would be open already), then writes every pre-built signed request (bytes, over raw
  asyncio streams) at once. Ack latency thus measures the bot, not TCP set-up;
  `--fresh-connections` opens a new connection per request inside the timed part instead.

Every time is `time.monotonic()` (CLOCK_MONOTONIC, one clock for every process on Linux): the load
client stamps each request when written and when its answer is read; the fake Slack stamps each
call on arrival. Per burst:

- ack p50/p99: from writing a command's request to reading its whole HTTP answer (200 expected;
  any other is counted, not timed). With `--in-process` also "in Bolt": from the parsed request
  entering `AsyncApp.async_dispatch` to its ack;
- parent p50: from a command's ack to its thread's parent arriving at the fake Slack;
- first reply p50: from the ack to the first message in the thread;
- verdict p50 / max: from the ack to the first message showing the run's verdict (the parent at a
  glance or the thread reply, posted or edited);
- writes/run: chat.postMessage + chat.update in the burst's channels over the commands (max: the
  most one thread took); busiest 1 s: the most writes any one channel got within one second
  (Slack's limit is one per second, short bursts tolerated);
- wall: from the first request written to the last Slack write of the burst, once every run's
  thread is complete (parent and reply both show the verdict, or the reply says the run failed);
- peak RSS: the largest VmHWM of the serve processes (whole lifetime so far, so it never falls);
  with `--in-process` this whole process (bot and fake Slack; the simulator too when in
  process): an upper bound for the bot.

A warm-up command per bot process comes first (its auth.test and first connections). The machine
is usually shared: run it more than once and compare medians. Prints figures; asserts nothing.
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
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.simulator import SimulatorServer, load_scenario
from bot.slack.blocks import OUTCOME_LABELS
from bot.slack.serve import http_server
from tests.fakes import slack_requests as req
from tests.fakes.slack_api import Call, FakeSlack
from tests.fakes.slack_bot import SIGNING_SECRET, SlackBot, serve_env, start_bot

ROOT = Path(__file__).resolve().parents[1]
SETTLE_S = 600
_USER = re.compile(r"U0BENCH\d{4}")
_WRITES = ("chat.postMessage", "chat.update")


@dataclass
class Figures:
    label: str
    acks: list[float]
    refused: int  # answers other than 200 (or none at all)
    dispatched: list[float]  # inside Bolt (bot in this process only)
    parents: list[float]
    first_replies: list[float]
    verdicts: list[float]
    writes_per_run: float
    max_writes: int
    wall_s: float
    rss_mb: float
    busiest: int
    cpu_per_run_s: float  # the bot's CPU over the burst (settling included), per command
    loop_cpu_per_run_s: float  # of which its event loop's thread
    kernel_cpu_per_run_s: float  # of which in the kernel (all threads)


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


# --- the load client: Slack's senders, in a process of their own ---------------------------------


class Sent(NamedTuple):
    """One request as the load client saw it (`time.monotonic()`); status 0: no answer."""

    sent_at: float
    acked_at: float
    status: int


class LoadClient:
    """A spawned process that sends bursts of pre-built HTTP requests and times their answers.

    Connections: pre-opened keep-alive connections, one per request, each used once for GET /health
    before the burst (Slack keeps its connections open, and ack latency should measure the bot, not
    TCP set-up or the server accepting connections); with `fresh`, a new connection per request,
    opened inside the timed part.
    """

    def __init__(self, fresh: bool) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._pipe, child = ctx.Pipe()
        self._process = ctx.Process(target=_load_client, args=(child, fresh), daemon=True)
        self._process.start()

    async def burst(self, requests: list[tuple[str, bytes]]) -> list[Sent]:
        """Send every (URL, whole HTTP request) at once; their times, in order."""
        self._pipe.send(requests)
        return await asyncio.to_thread(self._pipe.recv)

    def close(self) -> None:
        self._pipe.send(None)
        self._process.join(10)


def http_request(url: str, body: str, headers: dict[str, str]) -> bytes:
    """A whole HTTP/1.1 POST (keep-alive) as bytes, built before the burst so sending costs nothing."""
    parts = urlsplit(url)
    data = body.encode()
    head = [f"POST {parts.path} HTTP/1.1", f"Host: {parts.netloc}", f"Content-Length: {len(data)}",
            *(f"{name}: {value}" for name, value in headers.items())]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + data


def _load_client(pipe: Any, fresh: bool) -> None:
    while (requests := pipe.recv()) is not None:
        pipe.send(asyncio.run(_send_all(requests, fresh)))


async def _send_all(requests: list[tuple[str, bytes]], fresh: bool) -> list[Sent]:
    async def connect(url: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        parts = urlsplit(url)
        return await asyncio.open_connection(parts.hostname, parts.port)

    async def ready(url: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        reader, writer = await connect(url)
        writer.write(f"GET /health HTTP/1.1\r\nHost: {urlsplit(url).netloc}\r\n\r\n".encode())
        await _answer(reader)
        return reader, writer

    opened = [None] * len(requests) if fresh else await asyncio.gather(*(ready(url) for url, _ in requests))
    writers: list[asyncio.StreamWriter] = []

    async def one(url: str, data: bytes, conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None) -> Sent:
        sent_at = time.monotonic()
        status = 0
        try:
            reader, writer = conn or await connect(url)
            writers.append(writer)
            writer.write(data)
            status = await _answer(reader)
        except (OSError, ValueError, asyncio.IncompleteReadError):
            pass
        return Sent(sent_at, time.monotonic(), status)

    # the tasks start in order within one turn of the loop: every request is written before any answer is read
    sent = await asyncio.gather(*(one(url, data, conn) for (url, data), conn in zip(requests, opened, strict=True)))
    for writer in writers:
        writer.close()
    return sent


async def _answer(reader: asyncio.StreamReader) -> int:
    """Read one whole HTTP/1.1 answer; its status."""
    status = int((await reader.readline()).split()[1])
    length, chunked = 0, False
    while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
        elif name.strip().lower() == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
    if not chunked:
        await reader.readexactly(length)
        return status
    while size := int((await reader.readline()).split(b";")[0], 16):
        await reader.readexactly(size + 2)
    await reader.readline()
    return status


# --- the bot under test ------------------------------------------------------------------------


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
        """Wait until every run of the burst has written its thread (or `SETTLE_S` passed: say so)."""
        try:
            if self.bot is not None:
                await self.bot.settle(timeout=SETTLE_S)
                return
            # other processes: a run's last writes make both its parent and its reply show the verdict
            async with asyncio.timeout(SETTLE_S):
                while sum(t.complete for t in threads(self.fake.calls[before:])) < runs:
                    await asyncio.sleep(0.2)
        except TimeoutError:
            done = sum(t.complete for t in threads(self.fake.calls[before:]))
            print(f"(only {done} of {runs} runs wrote their whole thread within {SETTLE_S} s)", flush=True)

    def cpu_s(self) -> tuple[float, float, float]:
        """CPU seconds used so far by the bot: (all, its event loop's thread, in the kernel), from the
        serve processes (or, in process, this whole process: then the loop's share is not told apart)."""
        if self.bot is not None:
            usage = resource.getrusage(resource.RUSAGE_SELF)
            return usage.ru_utime + usage.ru_stime, usage.ru_utime + usage.ru_stime, usage.ru_stime
        ticks = os.sysconf("SC_CLK_TCK")
        total, loop, kernel = 0, 0, 0
        for process in self.processes:
            user, system = _cpu_ticks(f"/proc/{process.pid}/stat")
            total, kernel = total + user + system, kernel + system
            loop += sum(_cpu_ticks(f"/proc/{process.pid}/task/{process.pid}/stat"))  # the main thread runs the loop
        return total / ticks, loop / ticks, kernel / ticks

    def rss_mb(self) -> float:
        if self.bot is not None:
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return max(_peak_rss_kb(p.pid) for p in self.processes) / 1024


def _cpu_ticks(stat: str) -> tuple[int, int]:
    fields = Path(stat).read_text().rsplit(")", 1)[1].split()
    return int(fields[11]), int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))


def _peak_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


_VERDICT = re.compile("|".join(f"{re.escape(label)}: " for label in OUTCOME_LABELS.values()))
_FAILED = "Something went wrong on my side"


def _shows_verdict(call: Call) -> bool:
    """A parent at a glance or a verdict reply: its fallback text names the outcome."""
    return bool(_VERDICT.search(str(call.params.get("text", ""))))


@dataclass
class Thread:
    """One run's thread in the fake Slack: its parent and every write to it or its replies, in order."""

    parent: Call
    writes: list[Call]
    parent_done: bool = False  # the parent (posted or edited) shows the verdict
    reply_done: bool = False  # a reply (posted or edited) shows the verdict
    failed: bool = False  # a reply says the run failed (then the parent is left as it was)

    @property
    def complete(self) -> bool:
        """The run's last write arrived: both the parent and the reply show the verdict (or it failed)."""
        return self.failed or (self.parent_done and self.reply_done)


def threads(calls: Sequence[Call]) -> list[Thread]:
    """The threads started among `calls` (arrival order), in one pass."""
    found: dict[tuple[Any, str], Thread] = {}  # (channel, parent ts)
    of_ts: dict[tuple[Any, str], Thread] = {}  # (channel, parent or reply ts) -> its thread
    for call in calls:
        if call.method not in _WRITES:
            continue
        channel, ts = call.channel, str(call.response.get("ts") or "")
        if call.method == "chat.postMessage" and not call.params.get("thread_ts"):
            if call.response.get("ok"):
                found[channel, ts] = of_ts[channel, ts] = Thread(call, [call], parent_done=_shows_verdict(call))
            continue
        edited = str(call.params.get("ts") or "")
        thread = of_ts.get((channel, str(call.params.get("thread_ts") or edited)))
        if thread is None:
            continue
        thread.writes.append(call)
        if call.method == "chat.postMessage" and ts:
            of_ts[channel, ts] = thread
        if call.method == "chat.update" and edited == thread.parent.response["ts"]:
            thread.parent_done = thread.parent_done or _shows_verdict(call)
        else:
            thread.reply_done = thread.reply_done or _shows_verdict(call)
            thread.failed = thread.failed or _FAILED in str(call.params.get("text", ""))
    return list(found.values())


async def burst(target: Target, client: LoadClient, label: str, channels: list[str]) -> Figures:
    """Send one command per entry of `channels` (repeats = same channel) all at once."""
    before = len(target.fake.calls)
    target.dispatch_s.clear()
    requests = []
    for n, channel in enumerate(channels):
        body = req.slash_command(target.text, response_url=target.fake.response_url(f"b{n}"), channel=channel,
                                 user=f"U0BENCH{n:04d}")
        url = target.urls[n % len(target.urls)]
        requests.append((url, http_request(url, body, req.signed_headers(body, SIGNING_SECRET))))
    cpu_before = target.cpu_s()
    sent = await client.burst(requests)
    await target.settle(len(channels), before)
    cpu = [after - was for after, was in zip(target.cpu_s(), cpu_before, strict=True)]
    calls = target.fake.calls[before:]
    ack_of = {f"U0BENCH{n:04d}": s.acked_at for n, s in enumerate(sent)}
    parents: list[float] = []
    replies: list[float] = []
    verdicts: list[float] = []
    started = threads(calls)
    for thread in started:
        user = _USER.search(thread.parent.raw)
        ack = ack_of[user.group(0)] if user else max(ack_of.values())
        parents.append(thread.parent.at - ack)
        firsts = [c.at for c in thread.writes if c.params.get("thread_ts")]
        if firsts:
            replies.append(min(firsts) - ack)
        shown = [c.at for c in thread.writes if _shows_verdict(c)]
        if shown:
            verdicts.append(min(shown) - ack)
    mine = set(channels)
    writes = [c for c in calls if c.method in _WRITES and c.channel in mine]
    start = min(s.sent_at for s in sent)
    end = max([c.at for c in writes] + [s.acked_at for s in sent])
    return Figures(label, [s.acked_at - s.sent_at for s in sent if s.status == 200],
                   sum(s.status != 200 for s in sent), list(target.dispatch_s), parents, replies, verdicts,
                   len(writes) / max(1, len(channels)), max((len(t.writes) for t in started), default=0),
                   end - start, target.rss_mb(), _busiest_second(writes),
                   *(part / max(1, len(channels)) for part in cpu))


def _busiest_second(writes: list[Call]) -> int:
    """The most writes any one channel got within one second."""
    by_channel: dict[Any, list[float]] = {}
    for call in writes:
        by_channel.setdefault(call.channel, []).append(call.at)
    most = 0
    for stamps in by_channel.values():
        stamps.sort()
        most = max([most, *(bisect.bisect_right(stamps, t + 1.0 - 1e-3) - n for n, t in enumerate(stamps))])
    return most


def report(f: Figures) -> None:
    def p(values: list[float], q: float) -> str:
        return f"{ms(values, q):7.0f}" if values else "      -"

    inside = (f" (in Bolt {ms(f.dispatched, .5):.1f}/{ms(f.dispatched, .99):.1f})" if f.dispatched else "")
    refused = f", {f.refused} not acked" if f.refused else ""
    print(f"{f.label:<24} ack p50 {p(f.acks, .5)} p99 {p(f.acks, .99)}{inside} ms{refused} | parent p50 "
          f"{p(f.parents, .5)} | first reply p50 {p(f.first_replies, .5)} | verdict p50 {p(f.verdicts, .5)} max "
          f"{p(f.verdicts, 1)} ms | writes/run {f.writes_per_run:.2f} (max {f.max_writes}; "
          f"busiest 1 s in a channel: {f.busiest}) | {len(f.verdicts)}/{len(f.acks) + f.refused} verdicts | "
          f"wall {f.wall_s:.1f} s | bot CPU {1000 * f.cpu_per_run_s:.1f} ms/run (loop thread "
          f"{1000 * f.loop_cpu_per_run_s:.1f}, kernel {1000 * f.kernel_cpu_per_run_s:.1f}) | "
          f"peak RSS {f.rss_mb:.0f} MiB",
          flush=True)


async def main(args: argparse.Namespace) -> None:
    sizes = [int(s) for s in args.sizes.split(",") if s]
    remote = None if args.sim_in_process else RemoteSimulator(args.scenario, args.latency_ms)
    client = LoadClient(args.fresh_connections)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            async with FakeSlack() as fake, SimulatorServer(load_scenario(args.scenario)) as local:
                local.state.faults.latency_ms = args.latency_ms
                sim: Any = remote or local
                extra = {"MAX_CONCURRENT_RUNS": str(args.max_runs)} if args.max_runs else {}
                if not args.in_process:
                    if args.database_url:
                        count, store = 2, {"DATABASE_URL": args.database_url}
                        where = "2 `serve --http` processes on PostgreSQL (commands alternate)"
                    else:
                        count, store = 1, {"DATABASE_PATH": str(Path(tmp) / "bench.db")}
                        where = "1 `serve --http` process, SQLite history"
                    async with serving_processes(fake, sim, Path(tmp), count, {**store, **extra}) as target:
                        await measure(target, client, args, sizes, where)
                    return
                bot = start_bot(fake, sim, Path(tmp) / "bench.db", pace=1.0, **extra)
                profiler = cProfile.Profile() if args.profile else None
                try:
                    async with http_server(bot.app, host="127.0.0.1", port=0) as url:
                        target = Target(fake, check_text(sim), [url], bot=bot)
                        if profiler:
                            profiler.enable()
                        await measure(target, client, args, sizes,
                                      "in this process (--in-process), sharing its event loop with the fake Slack")
                finally:
                    if profiler:
                        profiler.disable()
                        profiler.dump_stats(args.profile)
                    await bot.close()
    finally:
        client.close()
        if remote is not None:
            remote.close()


@asynccontextmanager
async def serving_processes(fake: FakeSlack, sim: Any, tmp: Path, count: int,
                            settings: dict[str, str]) -> AsyncIterator[Target]:
    """`count` `confluence-check serve --http` processes with `settings` (their history: DATABASE_PATH
    for one, DATABASE_URL for replicas behind a balancer), on the fake Slack and the simulator."""
    ports = [_free_port() for _ in range(count)]
    processes = []
    for n, port in enumerate(ports):
        env = serve_env(sim, fake, **settings, PORT=str(port), LOG_LEVEL="WARNING")
        if "DATABASE_URL" not in settings:
            env.pop("DATABASE_URL", None)  # it would win over DATABASE_PATH
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


async def measure(target: Target, client: LoadClient, args: argparse.Namespace, sizes: list[int],
                  where: str) -> None:
    # one command per bot process first: its auth.test and first connections
    await burst(target, client, "warm-up", [f"C0WARM{n:04d}" for n in range(len(target.urls))])
    sim_where = "in this process" if args.sim_in_process else "in its own process"
    connections = "a new connection per request" if args.fresh_connections else "pre-opened connections"
    print(f"bot: {where}, pacing 1 write/s/channel; fake Slack in this process; Atlassian simulator {sim_where}, "
          f"latency {args.latency_ms} ms, scenario {args.scenario}; load client in its own process, {connections}; "
          f"MAX_CONCURRENT_RUNS {args.max_runs or 'default'}; times from each command's ack", flush=True)
    # Each size `--repeat` times over fresh channels (a used channel would still be keeping Slack's
    # pace); one run alone is measured before each repeat of the others, so each ratio compares
    # figures taken moments apart. The summary gives the median of the repeats.
    ratios: list[float] = []
    per_size: dict[int, list[Figures]] = {}
    for repeat in range(args.repeat):
        alone: Figures | None = None
        for size in sizes:
            figures = await burst(target, client, f"{size} over {size} channels",
                                  [f"C0B{size:03d}R{repeat:02d}X{n:04d}" for n in range(size)])
            report(figures)
            per_size.setdefault(size, []).append(figures)
            alone = alone or (figures if size == 1 else None)
            if size == 50 and alone and alone.verdicts and figures.verdicts:
                ratios.append(statistics.median(figures.verdicts) / statistics.median(alone.verdicts))
                print(f"{'':<24} verdict p50 at 50 / one run alone: {ratios[-1]:.2f}x", flush=True)
    if args.repeat > 1:
        print(f"medians of {args.repeat} repeats:", flush=True)
        for size, runs in per_size.items():
            acks = [ms(f.acks, .99) for f in runs if f.acks]
            firsts = [ms(f.parents, .5) for f in runs if f.parents]
            replies = [ms(f.first_replies, .5) for f in runs if f.first_replies]
            verdicts = [ms(f.verdicts, .5) for f in runs if f.verdicts]
            print(f"{'':<2}{size:>4} at once: ack p99 {statistics.median(acks):.0f} ms | parent p50 "
                  f"{statistics.median(firsts):.0f} ms | first reply p50 {statistics.median(replies):.0f} ms | "
                  f"verdict p50 {statistics.median(verdicts):.0f} ms", flush=True)
        if ratios:
            print(f"{'':<2}verdict p50 at 50 / one run alone: {statistics.median(ratios):.2f}x "
                  f"(each: {', '.join(f'{r:.2f}' for r in ratios)})", flush=True)
    if args.one_channel:
        report(await burst(target, client, f"{args.one_channel} in one channel", ["C0BONECHAN"] * args.one_channel))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,10,50,200", help="concurrent commands, each over its own channels")
    parser.add_argument("--one-channel", type=int, default=50, help="commands at once in one channel (0: skip)")
    parser.add_argument("--latency-ms", type=int, default=100, help="the simulated Atlassian's answer delay")
    parser.add_argument("--repeat", type=int, default=1, help="measure each size this many times; print medians")
    parser.add_argument("--scenario", default="no_confluence_access")
    parser.add_argument("--max-runs", type=int, default=0, help="MAX_CONCURRENT_RUNS (default: the setting's)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--database-url", metavar="URL",
                       help="two `serve --http` processes on this PostgreSQL instead of one on SQLite")
    where.add_argument("--in-process", action="store_true",
                       help="the bot in this process and event loop, with the fake Slack (for --profile)")
    parser.add_argument("--profile", metavar="FILE",
                        help="with --in-process: write a cProfile of this process's measured part to FILE")
    parser.add_argument("--sim-in-process", action="store_true",
                        help="run the Atlassian simulator in this process (as first measured)")
    parser.add_argument("--fresh-connections", action="store_true",
                        help="a new TCP connection per command, opened in the timed part (default: pre-opened)")
    parsed = parser.parse_args()
    if parsed.profile and not parsed.in_process:
        parser.error("--profile profiles this process: it needs --in-process")
    asyncio.run(main(parsed))
