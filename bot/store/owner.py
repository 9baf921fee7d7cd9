"""Which process a run belongs to, and whether that process is gone.

Every run is stored with its owner: host name, process id and a nonce drawn once per process,
plus a lease the owner renews while the run goes on (`LEASE_S`). A run that is still `running`
is dead, and may be marked interrupted by any process, when:

- its lease has run out (the owner stopped renewing it: crashed, killed, or cut off), or
- its owner ran on this host and that process id no longer exists, or
- its owner ran on this host with this very process id but another nonce (a previous process
  that had the same id, as PID 1 in a restarted container).

So a restarted process marks its own dead runs at once, and a live replica's runs are left
alone however they look (docs/architecture.md §Slack: several processes).
"""

from __future__ import annotations

import functools
import os
import secrets
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

LEASE_S = 60.0  # a running run whose owner has not renewed it for this long is dead
RENEW_EVERY_S = 15.0  # how often an owner renews the leases of its running runs


@dataclass(frozen=True, slots=True)
class Owner:
    host: str
    pid: int
    nonce: str

    def lease_until(self, now: datetime) -> datetime:
        return now + timedelta(seconds=LEASE_S)


@functools.cache
def this_process() -> Owner:
    """This process as an owner of runs (the nonce is drawn on first use)."""
    return Owner(socket.gethostname(), os.getpid(), secrets.token_hex(6))


def owner_gone(host: str | None, pid: int | None, nonce: str | None, lease_until: datetime | None,
               *, now: datetime, me: Owner) -> bool:
    """True when the owner described by these columns can no longer finish its run."""
    if host is None or pid is None:
        return True  # stored before owners were recorded: nobody can finish it
    if lease_until is not None and lease_until < now:
        return True
    if host != me.host:
        return False  # another host: only its lease can tell
    if pid == me.pid:
        return nonce != me.nonce
    return not process_alive(pid)


def process_alive(pid: int) -> bool:
    """Whether a process with this id exists on this host (and is not a zombie)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True
