"""Injected faults as data: the older prefix-based rate-limit and error faults, and route faults
(status, reset, close, delay, malformed body; per route or n-th request). `faults.py` applies them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

FaultRole = Literal["site", "api", "status", "any"]


@dataclass
class RateLimitFault:
    role: FaultRole = "any"
    path_prefix: str = "/"
    count: int = 1  # requests still to be answered 429; decremented as they fire
    retry_after: int = 5


@dataclass
class ErrorFault:
    role: FaultRole = "any"
    path_prefix: str = "/"
    count: int = 1  # decremented as they fire
    status: int = 503


class FaultKind(StrEnum):
    """What a `RouteFault` does to the requests it hits."""

    STATUS = "status"  # answer `status` (5xx, or 429 with the API's rate-limit headers) instead
    RESET = "reset"  # abort the connection with a TCP reset, no response
    CLOSE = "close"  # close the connection cleanly without any response
    DELAY = "delay"  # wait `delay_ms`, then answer normally (a client read timeout when long enough)
    MALFORMED = "malformed"  # 200 with a JSON content type and a body that does not parse


class RetryAfterForm(StrEnum):
    """How a 429's `Retry-After` is written (RFC 9110 §10.2.3 allows both)."""

    SECONDS = "seconds"
    HTTP_DATE = "http-date"


_SEGMENT = re.compile(r"\{[^/{}]+\}")


@dataclass
class RouteFault:
    """A fault on one route, or on the n-th request of the run.

    A request matches when `role` (`any` = every listener), `method` (None = any) and `path` (None =
    any) match; `path` is the full request path where `{name}` stands for one segment and a trailing
    `*` for any rest, e.g. `/wiki/api/v2/spaces/{id}/permissions` or `/admin/*`. The fault fires on
    the `nth` matching request (1-based) and the `count - 1` matching requests after it; `count`
    None = every matching request from the `nth` on. `seen` and `fired` count as it goes."""

    kind: FaultKind = FaultKind.STATUS
    role: FaultRole = "any"
    method: str | None = None
    path: str | None = None
    nth: int = 1
    count: int | None = 1
    status: int = 503
    retry_after: int | None = None  # seconds; sent on a 429 or 503 only when set (docs/atlassian.md §4)
    retry_after_form: RetryAfterForm = RetryAfterForm.SECONDS
    rate_limit_reset: int | None = None  # seconds from now, sent as X-RateLimit-Reset (docs/atlassian.md §4)
    delay_ms: int = 0
    seen: int = field(default=0, init=False)
    fired: int = field(default=0, init=False)

    def matches(self, role: str, method: str, path: str) -> bool:
        if self.role not in (role, "any") or (self.method is not None and self.method.upper() != method):
            return False
        return self.path is None or _path_pattern(self.path).fullmatch(path) is not None

    def take(self) -> bool:
        """Count one matching request; True when the fault fires on it."""
        self.seen += 1
        if self.seen < self.nth or (self.count is not None and self.fired >= self.count):
            return False
        self.fired += 1
        return True


def _path_pattern(template: str) -> re.Pattern[str]:
    rest = template.endswith("*")
    body = template[:-1] if rest else template
    parts = _SEGMENT.split(body)
    pattern = "[^/]+".join(re.escape(p) for p in parts)
    return re.compile(pattern + (".*" if rest else ""))


@dataclass
class KeyRateLimit:
    """A token bucket per API key (the Bearer credential presented) on the organization and user
    management APIs (`/admin/…`, `/users/…`): `per_second` tokens a second, at most `burst` saved
    up; a request finding the bucket empty is answered 429. Atlassian publishes no numbers for
    these APIs (docs/atlassian.md §4); the headers are those the Organizations API documents on
    every answer: `X-RateLimit-Limit` (the bucket's size), `X-RateLimit-Remaining` (whole tokens
    left) and `X-RateLimit-Reset` (ISO 8601 UTC: when the bucket is full again; on a 429, when
    the next request can pass). It documents no `Retry-After`; `retry_after` adds one to 429s
    (whole seconds, rounded up), as some gateway answers carry it (docs/atlassian.md §4)."""

    per_second: float = 20.0
    burst: int = 20
    retry_after: bool = False


@dataclass
class Faults:
    latency_ms: int = 0
    key_rate_limit: KeyRateLimit | None = None
    rate_limit: list[RateLimitFault] = field(default_factory=list)
    errors: list[ErrorFault] = field(default_factory=list)
    routes: list[RouteFault] = field(default_factory=list)  # checked first, in order
