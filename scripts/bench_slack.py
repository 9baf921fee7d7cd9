"""Measure the Slack side: ack latency, ack → verdict time, Slack API calls per run.

    python scripts/bench_slack.py [--commands 50] [--latency-ms 100] [--scenario no_confluence_access]

Everything runs locally: the real Bolt AsyncApp behind the real aiohttp HTTP server (HTTP mode,
signed requests), the fake Slack Web API (tests/fakes/slack_api.py) and the Atlassian simulator,
both over HTTP on loopback. Slack's real pacing is used (one write per second per channel).
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.simulator import SimulatorServer, load_scenario
from bot.slack.serve import http_server
from tests.fakes import slack_requests as req
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_bot import SlackBot, start_bot


def check_text(sim: SimulatorServer) -> str:
    given = sim.resolve_input()
    return f"{given['actor']} {given['endpoint']} status:{given['status']}"


async def ack_latencies(bot: SlackBot, url: str, count: int, gap_s: float, tag: str) -> list[float]:
    """`count` signed /confluence-check commands, each in its own channel, `gap_s` apart."""
    out = []
    async with aiohttp.ClientSession() as session:
        for n in range(count):
            await asyncio.sleep(gap_s)
            body = req.slash_command(check_text(bot.sim), response_url=bot.fake.response_url(f"ack{n}"),
                                     channel=f"C0{tag}{n:03d}")
            started = time.perf_counter()
            status = await bot.post_http(url, body, session)
            out.append(time.perf_counter() - started)
            assert status == 200, status
    return out


async def ack_to_verdict(bot: SlackBot, url: str, channel: str
                         ) -> tuple[float, float, tuple[float, str], Counter[str]]:
    """One command: seconds from its ack to the verdict reply, to the parent edit and to the first
    step list (with what it showed); calls made."""
    before = len(bot.fake.calls)
    body = req.slash_command(check_text(bot.sim), response_url=bot.fake.response_url("one"), channel=channel)
    async with aiohttp.ClientSession() as session:
        await bot.post_http(url, body, session)
    acked = time.monotonic()
    await bot.settle()
    calls = [c for c in bot.fake.calls[before:] if c.channel == channel or c.method == "response_url"]
    verdict = next(c for c in calls if c.method == "chat.postMessage" and '"actions"' in c.raw)
    parent = next(c for c in calls if c.method == "chat.postMessage")
    parent_edit = next(c for c in calls if c.method == "chat.update" and c.params.get("ts") == parent.response["ts"])
    steps = next(c for c in calls if c.method == "chat.postMessage" and "Steps:" in str(c.params.get("text")))
    first_steps = (steps.at - acked, str(steps.params.get("text")))
    return verdict.at - acked, parent_edit.at - acked, first_steps, Counter(c.method for c in calls)


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with FakeSlack() as fake, SimulatorServer(load_scenario(args.scenario)) as sim:
            bot = start_bot(fake, sim, Path(tmp) / "bench.db", pace=1.0)
            async with http_server(bot.app, host="127.0.0.1", port=0) as url:
                async with aiohttp.ClientSession() as session:  # auth.test once, as serve does at start
                    await bot.post_http(url, req.slash_command("help", response_url=fake.response_url("warm")),
                                        session)
                burst = await ack_latencies(bot, url, args.commands, 0.0, "BURST")
                await bot.settle()
                spaced = await ack_latencies(bot, url, args.commands, 0.25, "SPACED")
                await bot.settle()
                sim.state.faults.latency_ms = args.latency_ms
                to_verdict, to_parent, first_steps, calls = await ack_to_verdict(bot, url, "C0BENCHONE")
            bot.history.close()
    print(f"ack latency, {args.commands} signed /confluence-check commands over HTTP mode, each starting a run:")
    for label, latencies in (("back to back", burst), ("250 ms apart", spaced)):
        ms = [x * 1000 for x in latencies]
        print(f"  {label}: median {statistics.median(ms):.1f} ms, worst {max(ms):.1f} ms, "
              f"best {min(ms):.1f} ms")
    print(f"ack -> verdict reply, scenario {args.scenario}, {args.latency_ms} ms Atlassian latency, "
          f"Slack pacing 1 write/s/channel:")
    print(f"  step list first shown {first_steps[0]:.2f} s after the ack ({first_steps[1]})")
    print(f"  verdict posted {to_verdict:.2f} s after the ack; parent edited {to_parent:.2f} s after")
    print(f"Slack API calls for that run: {sum(calls.values())} "
          + ", ".join(f"{method} {n}" for method, n in sorted(calls.items())))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=50)
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--scenario", default="no_confluence_access")
    asyncio.run(main(parser.parse_args()))
