"""`confluence-check watch add | list | remove`: the watches `serve` runs (`bot.watches`), kept in the history.

    watch add ACTOR [--endpoint "METHOD URL"] [--space KEY] [--every 6h] [--channel ID]
    watch list [--json]
    watch remove ID

Adding a watch runs nothing: `serve` checks it at once, then every interval, and posts into the
channel only when something changes. Exit 0; 64 for bad usage (an unknown id, an interval shorter
than WATCH_MIN_INTERVAL_S, an endpoint on a foreign host).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import TextIO

from bot.config import Settings
from bot.console import ExitCode, write
from bot.errors import UsageError
from bot.store import HistoryStore
from bot.store.watches import Watch, add_watch, list_watches, remove_watch
from bot.watches import WatchOptions, describe_every, new_watch, watch_to_json

WATCHES_SCHEMA = "confluence-check/watches@1"


def add(options: WatchOptions, settings: Settings, *, out: TextIO) -> ExitCode:
    watch = new_watch(options, settings, created_by="cli", now=time.time())
    store = HistoryStore.for_settings(settings)
    try:
        add_watch(store.db, watch)
    finally:
        store.close()
    where = f"posting changes in {watch.channel}" if watch.channel else "no channel: its runs are in `history`"
    write(out, f"Added watch {watch.id}: {watch.actor} every {describe_every(watch.every_s)}, {where}. "
               "`confluence-check serve` checks it at once, then every interval.")
    return ExitCode.OK


def listing(as_json: bool, settings: Settings, *, out: TextIO) -> ExitCode:
    store = HistoryStore.for_settings(settings, write=False)
    try:
        watches = list_watches(store.db)
    finally:
        store.close()
    if as_json:
        write(out, json.dumps({"schema": WATCHES_SCHEMA, "watches": [watch_to_json(w) for w in watches]}, indent=2))
    elif not watches:
        write(out, "No watches. Add one: confluence-check watch add ACTOR --every 6h --channel C0123ABCD")
    else:
        write(out, format_watches(watches))
    return ExitCode.OK


def remove(watch_id: str, settings: Settings, *, out: TextIO) -> ExitCode:
    store = HistoryStore.for_settings(settings)
    try:
        removed = remove_watch(store.db, watch_id.strip())
    finally:
        store.close()
    if not removed:
        raise UsageError(f"no watch {watch_id[:40]!r}: `confluence-check watch list` shows their ids")
    write(out, f"Removed watch {watch_id}.")
    return ExitCode.OK


def format_watches(watches: list[Watch]) -> str:
    rows = [("ID", "ACTOR", "EVERY", "CHANNEL", "LAST VERDICT", "NEXT CHECK")]
    for w in watches:
        verdict = w.verdict or "not checked yet"
        if w.trouble:
            verdict += f" (cannot check: {w.trouble})"
        rows.append((w.id, w.actor + (f" {w.endpoint}" if w.endpoint else "") + (f" space:{w.space}" if w.space
                     else ""), describe_every(w.every_s), w.channel or "-", verdict,
                     f"{datetime.fromtimestamp(w.next_due, UTC):%Y-%m-%d %H:%M} UTC"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join("  ".join(c.ljust(widths[i]) for i, c in enumerate(r[:-1])) + "  " + r[-1] for r in rows)
