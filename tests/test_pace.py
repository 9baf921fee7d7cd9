"""The Slack write pace shared through the database: several processes (here: connections on
their own threads, each as a process would hold it) together never exceed the bucket's rate."""

from __future__ import annotations

import threading
import time

import pytest

from bot.store import AsyncHistory
from bot.store.pace import SharedSlots, take_slot
from tests.conftest import Database

INTERVAL = 0.2
BURST = 3


def _slots_from(database: Database, channel: str, count: int, out: list[float]) -> None:
    store = database.open()
    try:
        for _ in range(count):
            wait = take_slot(store.db, channel, interval=INTERVAL, burst=BURST)
            out.append(time.time() + wait)
    finally:
        store.close()


def test_two_writers_together_keep_one_pace_per_channel(database: Database) -> None:
    slots: list[float] = []
    other: list[float] = []
    writers = [threading.Thread(target=_slots_from, args=(database, "C1", 12, slots)) for _ in range(2)]
    writers.append(threading.Thread(target=_slots_from, args=(database, "C2", 5, other)))
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=60)
    slots.sort()
    assert len(slots) == 24
    # a token bucket: any stretch of slots holds at most `burst` plus one per interval of its length
    for i in range(len(slots)):
        for j in range(i + 1, len(slots)):
            assert j - i + 1 <= BURST + (slots[j] - slots[i]) / INTERVAL + 0.25, (i, j)
    assert slots[-1] - slots[0] >= (24 - BURST) * INTERVAL - 0.05  # 21 waits of one interval
    assert max(other) - min(other) < (5 - BURST) * INTERVAL + 0.2  # another channel has its own pace


def test_a_deferral_pushes_the_next_slot_back(database: Database) -> None:
    store = database.open()
    try:
        assert take_slot(store.db, "C1", interval=INTERVAL, burst=BURST) == 0.0
        take_slot(store.db, "C1", interval=INTERVAL, burst=BURST, defer_s=1.0)  # 429, Retry-After: 1
        assert take_slot(store.db, "C1", interval=INTERVAL, burst=BURST) == pytest.approx(1.0, abs=0.05)
    finally:
        store.close()


async def test_shared_slots_is_a_slot_source_off_the_loop(database: Database) -> None:
    from bot.slack.pacer import ChannelPacer, SlotSource

    history = AsyncHistory(database.open)
    try:
        source = SharedSlots(history, interval=INTERVAL, burst=1)
        assert isinstance(source, SlotSource)
        pacer = ChannelPacer(source=source)
        started = time.monotonic()
        for _ in range(3):
            await pacer.wait("C1")
        assert time.monotonic() - started >= 2 * INTERVAL - 0.02
    finally:
        await history.aclose()
