"""Site facts that do not change, kept between runs so a repeat check does not wait for them.

The cloudId of the site URL and the org id the org API key administers are the first links of
every chain (the account lookup needs the org id; the gateway calls need the cloudId). They are
kept in the history database for an hour (`TTL_S`) and given to the next run as *assumed* facts
(`engine.start(assume=...)`): the probes reading them start at once, while the probes providing
them still read them again and check them. A run whose own read differs, or could not confirm
the fact, is done again without assumptions and its answer replaces (or forgets) the kept one.

The org API key itself is never stored: its row is keyed by a salted SHA-256 digest of the key.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from bot.atlassian import Atlassian, Auth, RequestFailed, Role
from bot.atlassian.clients import RUN_DEADLINE_S
from bot.atlassian.limits import cloud_id_of
from bot.atlassian.transport import Transport
from bot.config import Settings
from bot.facts import ORG, SITE, FactKey, Org, Unknown
from bot.probes.registry import REGISTRY
from bot.probes.site import site_of
from bot.store import AsyncHistory, HistoryStore
from bot.store.site_facts import keep_facts, read_facts

log = logging.getLogger(__name__)

TTL_S = 3600.0  # an hour: a kept fact older than this is read again before a run relies on it
KEPT_WAIT_S = 0.05  # how long a run waits for the history thread to read the kept facts (then starts cold)
_DIGEST_SALT = b"confluence-check org key\x00"

Kept = dict[FactKey[Any], Any]


def org_key_digest(key: str) -> str:
    """What identifies an org API key in the database (the key is a secret; this is not)."""
    return hashlib.sha256(_DIGEST_SALT + key.encode()).hexdigest()


class SiteFacts:
    """The kept site facts of one configuration, read and written through the history thread."""

    def __init__(self, settings: Settings, history: AsyncHistory, *, clock: Callable[[], float] = time.time,
                 ttl_s: float = TTL_S) -> None:
        self.settings = settings
        self.history = history
        self.clock = clock
        self.ttl_s = ttl_s
        self._memory: dict[FactKey[Any], tuple[Any, float]] = {}  # what this process kept or read, and when
        self._reading: concurrent.futures.Future[dict[tuple[str, str], tuple[str, float]]] | None = None
        self.rows: dict[FactKey[Any], tuple[str, str]] = {SITE: ("cloud_id", settings.site_url or "")}
        if settings.org_api_key is not None:
            # the org a key stands for also depends on ATLASSIAN_ORG_ID (a key may administer several)
            self.rows[ORG] = ("org_id", f"{org_key_digest(settings.org_api_key.reveal())}/{settings.org_id or ''}")

    def loading(self) -> Callable[[], Awaitable[Kept]]:
        """Start reading the kept facts now (queued on the history thread before the run's first save,
        so the run does not wait behind it); the returned function awaits them."""
        now = self.clock()
        remembered = {key: value for key, (value, at) in self._memory.items() if now - at < self.ttl_s}
        if remembered.keys() == self.rows.keys():  # all known here: no database read

            async def known() -> Kept:
                return remembered

            return known
        rows = list(self.rows.values())
        future = self._reading
        if future is None or future.done():  # runs starting together share one read
            try:
                future = self._reading = self.history.submit(
                    lambda store: read_facts(store.db, rows, now=now, ttl_s=self.ttl_s))
            except RuntimeError:  # the history is closing: nothing kept, as without one
                future = None

        async def kept() -> Kept:
            if future is None:
                return {}
            waiting = asyncio.wrap_future(future)
            waiting.add_done_callback(self._remember_late)
            try:
                found = await asyncio.wait_for(asyncio.shield(waiting), KEPT_WAIT_S)
            except TimeoutError:  # never wait long for what only saves a round trip
                future.cancel()  # not begun (the history thread is busy): leave it out of the thread's queue
                return {}
            except Exception as exc:  # a fact not kept only costs a round trip: never fail a run over it
                log.warning("could not read kept site facts: %s", exc)
                return {}
            self._remember(found)
            return {key: self._memory[key][0] for key, row in self.rows.items() if row in found}

        return kept

    def _remember_late(self, done: asyncio.Future[dict[tuple[str, str], tuple[str, float]]]) -> None:
        """A read that came after its run gave up waiting (the history thread was busy): for the next run."""
        if not done.cancelled() and done.exception() is None:
            self._remember(done.result())

    def _remember(self, found: Mapping[tuple[str, str], tuple[str, float]]) -> None:
        for key, row in self.rows.items():
            if row in found:
                text, read_at = found[row]
                if key not in self._memory or self._memory[key][1] <= read_at:  # never over a newer one
                    self._memory[key] = (self._value(key, text), read_at)

    async def load(self) -> Kept:
        """The kept facts younger than the time to live; none when the database cannot say."""
        return await self.loading()()

    def keep(self, facts: Mapping[FactKey[Any], Any | Unknown | None]) -> None:
        """Keep the facts a run established (as read now); forget those it could not confirm.
        None: the run did not look (nothing changes)."""
        values: dict[tuple[str, str], str | None] = {}
        now = self.clock()
        for key, value in facts.items():
            if key in self.rows and value is not None:
                values[self.rows[key]] = None if isinstance(value, Unknown) else self._text(key, value)
                if isinstance(value, Unknown):
                    self._memory.pop(key, None)
                else:
                    self._memory[key] = (value, now)
        if not values:
            return

        def write(store: HistoryStore) -> None:
            try:
                keep_facts(store.db, values, now=now)
            except store.db.errors as exc:
                log.warning("could not keep site facts: %s", exc)

        self.history.submit(write)

    def keep_run(self, facts: Any, planned: list[tuple[str, str]]) -> None:
        """`keep` what a finished run's fact store holds, for the facts one of its probes provides."""
        provided = {k.name for step_id, _ in planned if step_id in REGISTRY for k in REGISTRY[step_id].provides}
        self.keep({key: facts.peek(key) for key in self.rows if key.name in provided})

    async def read_missing(self, have: Kept, transport: Transport | None, *,
                           deadline_s: float = RUN_DEADLINE_S) -> Kept:
        """Read now, at once and side by side, the facts `have` lacks (for a command that needs them
        before its run starts, as `rule` needs the cloudId), within `deadline_s`; what is read is kept."""
        wanted = [key for key in self.rows if key not in have]
        if not wanted:
            return {}
        async with Atlassian(self.settings, transport=transport, deadline_s=max(0.0, deadline_s)) as http:
            read = await asyncio.gather(*(_READERS[key](http, self.settings) for key in wanted))
        fresh = {key: value for key, value in zip(wanted, read, strict=True) if value is not None}
        self.keep(fresh)
        return fresh

    def _value(self, key: FactKey[Any], text: str) -> Any:
        return site_of(self.settings, text) if key is SITE else Org(text)

    @staticmethod
    def _text(key: FactKey[Any], value: Any) -> str:
        return str(value.cloud_id if key is SITE else value.org_id)


async def _read_cloud_id(http: Atlassian, settings: Settings) -> Any:
    try:  # docs/atlassian.md §2.1: no auth, {"cloudId": ...}; the same read as site.tenant (shared with it)
        reply = await http.call(Role.SITE, "GET", "/_edge/tenant_info", shared=True)
    except RequestFailed:
        return None
    cloud_id = cloud_id_of(reply.json()) if reply.status == 200 else None  # a UUID or nothing: it is kept
    return site_of(settings, cloud_id) if cloud_id is not None else None


async def _read_org(http: Atlassian, settings: Settings) -> Any:
    """The org the key stands for when its first page of orgs says so plainly (anything less is left
    to the `inspector.org_key` probe, which reads every page and explains a refusal)."""
    try:  # docs/atlassian.md §2.6: the orgs the key administers
        reply = await http.call(Role.API, "GET", "/admin/v1/orgs", auth=Auth.ORG_KEY, shared=True)
    except RequestFailed:
        return None
    body = reply.json()
    data = body.get("data") if reply.status == 200 and isinstance(body, dict) else None
    if not isinstance(data, list):
        return None
    orgs = [str(o["id"]) for o in data if isinstance(o, dict) and o.get("id")]
    if settings.org_id:
        return Org(settings.org_id) if settings.org_id in orgs else None
    return Org(orgs[0]) if len(orgs) == 1 else None


_READERS = {SITE: _read_cloud_id, ORG: _read_org}
