"""The application service every adapter uses: start a run, keep it in history as it goes.

The CLI, the Slack bot and the demo all go through `Checker`: `plan_rule` turns an automation rule
into the runs it needs (one per Send web request action), `draft` builds a run as it will start
(for a Slack thread waiting its turn, or an acked command a stop cut short), `start` runs one. A run is stored when it
starts (owned by this process, with a lease the checker renews), each step when it finishes,
and the whole run when it ends; all of it off the event loop, in order (`AsyncHistory`).

Contract with the adapters: cancelling a task that awaits a run (iterating its steps or in
`wait()`) stops the run and saves it as interrupted, with the steps finished so far, before
the cancellation goes on; `Checker.interrupt_all()` does the same for every run in flight (a
server stopping). A failed save never hangs a run: its stream still ends, and `wait()` raises
`HistoryError` (holding the run, so it can still be shown).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot import engine
from bot.atlassian.clients import RUN_DEADLINE_S, Deadline
from bot.atlassian.transport import Transport
from bot.automation.load import RulePlan, RuleUnreadable, load_rule
from bot.automation.reference import RuleRef
from bot.compare import Comparison, compare_runs
from bot.config import Settings
from bot.engine import RunHandle
from bot.errors import ConfigError, HistoryError, UsageError
from bot.facts import SITE, OwnUse
from bot.model import Run, StepResult, utcnow
from bot.observations import TokenList
from bot.probes import REGISTRY, ProbeSpec
from bot.probes.rule import rule_probes, unreadable_probes
from bot.request import CheckRequest
from bot.site_facts import SiteFacts
from bot.store import AsyncHistory, HistoryStore, Via
from bot.store.owner import RENEW_EVERY_S
from bot.store.site_facts import keep_facts, read_facts

log = logging.getLogger(__name__)
# One line per run that ends (its id, actor, cause, confidence, duration): what an operator greps
# the bot's log for. Its own logger, so the terminal commands can leave it out of a person's screen.
RUN_LOG = logging.getLogger("bot.runs")

_STOP_TIMEOUT_S = 5.0  # how long an interrupted run's probes get to wind down


class OwnUses:
    """This tool's own uses of an actor's credential, kept in the history between runs (the site facts
    table, kind `own_use`): a replay is a use, and Atlassian moves the token's lastAccess for it, so the
    next run must not read that as the caller's use. Kept with it: the caller's last use seen before ours
    (None: never; or not known, when the list already showed a use of ours), which the next run's token
    list can no longer show."""

    KIND = "own_use"
    TTL_S = 400 * 86400.0  # a token lives at most a year
    WAIT_S = 0.5  # the run waits this long for the row at most (then goes without: no clue is invented)

    def __init__(self, settings: Settings, history: AsyncHistory, actor: str) -> None:
        self.history = history
        self.row = (self.KIND, f"{settings.site_url}|{actor.lower()}")

    def loading(self) -> Callable[[], Awaitable[OwnUse | None]]:
        try:
            future = self.history.submit(lambda store: read_facts(store.db, [self.row], now=time.time(),
                                                                  ttl_s=self.TTL_S))
        except RuntimeError:  # the history is closing
            future = None

        async def load() -> OwnUse | None:
            if future is None:
                return None
            try:
                found = await asyncio.wait_for(asyncio.wrap_future(future), self.WAIT_S)
                data = json.loads(found[self.row][0]) if self.row in found else None
                return OwnUse(datetime.fromisoformat(data["at"]), data.get("caller"),
                              caller_known=data.get("caller_known", True)) if data else None
            except Exception as exc:  # missing knowledge only: the run goes on without it
                log.warning("could not read this tool's own uses: %s", exc)
                return None

        return load

    def keep(self, first_use: datetime | None, run: Run) -> None:
        """After a run that used the actor's credential: when, and the caller's last use its token list saw
        (only a run that read the list says; otherwise what was kept before stays)."""
        seen = [o for s in run.steps for o in s.observations if isinstance(o, TokenList)]
        if first_use is None or not seen:
            return
        value = json.dumps({"at": first_use.isoformat(), "caller": seen[0].caller_last,
                            "caller_known": seen[0].caller_known})

        def write(store: HistoryStore) -> None:
            try:
                keep_facts(store.db, {self.row: value}, now=time.time())
            except store.db.errors as exc:
                log.warning("could not keep this tool's own use: %s", exc)

        self.history.submit(write)


class Checker:
    """Starts diagnosis runs with one set of settings; saves them when a history is given."""

    def __init__(self, settings: Settings, history: AsyncHistory | None = None, *,
                 transport: Transport | None = None, clock: Callable[[], float] = time.time,
                 site_facts: SiteFacts | None = None) -> None:
        """`site_facts`: where the site's cloudId and the org key's org are kept between runs (a repeat
        check skips their wait); by default in `history`."""
        if not settings.site_url:
            raise ConfigError("missing setting: ATLASSIAN_SITE_URL (see .env.example)")
        self.settings = settings
        self.history = history
        if site_facts is None and history is not None:
            site_facts = SiteFacts(settings, history, clock=clock)
        self.site_facts = site_facts
        self._transport = transport
        self._in_flight: set[CheckedRun] = set()
        self._renewer: asyncio.Task[None] | None = None

    def start(self, request: CheckRequest, *, via: Via | str = Via.CLI, origin: Mapping[str, str] | None = None,
              previous_run_id: str | None = None, run_id: str | None = None,
              probes: Iterable[ProbeSpec] | None = None, deadline_s: float | None = None) -> CheckedRun:
        """Start a run now (on the running event loop) and return its live handle. `deadline_s`: what
        is left of the command's deadline (default: a run's own, `RUN_DEADLINE_S`).

        Its first save is queued before this returns, so even a run killed at once is on record.
        """
        kept = self.site_facts
        uses = OwnUses(self.settings, self.history, request.actor) if self.history is not None else None
        handle = engine.start(request, self.settings, run_id=run_id, transport=self._transport, probes=probes,
                              assume=kept.loading() if kept is not None else None, deadline_s=deadline_s,
                              own_use=uses.loading() if uses is not None else None)
        handle.run.previous_run_id = previous_run_id
        checked = CheckedRun(handle, self.history, origin={"via": Via(via).value, **(origin or {})})
        self._in_flight.add(checked)
        checked.when_done(self._in_flight.discard)
        if uses is not None:
            checked.when_done(lambda done: uses.keep(handle.actor_first_use, done.run))
        if kept is not None:
            def keep(done: CheckedRun) -> None:
                if handle.facts is not None:
                    kept.keep_run(handle.facts, done.run.planned)

            checked.when_done(keep)
        if self.history is not None and (self._renewer is None or self._renewer.done()):
            self._renewer = asyncio.create_task(self._renew_leases(self.history), name="history leases")
        return checked

    async def compare(self, actor: CheckRequest, known_good: CheckRequest, *, via: Via | str = Via.CLI,
                      origin: Mapping[str, str] | None = None) -> Comparison:
        """Diagnose a failing account and one that works at once (two runs, each kept as any run) and
        compare their facts (`bot.compare`)."""
        first = self.start(actor, via=via, origin=origin)
        second = self.start(known_good, via=via, origin=origin)
        actor_run, good_run = await asyncio.gather(first.wait(), second.wait())
        return compare_runs(actor_run, first.facts, good_run, second.facts)

    async def load_rule(self, ref: RuleRef, *, deadline_s: float = RUN_DEADLINE_S) -> RulePlan | RuleUnreadable:
        """Read the rule `ref` names (`bot.automation.load.load_rule`), with the site's cloudId as kept; what
        is not kept (the cloudId, the org key's org) is read first, side by side, and kept for the runs. All
        of it within `deadline_s` (what is left of the command's deadline)."""
        deadline = Deadline(deadline_s)
        cloud_id = None
        if self.site_facts is not None:
            kept = await self.site_facts.load()
            fresh = await self.site_facts.read_missing(kept, self._transport, deadline_s=deadline.remaining())
            site = {**kept, **fresh}.get(SITE)
            cloud_id = site.cloud_id if site is not None else None
        return await load_rule(ref, self.settings, transport=self._transport, cloud_id=cloud_id,
                               deadline_s=max(0.0, deadline.remaining()))

    async def plan_rule(self, ref: RuleRef, *, action: int | None = None,
                        deadline_s: float = RUN_DEADLINE_S) -> list[PlannedRun]:
        """The runs the automation rule `ref` needs: one per Send web request action (only the
        `action`-th when given, a Re-run), or one short run saying why the rule could not be read; the
        rule read within `deadline_s`. :raises UsageError: (or ConfigError) for a rule that cannot be
        named, or has no such action."""
        plan = await self.load_rule(ref, deadline_s=deadline_s)
        if isinstance(plan, RuleUnreadable):
            return [PlannedRun(plan.request, unreadable_probes())]
        work = [PlannedRun(request, rule_probes(request)) for request in plan.requests
                if action is None or (request.rule is not None and request.rule.action_index == action)]
        if not work:
            raise UsageError(f"rule '{plan.rule.name}' has no Send web request #{action} any more")
        return work

    def draft(self, actor: str, *, described: Mapping[str, Any] | None = None, run_id: str | None = None,
              started_at: datetime | None = None, probes: Iterable[ProbeSpec] | None = None,
              previous_run_id: str | None = None) -> Run:
        """The run as it will start (id, actor, site, plan, its described input), before it does:
        what a queued Slack thread shows, and what a stop saves for a command acked but not started."""
        return Run(run_id=run_id or engine.new_run_id(), actor=actor, site=self.settings.site_url or "",
                   started_at=started_at or utcnow(),
                   planned=[(spec.id, spec.title) for spec in (REGISTRY.values() if probes is None else probes)],
                   previous_run_id=previous_run_id, request=dict(described or {}))

    @property
    def transport(self) -> Transport | None:
        """The HTTP transport runs use (tests point it at the simulator); None: the network."""
        return self._transport

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    async def interrupt_all(self) -> list[Run]:
        """Stop every run in flight and save each as interrupted (a server stopping)."""
        runs = list(self._in_flight)
        for checked in runs:
            await checked.interrupt()
        return [checked.run for checked in runs]

    async def _renew_leases(self, history: AsyncHistory) -> None:
        """While runs are in flight, keep their leases fresh so no other process marks them dead."""
        while self._in_flight:
            await asyncio.sleep(RENEW_EVERY_S)
            try:
                await history.call(HistoryStore.renew_leases)
            except Exception as exc:  # a missed renewal is retried; the lease outlasts several
                log.warning("could not renew run leases: %s", exc)


@dataclass(frozen=True, slots=True)
class PlannedRun:
    """One run a command needs: its input and the probes it runs."""

    request: CheckRequest
    probes: list[ProbeSpec]


class CheckedRun(RunHandle):
    """A run the checker keeps in history: iterate it for steps as they finish, `await wait()`.

    A pump task consumes the engine's stream, queues each step's save, then passes the step on;
    at the end it saves the run and ends this stream, whatever happened.
    """

    def __init__(self, source: RunHandle, history: AsyncHistory | None, *, origin: Mapping[str, str]) -> None:
        super().__init__(source.run)
        self._source = source
        self._history = history
        self._save_error: HistoryError | None = None
        self._stopping = False
        self._last_save: Future[Any] | None = None
        self._done_callbacks: list[Callable[[CheckedRun], Any]] = []
        self._via = origin.get("via")
        self._positions = {step_id: i for i, (step_id, _) in enumerate(source.run.planned)}
        first = _copy(source.run)
        self._save(lambda store: store.save(first, origin=origin))
        self._task = asyncio.create_task(self._pump(), name=f"run {source.run.run_id}")

    def when_done(self, callback: Callable[[CheckedRun], Any]) -> None:
        self._done_callbacks.append(callback)

    async def _iterate(self) -> AsyncIterator[Any]:
        try:
            async for step in super()._iterate():
                yield step
        except asyncio.CancelledError:
            await self.interrupt()
            raise

    async def wait(self) -> Run:
        """The run once it ended. :raises HistoryError: when a save failed (`.run` holds the run)."""
        try:
            await self._done.wait()
        except asyncio.CancelledError:
            await self.interrupt()
            raise
        task = self._task
        if task is not None and task.done() and not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]
        return self.run

    async def interrupt(self) -> None:
        """Stop the run and save it as interrupted with its finished steps (once; waits for the save).

        A run that already has its verdict is saved finished instead: it was not cut short.
        """
        if not self._stopping:
            self._stopping = True
            if self._source._task is not None:
                self._source._task.cancel()
            if self._task is not None and self._task is not asyncio.current_task():
                self._task.cancel()
            if self.run.finished:
                done = _copy(self.run)
                self._last_save = self._save(lambda store: store.save(done))
            else:
                self.run.interrupted = True
                snapshot = _copy(self.run)
                self._last_save = self._save(lambda store: store.interrupt(snapshot))
        if self._last_save is not None:
            await _settle(self._last_save, self.run.run_id)
        engine_task = self._source._task
        if engine_task is not None and not engine_task.done():
            # let the probes finish cancelling (closing their connections) before going on
            await asyncio.wait({engine_task}, timeout=_STOP_TIMEOUT_S)

    async def _pump(self) -> None:
        run = self.run
        try:
            async for step in self._source:
                self._save_step(self._positions.get(step.id, len(self._positions)), step)
                self._emit(step)
            await self._source.wait()  # an engine crash is raised here, after its steps were saved
            self.facts = self._source.facts  # the run's typed facts, for whoever compares runs
            self.facts = self._source.facts
            if run.verdict is None:  # ended without deciding: nothing will finish it
                await self.interrupt()
            else:
                if self._history is not None:
                    self._history.drop_steps(run.run_id)  # the finished run's save stores every step
                finished = self._save(lambda store: store.save(run))
                if finished is not None:
                    with contextlib.suppress(HistoryError):
                        await asyncio.wrap_future(finished)
            if self._save_error is not None:
                self._save_error.run = run
                raise self._save_error
        except asyncio.CancelledError:
            await self.interrupt()
            raise
        except HistoryError:
            raise
        except Exception:
            await self.interrupt()
            raise
        finally:
            self._finish()
            _log_end(run, self._via)
            for callback in self._done_callbacks:
                callback(self)

    def _save_step(self, position: int, step: StepResult) -> None:
        """Queue a finished step's write (joined with other steps waiting for the history thread,
        this run's and other runs': `AsyncHistory.submit_step`)."""
        if self._history is None:
            return
        self._history.submit_step(self.run.run_id, position, step).add_done_callback(self._note_failure)

    def _save(self, work: Callable[[HistoryStore], Any]) -> Future[Any] | None:
        """Queue a write on the history thread; its failure is remembered for `wait()`."""
        if self._history is None:
            return None
        run_id = self.run.run_id

        def guarded(store: HistoryStore) -> Any:
            try:
                return work(store)
            except store.db.errors as exc:
                raise HistoryError(f"{store.db.where}: could not save run {run_id} to history ({exc})") from None

        future = self._history.submit(guarded)
        future.add_done_callback(self._note_failure)
        return future

    def _note_failure(self, future: Future[Any]) -> None:
        error = None if future.cancelled() else future.exception()
        if error is not None and self._save_error is None:
            self._save_error = error if isinstance(error, HistoryError) else HistoryError(
                f"could not save run {self.run.run_id} to history ({type(error).__name__}: {error})")


def _log_end(run: Run, via: str | None) -> None:
    if run.verdict is not None:
        RUN_LOG.info("run %s finished: actor %s, cause %s, confidence %s, %s ms, via %s", run.run_id, run.actor,
                     run.verdict.cause.value, run.verdict.confidence.value, run.duration_ms, via or "-")
    else:
        RUN_LOG.info("run %s interrupted: actor %s, %d steps finished, via %s", run.run_id, run.actor,
                     len(run.steps), via or "-")


def _copy(run: Run) -> Run:
    """A copy for the history thread: the engine keeps changing the original on the loop."""
    copy = Run.from_dict(run.to_dict())
    copy.planned = list(run.planned)
    return copy


async def _settle(future: Future[Any], run_id: str) -> None:
    """Wait for a save even while being cancelled again; log (never raise) its failure."""
    waiting = asyncio.wrap_future(future)
    cancelled = False
    while not waiting.done():
        try:
            await asyncio.shield(waiting)
        except asyncio.CancelledError:
            cancelled = True
        except Exception:
            break
    if not waiting.cancelled() and waiting.exception() is not None:
        log.error("run %s could not be saved as interrupted: %s", run_id, waiting.exception())
    if cancelled:
        raise asyncio.CancelledError
