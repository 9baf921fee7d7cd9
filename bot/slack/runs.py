"""Starting runs from Slack and the history look-ups the buttons need.

`run_in_thread` is the one way a Slack surface starts a run: the core `Checker` runs it and
stores it (origin: channel, thread, user), and `RunThread` writes it into Slack. A re-run or a
replay rebuilds its input from the stored run (`request_from_run`); only a replay adds the
actor's secret, which lives in memory for that run only.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from slack_sdk.errors import SlackApiError

from bot.atlassian.hosts import HostGuard
from bot.automation import parse_rule_reference
from bot.engine import RunHandle, describe_request
from bot.model import Run
from bot.probes import ProbeSpec
from bot.redact import redact_text
from bot.request import ActorSecret, CheckRequest, SentAs, parse_endpoint
from bot.slack import blocks
from bot.slack.accepted import Accepted
from bot.slack.access import refusal_reason
from bot.slack.private import Place, tell_privately
from bot.slack.services import Services
from bot.slack.tasks import RunQueue, Ticket
from bot.slack.text import CheckCommand, RuleCommand, parse_command
from bot.slack.thread import CannotPost, RunThread
from bot.store import Via

log = logging.getLogger(__name__)


async def run_rule_in_thread(services: Services, rule: str, place: Place, *, previous_run_id: str | None = None,
                             action: int | None = None, run_id: str | None = None) -> list[Run]:
    """Read the rule (in the background, after the ack), then run each Send web request action — or
    only `action` (a Re-run) — each in its own thread unless `place.thread_ts`; the first as `run_id`.
    :raises UsageError: (or ConfigError) for a rule that cannot be named or has no web request."""
    work = await services.checker.plan_rule(parse_rule_reference(rule), action=action)
    return [await run_in_thread(services, planned.request, place, previous_run_id=previous_run_id,
                                probes=planned.probes, run_id=run_id if i == 0 else None)
            for i, planned in enumerate(work)]


async def run_in_thread(services: Services, request: CheckRequest, place: Place, *,
                        previous_run_id: str | None = None, probes: list[ProbeSpec] | None = None,
                        run_id: str | None = None) -> Run:
    """Run `request` and unfold it in Slack at `place` (a new thread unless `place.thread_ts`), as
    `run_id` when given (the id an acked command was given, see `bot.slack.accepted`).

    The run waits its turn in `services.run_queue` (MAX_CONCURRENT_RUNS); meanwhile its parent is
    already posted, saying how many runs are ahead.
    """
    origin = {"slack_channel": place.channel, "slack_user": place.user}
    if place.thread_ts:
        origin["slack_thread_ts"] = place.thread_ts
    draft = services.checker.draft(request.actor, described={"rule": request.rule.describe()} if request.rule else {},
                                   run_id=run_id, probes=probes, previous_run_id=previous_run_id)
    # On record from the first moment, queued or not (saved off the loop, in order): a stop or a
    # crash before its turn leaves an interrupted run whose thread is told, never nothing.
    services.history.submit(lambda store: store.save(draft, origin={"via": Via.SLACK.value, **origin}))
    services.accepted.settled(run_id)  # queued first: a stop's saves come after it
    ticket = services.run_queue.enter()

    def remember_thread(ts: str) -> None:
        origin["slack_thread_ts"] = ts
        services.history.submit(lambda store: store.set_origin(draft.run_id, slack_thread_ts=ts))

    started: list[RunHandle] = []

    async def start() -> RunHandle:
        await services.run_queue.wait(ticket)
        handle = services.checker.start(request, via="slack", origin=origin, previous_run_id=previous_run_id,
                                        run_id=draft.run_id, probes=probes)
        # the place frees when the run ends, not when its Slack writes are done (those only wait
        # for their channel, and must not hold back runs in other channels)
        ended = asyncio.ensure_future(handle.wait())
        ended.add_done_callback(lambda f: _leave(f, services.run_queue, ticket))
        started.append(handle)
        return handle

    def queued() -> int | None:
        return None if ticket.granted.is_set() else ticket.ahead

    thread = RunThread(services.client, services.outbox, place, bot_user=services.identity.user_id,
                       on_parent=remember_thread)
    try:
        return await thread.follow(start, draft, queued=queued)
    except asyncio.CancelledError:
        if not started:  # stopped while waiting its turn: this process says so itself (after the draft's save)
            services.history.submit(lambda store: store.interrupt(draft))
        raise
    finally:
        services.run_queue.leave(ticket)


def request_from_run(run: Run, guard: HostGuard, secret: ActorSecret | None = None) -> CheckRequest:
    """The input of a stored run again (for Re-run and replay), with `secret` when given."""
    stored = run.request
    endpoint = stored.get("endpoint")
    return CheckRequest(
        actor=run.actor,
        failing=parse_endpoint(str(endpoint), guard) if endpoint else None,
        observed_status=stored.get("status"),
        observed_body=stored.get("body"),
        actor_secret=secret,
        space=stored.get("space"),
        sent_as=_sent_as(stored.get("sent_as")),
    )


def _sent_as(stored: object) -> SentAs | None:
    """How the caller sends the token, as the stored run says (a run stored before it was asked: None)."""
    try:
        return SentAs(str(stored)) if stored else None
    except ValueError:
        return None


async def place_of(services: Services, run_id: str, user: str, *, channel: str | None = None,
                   thread_ts: str | None = None, response_url: str | None = None) -> Place | None:
    """Where a stored run's thread is (history first, then what the click said), for `user`."""
    origin = await services.history.origin(run_id)
    where = origin.get("slack_channel") or channel
    if not where:
        return None
    return Place(channel=where, user=user, thread_ts=origin.get("slack_thread_ts") or thread_ts,
                 response_url=response_url)


async def thread_links(services: Services, runs: Iterable[Run]) -> dict[str, str]:
    """Run id → link to its Slack thread, for runs that have one."""
    links = {}
    origins = await services.history.origins([run.run_id for run in runs])
    for run in runs:
        origin = origins.get(run.run_id, {})
        link = services.identity.thread_link(origin.get("slack_channel"), origin.get("slack_thread_ts"))
        if link:
            links[run.run_id] = link
    return links


async def announce_interrupted(services: Services) -> list[Run]:
    """Say in their threads that runs were cut short (by a stop, a crash or a restart).

    Runs are marked interrupted by whichever process starts next (`HistoryStore.mark_interrupted`)
    or by their own process as it stops; each Slack run's notice is claimed by one process only,
    so replicas never tell a thread twice.
    """
    told = []
    for run in await services.history.pending_notices():
        if not await services.history.claim_notice(run.run_id):
            continue  # another process is telling it
        origin = await services.history.origin(run.run_id)
        channel, thread_ts = origin.get("slack_channel"), origin.get("slack_thread_ts")
        user = origin.get("slack_user") or ""
        if channel and thread_ts:
            place = Place(channel=channel, user=user, thread_ts=thread_ts)
            try:
                await RunThread(services.client, services.outbox, place).tell_interrupted(run)
            except (SlackApiError, CannotPost) as exc:  # the run is marked; only the notice is lost
                log.warning("could not tell thread %s/%s that run %s was interrupted: %s",
                            channel, thread_ts, run.run_id, exc)
        elif channel and user:
            # stopped before its thread was posted (an acked command not yet started, say): its user
            # is told privately. The command's response_url is not kept (it is a credential for the
            # channel), so this is chat.postEphemeral: it reaches nobody where the bot is no member.
            await tell_privately(services.client, Place(channel=channel, user=user),
                                 blocks.interrupted_message(run))
        told.append(run)
    return told


def _leave(ended: asyncio.Future[Run], queue: RunQueue, ticket: Ticket) -> None:
    """The run's place is free once it ended, however it ended (its error is the handle's to report)."""
    if not ended.cancelled():
        ended.exception()  # retrieved, so asyncio does not log it as never retrieved
    queue.leave(ticket)


def interrupted_run(services: Services, accepted: Accepted) -> Run | None:
    """The run `accepted` would have started, or None when it would have started none (help,
    history, a usage error, a user or channel outside the allow-lists)."""
    settings, place = services.settings, accepted.place
    if refusal_reason(settings, place.user, place.channel) is not None:
        return None
    try:
        command = parse_command(accepted.text, services.guard)
    except Exception:  # a command that does not parse is answered with usage help, never a run
        return None
    typed = redact_text(accepted.text, settings.secrets())
    if isinstance(command, CheckCommand):
        actor, request = command.request.actor, {**describe_request(command.request, settings), "command": typed}
    elif isinstance(command, RuleCommand):
        # the rule (and so its actor) is read only in the background: named as an unreadable rule is
        ref = parse_rule_reference(command.rule)
        actor, request = (f"rule {ref.uuid}" if ref.uuid else "rule"), {"command": typed}
    else:
        return None
    return services.checker.draft(actor, described=request, run_id=accepted.run_id, started_at=accepted.at)
