"""What several handlers share: the access check with its refusal, and error reporting."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bot.slack import blocks
from bot.slack.access import refusal_reason
from bot.slack.failures import report_failure
from bot.slack.private import Place, tell_privately
from bot.slack.services import Services

log = logging.getLogger(__name__)


async def refused(services: Services, place: Place, what: str) -> bool:
    """Refuse (privately, recorded) a user or channel outside the allow-lists; True if refused."""
    reason = refusal_reason(services.settings, place.user, place.channel)
    if reason is None:
        return False
    log.info("refused %s in %s: %s", place.user, place.channel, reason)
    await services.history.record_refusal(place.user, place.channel, what, reason)
    await tell_privately(services.client, place, blocks.refusal_message())
    return True


def report_to(services: Services, place: Place, *, with_usage: bool = False
              ) -> Callable[[Exception], Awaitable[Any]]:
    """An `on_error` for a background task: log the failure and tell the person privately."""

    async def report(error: Exception) -> None:
        await report_failure(services.client, place, error, with_usage=with_usage)

    return report


def click_place(body: dict[str, Any]) -> Place:
    """Where a button was clicked: channel, user, thread and the click's response_url."""
    container = body.get("container") or {}
    return Place(
        channel=(body.get("channel") or {}).get("id") or container.get("channel_id", ""),
        user=body["user"]["id"],
        thread_ts=container.get("thread_ts") or container.get("message_ts"),
        response_url=body.get("response_url"),
    )
