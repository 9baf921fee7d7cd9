"""Handler of `/confluence-check`: a check in a new thread, `rule RULE`, `tokens`, `compare`, `watch …`,
`help`, or `history ACTOR`."""

from __future__ import annotations

import asyncio
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext

from bot.slack import blocks
from bot.slack.accepted import ACCEPTED, Accepted
from bot.slack.listeners._shared import refused, report_to
from bot.slack.private import Place, tell_privately
from bot.slack.runs import run_in_thread, run_rule_in_thread, thread_links
from bot.slack.services import Services
from bot.slack.sweeps import compare_in_thread, sweep_tokens_in_thread
from bot.slack.text import (
    CompareCommand,
    HelpCommand,
    HistoryCommand,
    RuleCommand,
    TokensCommand,
    WatchCommand,
    WatchListCommand,
    WatchRemoveCommand,
    parse_command,
)
from bot.slack.visibility import OVERSCAN, only_visible
from bot.slack.watches import answer_watch

HISTORY_LIMIT = 10


async def handle_check_command(ack: AsyncAck, body: dict[str, Any], services: Services,
                               context: AsyncBoltContext) -> None:
    """Ack at once (https://docs.slack.dev/tools/bolt-python/concepts/acknowledge); everything else runs in the
    background. From the ack until its run is on record the command is tracked in memory only (no
    history I/O before an ack)."""
    await ack()
    accepted: Accepted | None = context.get(ACCEPTED)  # on record since its early ack (serve.EarlyAck)
    if accepted is None:
        place = Place(channel=body.get("channel_id", ""), user=body.get("user_id", ""),
                      response_url=body.get("response_url"))
        accepted = services.accepted.accept(place, body.get("text") or "")
    place = accepted.place
    services.tasks.spawn(_tracked(services, accepted), name=f"command in {place.channel}",
                         on_error=report_to(services, place, with_usage=True))


async def _tracked(services: Services, accepted: Accepted) -> None:
    """`_answer`, then the command is settled whatever happened — except a stop (cancellation):
    then it stays pending, and `serve` saves it as interrupted unless its run is already on record."""
    try:
        await _answer(services, accepted.place, accepted.text, run_id=accepted.run_id)
    except asyncio.CancelledError:
        raise
    except BaseException:
        services.accepted.settled(accepted.run_id)
        raise
    services.accepted.settled(accepted.run_id)


async def _answer(services: Services, place: Place, text: str, *, run_id: str | None = None) -> None:
    """Check access, parse (UsageError → private usage), then answer or run the check (as `run_id`)."""
    if await refused(services, place, text):
        return
    command = parse_command(text, services.guard)
    if isinstance(command, HelpCommand):
        await tell_privately(services.client, place, blocks.help_message())
    elif isinstance(command, HistoryCommand):
        runs = await only_visible(services, await services.history.list(command.actor, HISTORY_LIMIT * OVERSCAN),
                                  place.user, place.channel, HISTORY_LIMIT)
        await tell_privately(services.client, place,
                             blocks.history_message(command.actor, runs, await thread_links(services, runs)))
    elif isinstance(command, WatchCommand | WatchListCommand | WatchRemoveCommand):
        await answer_watch(services, place, command)
    elif isinstance(command, RuleCommand):
        await run_rule_in_thread(services, command.rule, place, run_id=run_id)
    elif isinstance(command, TokensCommand):
        await sweep_tokens_in_thread(services, command, place)
    elif isinstance(command, CompareCommand):
        await compare_in_thread(services, command, place)
    else:
        await run_in_thread(services, command.request, place, run_id=run_id)
