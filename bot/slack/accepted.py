"""Commands acked but not yet on record: kept in memory, and saved as interrupted by a stop.

A slash command is acked at once and its run is first saved only when its background work
begins (~ACK_GRACE_S later): acks never wait behind history I/O. In between, the
command lives only here. A graceful stop (SIGTERM, Ctrl-C; `serve` in either mode) saves each
command still here as an interrupted run — the run id it would have had, its actor, channel and
user, the slash text through the one redactor — so the next start tells its user, as for any
interrupted run. A SIGKILL or a crash in that window leaves nothing: no code runs then.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.engine import new_run_id
from bot.model import Run, utcnow
from bot.slack.private import Place
from bot.store import AsyncHistory, HistoryStore, Via

log = logging.getLogger(__name__)

ACCEPTED = "accepted"  # in Bolt's context: the command's `Accepted` record, made at its early ack


@dataclass(frozen=True, slots=True)
class Accepted:
    """One acked command: where it came from, what was typed, and the id its run will have."""

    place: Place
    text: str
    run_id: str = field(default_factory=new_run_id)
    at: datetime = field(default_factory=utcnow)


class AcceptedCommands:
    """The commands acked and not yet on record (nor answered without a run), in memory only."""

    def __init__(self) -> None:
        self._pending: dict[str, Accepted] = {}

    def accept(self, place: Place, text: str) -> Accepted:
        """Track a command from its ack on (no I/O: called right after `ack()`)."""
        accepted = Accepted(place, text)
        self._pending[accepted.run_id] = accepted
        return accepted

    def settled(self, run_id: str | None) -> None:
        """Its run is on record (its first save is queued), or it was answered without one."""
        if run_id is not None:
            self._pending.pop(run_id, None)

    @property
    def pending(self) -> list[Accepted]:
        return list(self._pending.values())

    async def save_interrupted(self, history: AsyncHistory, draft: Callable[[Accepted], Run | None]) -> list[Run]:
        """At a stop: save every command still pending as an interrupted run (waits for the saves);
        `draft` is the run a command would have started, None when it would have started none."""
        runs = [(accepted, run) for accepted in self.pending if (run := draft(accepted)) is not None]
        for accepted, run in runs:
            origin = {"via": Via.SLACK.value, "slack_channel": accepted.place.channel,
                      "slack_user": accepted.place.user}

            def save(store: HistoryStore, run: Run = run, origin: dict[str, str] = origin) -> None:
                store.save(run, origin=origin)  # first as going on, then marked: as a run cut short
                store.interrupt(run)

            try:
                await history.call(save)
            except Exception as exc:  # one lost record must not keep the others from being saved
                log.error("could not save command %s in %s as interrupted: %s", accepted.run_id,
                          accepted.place.channel, exc)
                continue
            self.settled(accepted.run_id)
        return [run for _, run in runs]

