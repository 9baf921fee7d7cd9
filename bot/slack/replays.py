"""Signed Slack requests are taken once: a copy of one sent again within Slack's five-minute window is
acked and dropped, so a replayed slash command never starts a second run.

A request's signature (`X-Slack-Signature`) is an HMAC of its timestamp and body, so a copy carries the
same one, and nobody without the signing secret can make a new one (Slack's own retries of an event are
new requests: new timestamp, new signature). Older copies fail Slack's timestamp check (five minutes,
https://docs.slack.dev/authentication/verifying-requests-from-slack) before they get here. One process
remembers the signatures it took, in memory (`note`, no I/O: it runs in the ack's path); several processes
on one PostgreSQL (replicas, any of which may receive the copy) also claim each one in the database
(`claim`), where the first claim wins.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable, Callable

WINDOW_S = 300.0  # Slack's: a request whose timestamp is further off is refused anyway

Claim = Callable[[str, float], Awaitable[bool]]


class SeenRequests:
    """The signatures taken in the last five minutes (as SHA-256 digests), in memory and, given `shared`,
    in the database every replica uses."""

    def __init__(self, shared: Claim | None = None) -> None:
        self._seen: dict[str, float] = {}  # digest -> when it was taken; insertion order is time order
        self._shared = shared

    def note(self, signature: str) -> bool:
        """True the first time this process sees this signature (and remember it for the window)."""
        now = time.monotonic()
        while self._seen:  # forget what has left the window, oldest first
            digest, at = next(iter(self._seen.items()))
            if now - at < WINDOW_S:
                break
            del self._seen[digest]
        digest = _digest(signature)
        if digest in self._seen:
            return False
        self._seen[digest] = now
        return True

    async def claim(self, signature: str, timestamp: str | None) -> bool:
        """True unless another replica took this signature already (always True without a shared database)."""
        if self._shared is None:
            return True
        sent_at = float(timestamp) if timestamp and timestamp.isdigit() else time.time()
        return await self._shared(_digest(signature), sent_at)


def _digest(signature: str) -> str:
    return hashlib.sha256(signature.encode()).hexdigest()
