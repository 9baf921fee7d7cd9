"""The org-wide API-token sweep (`confluence-check tokens`): every managed account of the
organization, service accounts included, and each one's API tokens, flagged before they break.

Sources (docs/atlassian.md §2.6, §2.7; bot/openapi): the Organizations API lists the managed
accounts (`GET /admin/v1/orgs/{orgId}/users`, every page through `links.next`), the User
management API lists each account's tokens (`GET /users/{account_id}/manage/api-tokens`: id, label,
createdAt, lastAccess, expiry — never a token's value). Since December 2024 every token expires
within a year, and the older ones were all set to expire between March and May 2026
(docs/atlassian.md §1.1): the sweep says which expire next, which were never used, which sit on
deactivated accounts.

An account whose token list cannot be read (a failed request after the client's retries) is
listed in `not_checked`, and makes the answer incomplete; an account the org does not manage
(403/404 on its token list) has no token list the org could read, so it is counted apart and is
not "unread". The reads are paced by an `AdaptiveLimiter` (Atlassian publishes no numbers).

Plain data and HTTP only: no Slack, no terminal (rendering is `bot.render.tokens`).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import quote

from bot.atlassian import Atlassian, Auth, RequestFailed, RetryPolicy, Role
from bot.atlassian.limiter import AdaptiveLimiter
from bot.atlassian.transport import Transport
from bot.config import Settings
from bot.errors import ConfigError
from bot.model import utcnow

SCHEMA = "confluence-check/tokens@1"
DEFAULT_EXPIRING_DAYS = 30
DEFAULT_UNUSED_DAYS = 90
# One bound for the whole sweep (DESIGN: every command is bounded): 5,000 accounts at 20 requests
# a second take about four minutes; an hour covers 70,000.
SWEEP_DEADLINE_S = 3600.0
# A sweep waits longer for a rate limit than a diagnosis does: an answer lost to a 429 is an
# account left unread.
SWEEP_RETRY = RetryPolicy(attempts=5, max_delay_s=60.0)
MAX_ORG_PAGES = 1000


class TokenFlag(StrEnum):
    """What is wrong, or about to be, with one token. Order: what to do first."""

    ACCOUNT_INACTIVE = "account_inactive"  # the account is deactivated or closed: revoke
    EXPIRED = "expired"  # past its expiry: renew (if still needed) or delete
    EXPIRING = "expiring"  # expires within --expiring days: renew now
    NEVER_USED = "never_used"  # no use recorded since it was created
    UNUSED = "unused"  # used, but not within --unused days


@dataclass(frozen=True, slots=True)
class TokenRow:
    account_id: str
    email: str | None
    account_status: str
    account_type: str
    token_id: str
    label: str
    created: str | None
    expires: str | None
    last_used: str | None
    flags: tuple[TokenFlag, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"account_id": self.account_id, "email": self.email, "account_status": self.account_status,
                "account_type": self.account_type, "token_id": self.token_id, "label": self.label,
                "created": self.created, "expires": self.expires, "last_used": self.last_used,
                "flags": [f.value for f in self.flags]}


@dataclass(frozen=True, slots=True)
class Unread:
    """An account whose tokens could not be read (`account_id` None: the account list itself
    stopped, so accounts after it are missing)."""

    account_id: str | None
    why: str

    def to_dict(self) -> dict[str, Any]:
        return {"account_id": self.account_id, "why": self.why}


@dataclass(frozen=True, slots=True)
class SweepOptions:
    expiring_days: int = DEFAULT_EXPIRING_DAYS
    unused_days: int = DEFAULT_UNUSED_DAYS


@dataclass
class TokenSweep:
    org_id: str | None
    options: SweepOptions
    checked_accounts: int = 0
    tokens: list[TokenRow] = field(default_factory=list)
    not_checked: list[Unread] = field(default_factory=list)
    unmanaged: int = 0  # listed accounts whose token list the org cannot read (403/404)
    listed: int = 0  # accounts the org listed
    requests: int = 0
    rate_limited: int = 0  # of those, answered 429

    @property
    def flagged(self) -> list[TokenRow]:
        return [t for t in self.tokens if t.flags]

    @property
    def exit_status(self) -> int:
        """0 nothing flagged, 1 something flagged, 2 some accounts unread (2 wins: the list is incomplete)."""
        if self.not_checked:
            return 2
        return 1 if self.flagged else 0

    def to_dict(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "org_id": self.org_id, "checked_accounts": self.checked_accounts,
                "tokens": [t.to_dict() for t in self.tokens], "not_checked": [u.to_dict() for u in self.not_checked]}


@dataclass(frozen=True, slots=True)
class Progress:
    read: int  # accounts whose token list was asked for and answered (or given up on)
    listed: int  # accounts listed so far
    total: int | None  # what the org says it has (`meta.total`), when it says
    done: bool = False


ProgressFn = Callable[[Progress], None]


def flags_of(token: dict[str, Any], account_status: str, now: datetime, options: SweepOptions) -> tuple[TokenFlag, ...]:
    """The flags of one token as the User management API lists it."""
    flags = []
    if account_status != "active":
        flags.append(TokenFlag.ACCOUNT_INACTIVE)
    expiry = _when(token.get("expiry"))
    if expiry is not None and expiry <= now:
        flags.append(TokenFlag.EXPIRED)
    elif expiry is not None and expiry <= now + timedelta(days=options.expiring_days):
        flags.append(TokenFlag.EXPIRING)
    last = _when(token.get("lastAccess"))
    if not token.get("lastAccess"):
        flags.append(TokenFlag.NEVER_USED)
    elif last is not None and last < now - timedelta(days=options.unused_days) and TokenFlag.EXPIRED not in flags:
        # (an expired token is not used any more by definition: `expired` says all)
        flags.append(TokenFlag.UNUSED)
    return tuple(flags)


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=utcnow().tzinfo)


def sweep_limiter() -> AdaptiveLimiter:
    """The pace a sweep starts with: 16 requests in flight at most, learning the rate from there."""
    return AdaptiveLimiter(max_in_flight=16)


async def sweep(settings: Settings, options: SweepOptions = SweepOptions(), *,
                transport: Transport | None = None, limiter: AdaptiveLimiter | None = None,
                on_progress: ProgressFn | None = None, now: datetime | None = None,
                retry: RetryPolicy | None = None) -> TokenSweep:
    """Read every managed account's tokens. :raises ConfigError: without a usable org key or org id."""
    settings.require("ATLASSIAN_ORG_API_KEY")
    if not settings.site_url:  # the sweep talks to the API host only; the client's guard wants a site
        settings = dataclasses.replace(settings, site_url=settings.api_url)
    limiter = limiter or sweep_limiter()
    async with Atlassian(settings, transport=transport, deadline_s=SWEEP_DEADLINE_S, retry=retry or SWEEP_RETRY,
                         limiter=limiter) as http:
        org_id = settings.org_id or await _discover_org(http)
        report = TokenSweep(org_id=org_id, options=options)
        await _Sweeper(http, report, now or utcnow(), on_progress, limiter.max_in_flight).run()
    report.requests, report.rate_limited = limiter.stats.answered, limiter.stats.rate_limited
    return report


async def _discover_org(http: Atlassian) -> str:
    """ATLASSIAN_ORG_ID is unset: the one org the key administers (docs/atlassian.md §2.6)."""
    orgs: list[str] = []
    target: str | None = "/admin/v1/orgs"
    for _ in range(MAX_ORG_PAGES):
        if target is None:
            break
        reply = await _read(http, target)
        body = reply.json()
        if reply.status in (401, 403):
            raise ConfigError(f"ATLASSIAN_ORG_API_KEY was refused by GET /admin/v1/orgs ({reply.status})")
        if reply.status != 200 or not isinstance(body, dict):
            raise ConfigError(f"could not list the organizations of ATLASSIAN_ORG_API_KEY ({reply.status}); "
                              "set ATLASSIAN_ORG_ID")
        orgs += [str(o["id"]) for o in body.get("data") or [] if isinstance(o, dict) and o.get("id")]
        target = _next_link(body)
    if len(orgs) != 1:
        raise ConfigError(f"ATLASSIAN_ORG_API_KEY administers {len(orgs)} organizations: set ATLASSIAN_ORG_ID "
                          "to the one to sweep" if orgs else "ATLASSIAN_ORG_API_KEY administers no organization")
    return orgs[0]


def _next_link(body: dict[str, Any]) -> str | None:
    links = body.get("links")
    following = links.get("next") if isinstance(links, dict) else None
    return following if isinstance(following, str) and following else None


async def _read(http: Atlassian, target: str) -> Any:
    return await http.call(Role.API, "GET", target, auth=Auth.ORG_KEY)


_DONE = object()


class _Sweeper:
    """The account list is read page by page; each page's accounts go to workers that read their
    token lists while the next page is fetched."""

    def __init__(self, http: Atlassian, report: TokenSweep, now: datetime, on_progress: ProgressFn | None,
                 workers: int) -> None:
        self.http, self.report, self.now = http, report, now
        self.on_progress = on_progress
        self.workers = workers
        self.queue: asyncio.Queue[Any] = asyncio.Queue()  # unbounded: the list is paced by the same limiter
        self.total: int | None = None
        self.read = 0
        self.redact = http.redact

    def _progress(self, done: bool = False) -> None:
        if self.on_progress is not None:
            self.on_progress(Progress(self.read, self.report.listed, self.total, done))

    async def run(self) -> None:
        first = await self._page(f"/admin/v1/orgs/{quote(self.report.org_id or '', safe='')}/users", first=True)
        async with asyncio.TaskGroup() as group:
            for _ in range(self.workers):
                group.create_task(self._work())
            try:
                await self._list(first)
            finally:
                for _ in range(self.workers):
                    self.queue.put_nowait(_DONE)
        self.report.tokens.sort(key=_order)
        self._progress(done=True)

    async def _page(self, target: str, *, first: bool = False) -> dict[str, Any] | None:
        """One page of the account list; None (and the stop noted) when it cannot be read. The
        first page's refusal is a configuration error: nothing could be swept."""
        try:
            reply = await _read(self.http, target)
        except RequestFailed as exc:
            self._list_stopped(f"no answer ({self.redact(str(exc))})")
            return None
        body = reply.json()
        if first and reply.status in (401, 403):
            raise ConfigError(f"ATLASSIAN_ORG_API_KEY may not list the organization's accounts "
                              f"(GET /admin/v1/orgs/{{orgId}}/users answered {reply.status}; "
                              "the key needs the read:accounts:admin scope, or no scopes)")
        if first and reply.status == 404:
            raise ConfigError(f"organization {self.report.org_id} was not found (check ATLASSIAN_ORG_ID)")
        if reply.status != 200 or not isinstance(body, dict) or not isinstance(body.get("data"), list):
            note = f" ({reply.evidence.note})" if reply.evidence.note else ""
            self._list_stopped(f"a page answered {reply.status}{note}")
            return None
        return body

    async def _list(self, body: dict[str, Any] | None) -> None:
        while body is not None:
            meta = body.get("meta")
            if isinstance(meta, dict) and isinstance(meta.get("total"), int):
                self.total = meta["total"]
            for account in body["data"]:
                if isinstance(account, dict) and isinstance(account.get("account_id"), str):
                    self.report.listed += 1
                    self.queue.put_nowait(account)
            self._progress()
            following = _next_link(body)
            body = None if following is None else await self._page(following)

    def _list_stopped(self, why: str) -> None:
        self.report.not_checked.append(Unread(None, f"the organization's account list stopped after "
                                                    f"{self.report.listed} account(s): {why}"))

    async def _work(self) -> None:
        while (account := await self.queue.get()) is not _DONE:
            await self._account(account)
            self.read += 1
            self._progress()

    async def _account(self, account: dict[str, Any]) -> None:
        account_id = str(account["account_id"])
        try:
            reply = await _read(self.http, f"/users/{account_id}/manage/api-tokens")
        except RequestFailed as exc:
            self.report.not_checked.append(Unread(account_id, f"no answer: {self.redact(str(exc))}"))
            return
        if reply.status in (403, 404):
            # not managed by the org (or gone): there is no token list it could read (§2.7)
            self.report.unmanaged += 1
            return
        tokens = reply.json()
        if reply.status != 200 or not isinstance(tokens, list):
            what = "a body that is not a token list" if reply.status == 200 else f"{reply.status}"
            note = f" ({reply.evidence.note})" if reply.evidence.note else ""
            self.report.not_checked.append(Unread(account_id, f"the token list answered {what}{note}"))
            return
        self.report.checked_accounts += 1
        status = str(account.get("account_status") or "unknown")
        for token in tokens:
            if isinstance(token, dict) and token.get("id"):
                self.report.tokens.append(self._row(account, status, token))

    def _row(self, account: dict[str, Any], status: str, token: dict[str, Any]) -> TokenRow:
        def text(value: Any) -> str | None:  # a label is typed by people: masked like any text from outside
            return None if value is None else self.redact(str(value))

        return TokenRow(
            account_id=str(account["account_id"]), email=text(account.get("email")), account_status=status,
            account_type=str(account.get("account_type") or "unknown"), token_id=str(token["id"]),
            label=text(token.get("label")) or "", created=text(token.get("createdAt")),
            expires=text(token.get("expiry")), last_used=text(token.get("lastAccess")),
            flags=flags_of(token, status, self.now, self.report.options))


def _order(row: TokenRow) -> tuple[int, str, str, str]:
    """Most urgent first: by the first flag's rank, then soonest expiry."""
    rank = list(TokenFlag).index(row.flags[0]) if row.flags else len(TokenFlag)
    return rank, row.expires or "9999", row.email or "", row.token_id
