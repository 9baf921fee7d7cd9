"""Handlers of the verdict's buttons: Re-run, Test with the actor's token, Share, History.

Each acks, then works in the background: parse the button's `RunRef` (`bot.slack.ids.parse_ref`;
a malformed one is a UsageError, answered privately), check access, check that the clicker may see the
run the button names (`bot.slack.visibility.may_see`: a payload naming someone else's run gets a polite
private refusal), act. The token form's metadata is sealed (`bot.slack.sealed`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.render.markdown import format_markdown
from bot.slack import blocks
from bot.slack.ids import RunRef, parse_ref
from bot.slack.listeners._shared import click_place, refused, report_to
from bot.slack.private import Place, tell_privately
from bot.slack.runs import place_of, request_from_run, run_in_thread, run_rule_in_thread, thread_links
from bot.slack.sealed import metadata_key, seal
from bot.slack.services import Services
from bot.slack.visibility import OVERSCAN, may_see, only_visible

log = logging.getLogger(__name__)
HISTORY_LIMIT = 10
NOT_YOURS = ("This button belongs to a run you can't see from here (it was started by someone else, in another "
             "conversation), so nothing was done. Run the check yourself, or ask in the run's own thread.")
Work = Callable[[Services, RunRef, Place, dict[str, Any]], Awaitable[None]]


def _start(services: Services, body: dict[str, Any], action: dict[str, Any], work: Work) -> None:
    clicked = click_place(body)

    async def guarded() -> None:
        ref = parse_ref(action.get("value"))
        if await refused(services, clicked, f"button {action.get('action_id')}"):
            return
        if not await may_see(services, ref.run_id, clicked.user, clicked.channel):
            log.info("refused button %s of %s to %s in %s: not a run they may see", action.get("action_id"),
                     ref.run_id, clicked.user, clicked.channel)
            await tell_privately(services.client, clicked, blocks.notice_message(NOT_YOURS))
            return
        await work(services, ref, clicked, body)

    services.tasks.spawn(guarded(), name=f"button {action.get('action_id')}",
                         on_error=report_to(services, clicked))


async def handle_rerun_action(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any],
                              services: Services) -> None:
    """Run the same input again in the same thread, linked to the run it repeats."""
    await ack()
    _start(services, body, action, _rerun)


async def handle_test_with_token_action(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any],
                                        client: AsyncWebClient, services: Services) -> None:
    """Open the private token form; the trigger_id expires 3 s after the click (https://docs.slack.dev/reference/methods/views.open)."""
    await ack()

    async def open_form(services: Services, ref: RunRef, clicked: Place, body: dict[str, Any]) -> None:
        form = blocks.token_modal(ref)
        form["private_metadata"] = seal(ref, clicked.user, clicked.channel, metadata_key(services.settings))
        await client.views_open(trigger_id=body["trigger_id"], view=form)

    _start(services, body, action, open_form)


async def handle_share_action(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any],
                              services: Services) -> None:
    """Post a permalink and the redacted Markdown summary to SUPPORT_CHANNEL, or privately."""
    await ack()
    _start(services, body, action, _share)


async def handle_history_action(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any],
                                services: Services) -> None:
    """The actor's recent runs, privately."""
    await ack()
    _start(services, body, action, _history)


# --- the work behind each button ------------------------------------------------------------------


async def _rerun(services: Services, ref: RunRef, clicked: Place, body: dict[str, Any]) -> None:
    place = await _thread_of(services, ref, clicked)
    run = await services.history.get(ref.run_id)
    rule = run.request.get("rule")
    if rule and rule.get("uuid"):  # a rule run: read the rule again, it may have been fixed since
        await run_rule_in_thread(services, rule["uuid"], place, previous_run_id=ref.run_id,
                                 action=rule.get("action") or None)
        return
    request = request_from_run(run, services.guard)
    await run_in_thread(services, request, place, previous_run_id=ref.run_id)


async def _share(services: Services, ref: RunRef, clicked: Place, body: dict[str, Any]) -> None:
    run = await services.history.get(ref.run_id)
    permalink = await _permalink(services.client, await _thread_of(services, ref, clicked))
    bundle = blocks.share_message(run, permalink, format_markdown(run, secrets=services.settings.secrets()))
    support = services.settings.support_channel
    if support and await _post_to_support(services, support, bundle):
        await tell_privately(services.client, clicked, blocks.shared_message(run, support))
    else:
        await tell_privately(services.client, clicked, bundle)


async def _history(services: Services, ref: RunRef, clicked: Place, body: dict[str, Any]) -> None:
    runs = await only_visible(services, await services.history.list(ref.actor, HISTORY_LIMIT * OVERSCAN),
                              clicked.user, clicked.channel, HISTORY_LIMIT)
    await tell_privately(services.client, clicked,
                         blocks.history_message(ref.actor, runs, await thread_links(services, runs)))


async def _thread_of(services: Services, ref: RunRef, clicked: Place) -> Place:
    return await place_of(services, ref.run_id, clicked.user, channel=clicked.channel,
                          thread_ts=clicked.thread_ts, response_url=clicked.response_url) or clicked


async def _permalink(client: AsyncWebClient, place: Place) -> str | None:
    if not place.thread_ts:
        return None
    try:
        response = await client.chat_getPermalink(channel=place.channel, message_ts=place.thread_ts)
    # channel_not_found, message_not_found: https://docs.slack.dev/reference/methods/chat.getPermalink
    except SlackApiError as exc:
        log.info("no permalink for %s/%s: %s", place.channel, place.thread_ts, exc.response.get("error"))
        return None
    return response.get("permalink")


async def _post_to_support(services: Services, channel: str, bundle: blocks.Message) -> bool:
    try:
        async with services.pacer.slot(channel):
            await services.client.chat_postMessage(channel=channel, **bundle)
    except SlackApiError as exc:
        log.warning("could not post to SUPPORT_CHANNEL %s: %s", channel, exc.response.get("error"))
        return False
    return True
