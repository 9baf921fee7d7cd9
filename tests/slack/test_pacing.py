"""The write pipeline on a virtual clock: token bucket, per-channel priorities, folding, 429, run queue.

Sleeping advances the virtual clock instead of waiting, so these tests assert the exact slot times
a real second-by-second channel would get, without timing anything.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
from collections.abc import Awaitable
from typing import Any, TypeVar

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.slack.outbox import Outbox, Priority
from bot.slack.pacer import ChannelPacer, SlotSource, TokenBucket
from bot.slack.tasks import BackgroundTasks, RunQueue

T = TypeVar("T")


class VirtualClock:
    """Virtual time: `sleep` parks the task until `advance` moves the clock past its wake-up time."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._ids = itertools.count()

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(0.0, seconds), next(self._ids), future))
        await future

    async def run(self, work: Awaitable[T]) -> T:
        """Await `work`, jumping the clock to the next wake-up whenever every task is parked."""
        task = asyncio.ensure_future(work)
        while not task.done():
            for _ in range(20):  # let every runnable task reach its next sleep
                await asyncio.sleep(0)
            if self._sleepers and not task.done():
                wake, _, future = heapq.heappop(self._sleepers)
                self.now = max(self.now, wake)
                future.set_result(None)
        return task.result()


def pipeline(interval: float = 1.0, burst: int = 3) -> tuple[VirtualClock, TokenBucket, Outbox]:
    clock = VirtualClock()
    bucket = TokenBucket(interval, burst, clock=clock)
    return clock, bucket, Outbox(ChannelPacer(source=bucket, sleep=clock.sleep))


def recorder(clock: VirtualClock, sent: list[tuple[str, float]], name: str) -> Any:
    async def send() -> str:
        sent.append((name, clock.now))
        return name

    return send


async def test_slots_keep_the_tokens_accrued_while_waiting() -> None:
    clock = VirtualClock()
    pacer = ChannelPacer(source=TokenBucket(1.0, 2, clock=clock), sleep=clock.sleep)
    slots = []
    for gap in (0.0, 0.11, 0.0, 0.0, 0.0):  # a writer arrives `gap` s after the previous slot
        clock.now += gap
        await clock.run(pacer.wait("C1"))
        slots.append(round(clock.now, 3))
    # two at once (the burst), then exactly one per second: a wait does not throw away the time
    # already accrued (the old bucket gave 0, 0.11, 1.02, 2.87, 3.88)
    assert slots == [0.0, 0.11, 1.0, 2.0, 3.0]


async def test_a_quiet_channel_gets_its_burst_back_and_channels_do_not_share_slots() -> None:
    clock = VirtualClock()
    bucket = TokenBucket(1.0, 3, clock=clock)
    assert [bucket.take("C1") for _ in range(4)] == [0.0, 0.0, 0.0, 1.0]
    assert bucket.take("C2") == 0.0  # another channel has its own bucket
    clock.now = 10.0
    assert [bucket.take("C1") for _ in range(4)] == [0.0, 0.0, 0.0, 1.0]  # refilled to the burst, not beyond


@pytest.mark.parametrize("seed", range(5))
async def test_no_more_than_the_burst_plus_one_write_per_second_whatever_the_arrivals(seed: int) -> None:
    clock = VirtualClock()
    pacer = ChannelPacer(source=TokenBucket(1.0, 3, clock=clock), sleep=clock.sleep)
    rng = random.Random(seed)
    slots: list[float] = []

    async def writer(arrives: float) -> None:
        await clock.sleep(arrives)
        await pacer.wait("C1")
        slots.append(clock.now)

    await clock.run(asyncio.gather(*(writer(rng.uniform(0, 20)) for _ in range(40))))
    slots.sort()
    for i, j in itertools.combinations(range(len(slots)), 2):
        assert j - i + 1 <= 3 + (slots[j] - slots[i]) + 1e-6, (i, j, slots)


async def test_each_slot_goes_to_the_most_important_write_oldest_first() -> None:
    clock, _, outbox = pipeline(burst=1)
    sent: list[tuple[str, float]] = []
    writes = [outbox.submit("C1", recorder(clock, sent, name), priority=priority) for name, priority in [
        ("steps A", Priority.STEPS), ("parent B", Priority.PARENT), ("edit A", Priority.PARENT_EDIT),
        ("verdict A", Priority.VERDICT), ("steps B", Priority.STEPS), ("verdict B", Priority.VERDICT)]]
    await clock.run(asyncio.gather(*writes))
    assert sent == [("verdict A", 0.0), ("verdict B", 1.0), ("parent B", 2.0), ("edit A", 3.0),
                    ("steps A", 4.0), ("steps B", 5.0)]


async def test_priority_is_asked_when_the_slot_comes() -> None:
    clock, bucket, outbox = pipeline(burst=1)
    sent: list[tuple[str, float]] = []
    bucket.take("C1")  # the channel just wrote: the next slot is a second away
    finished = False
    edit = outbox.submit("C1", recorder(clock, sent, "edit"), priority=Priority.PARENT_EDIT)
    parent = outbox.submit("C1", recorder(clock, sent, "parent"),
                           priority=lambda: Priority.VERDICT if finished else Priority.STEPS)
    finished = True  # the run ended while its parent waited for the slot: the parent now shows a verdict
    await clock.run(asyncio.gather(edit, parent))
    assert sent == [("parent", 1.0), ("edit", 2.0)]


async def test_a_superseded_write_is_folded_into_the_newest() -> None:
    clock, bucket, outbox = pipeline(burst=1)
    sent: list[tuple[str, float]] = []
    bucket.take("C1")  # the channel just wrote: the next slot is a second away
    old = outbox.submit("C1", recorder(clock, sent, "steps 3 of 17"), priority=Priority.STEPS, key=("r1", "steps"))
    other = outbox.submit("C1", recorder(clock, sent, "steps of r2"), priority=Priority.STEPS, key=("r2", "steps"))
    new = outbox.submit("C1", recorder(clock, sent, "steps 9 of 17"), priority=Priority.STEPS, key=("r1", "steps"))
    assert new is old
    assert await clock.run(old) == "steps 9 of 17"
    await clock.run(other)
    assert sent == [("steps 9 of 17", 1.0), ("steps of r2", 2.0)]  # the superseded state is never sent


def rate_limited(retry_after: int) -> SlackApiError:
    response = AsyncSlackResponse(client=None, http_verb="POST", api_url="chat.update", req_args={},
                                  data={"ok": False, "error": "ratelimited"},
                                  headers={"Retry-After": str(retry_after)}, status_code=429)
    return SlackApiError("ratelimited", response)


async def test_a_429_holds_the_whole_channel_for_retry_after_then_the_write_is_sent() -> None:
    clock, _, outbox = pipeline(burst=3)
    sent: list[tuple[str, float]] = []
    answers = iter([rate_limited(5)])

    async def flaky() -> str:
        error = next(answers, None)
        sent.append(("verdict" if error is None else "verdict (429)", clock.now))
        if error is not None:
            raise error
        return "ok"

    verdict = outbox.submit("C1", flaky, priority=Priority.VERDICT)
    steps = outbox.submit("C1", recorder(clock, sent, "steps"), priority=Priority.STEPS)
    assert await clock.run(verdict) == "ok"
    await clock.run(steps)
    assert [name for name, _ in sent] == ["verdict (429)", "verdict", "steps"]
    assert sent[1][1] >= 5.0 and sent[2][1] >= sent[1][1] + 1.0  # nothing in the channel meanwhile


async def test_a_write_that_lost_its_connection_is_tried_again_by_the_outbox_alone() -> None:
    """The outbox is the one retry policy of Slack writes: a lost connection is tried again, up to
    its attempts, and the Web API client retries nothing itself."""
    from bot.config import Settings
    from bot.slack.app import build_client, close_client
    from bot.slack.outbox import ATTEMPTS

    clock, _, outbox = pipeline()
    tries: list[float] = []

    async def lost() -> str:
        tries.append(clock.now)
        if len(tries) < ATTEMPTS:
            raise aiohttp.ServerDisconnectedError()
        return "ok"

    assert await clock.run(outbox.submit("C1", lost, priority=Priority.VERDICT)) == "ok"
    assert len(tries) == ATTEMPTS and tries[1] >= tries[0] + 1.0
    client = build_client(Settings.from_mapping({}))
    try:
        assert client.retry_handlers == []
    finally:
        await close_client(client)


async def test_other_errors_reach_the_writer_and_the_queue_goes_on() -> None:
    clock, _, outbox = pipeline()
    sent: list[tuple[str, float]] = []

    async def broken() -> None:
        raise RuntimeError("boom")

    failing = outbox.submit("C1", broken, priority=Priority.VERDICT)
    fine = outbox.submit("C1", recorder(clock, sent, "next"), priority=Priority.STEPS)
    with pytest.raises(RuntimeError, match="boom"):
        await clock.run(failing)
    assert await clock.run(fine) == "next"
    assert outbox.pending("C1") == 0


async def test_the_in_memory_bucket_is_a_slot_source() -> None:
    assert isinstance(TokenBucket(), SlotSource)


async def test_a_shared_slot_source_paces_two_pipelines_together() -> None:
    """Two processes on one app share one source (here: one bucket): together, still one per second."""
    clock = VirtualClock()
    shared = TokenBucket(1.0, 3, clock=clock)
    a = Outbox(ChannelPacer(source=shared, sleep=clock.sleep))
    b = Outbox(ChannelPacer(source=shared, sleep=clock.sleep))
    sent: list[tuple[str, float]] = []
    await clock.run(asyncio.gather(*(box.submit("C1", recorder(clock, sent, f"{name}{n}"), priority=Priority.VERDICT)
                                     for n in range(3) for name, box in (("a", a), ("b", b)))))
    assert sorted(at for _, at in sent) == [0.0, 0.0, 0.0, 1.0, 2.0, 3.0]


async def test_the_run_queue_admits_up_to_its_limit_and_says_how_many_are_ahead() -> None:
    queue = RunQueue(2)
    tickets = [queue.enter() for _ in range(5)]
    assert [t.granted.is_set() for t in tickets] == [True, True, False, False, False]
    assert [t.ahead for t in tickets] == [0, 0, 0, 1, 2]
    queue.leave(tickets[3])  # gave up while waiting (its command was cancelled)
    assert [t.ahead for t in tickets[2:]] == [0, 0, 1]
    queue.leave(tickets[0])
    queue.leave(tickets[0])  # leaving twice frees one place only
    assert tickets[2].granted.is_set() and not tickets[4].granted.is_set()
    assert (queue.running, queue.waiting) == (2, 1)
    queue.leave(tickets[1])
    await asyncio.wait_for(queue.wait(tickets[4]), 1)
    assert (queue.running, queue.waiting) == (2, 0)


async def test_background_work_waits_until_a_burst_of_requests_has_been_answered() -> None:
    tasks = BackgroundTasks()
    events: list[str] = []

    async def work() -> None:
        events.append("work")

    tasks.request_arrived()
    tasks.spawn(work(), name="run", grace=0.05)
    for _ in range(100):  # requests keep coming for ~0.2 s, well under `grace` apart
        tasks.request_arrived()
        events.append("request")
        await asyncio.sleep(0.002)
    await tasks.drain(5)
    assert events[-1] == "work" and events.count("work") == 1
