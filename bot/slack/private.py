"""Where a run was asked for, and messages only the asking person sees.

A command or a button click carries a `response_url`: a webhook that works even where the bot
is not a member (private channels, DMs), ephemeral by default, usable 5 times in 30 minutes
(https://docs.slack.dev/interactivity/handling-user-interaction,
https://docs.slack.dev/reference/methods/chat.postMessage), so it carries only a few private replies per request.
Without one (a
modal submission), `chat.postEphemeral` is the fallback (https://docs.slack.dev/reference/methods/chat.postEphemeral).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.slack.blocks import Message

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Place:
    """A conversation, the person who asked, the thread (if any) and the private reply webhook."""

    channel: str
    user: str
    thread_ts: str | None = None
    response_url: str | None = None


async def tell_privately(client: AsyncWebClient, place: Place, message: Message) -> bool:
    """Show `message` to `place.user` only; True when Slack took it. Failures are logged."""
    if place.response_url:
        webhook = AsyncWebhookClient(place.response_url, session=client.session,  # pooled, as the client
                                     retry_handlers=client.retry_handlers)
        reply = await webhook.send(text=message["text"], blocks=message.get("blocks"),
                                   response_type="ephemeral", replace_original=False)
        if reply.status_code == 200:
            return True
        log.warning("response_url refused a private reply: HTTP %s", reply.status_code)
    try:
        await client.chat_postEphemeral(channel=place.channel, user=place.user, thread_ts=place.thread_ts,
                                        text=message["text"], blocks=message.get("blocks"))
        return True
    except SlackApiError as exc:
        log.warning("could not reach %s privately in %s: %s", place.user, place.channel,
                    exc.response.get("error"))
        return False
