"""How a failure reaches the person who clicked or typed: one place, used by every surface.

Known errors (`UsageError`, `HostNotAllowed`, `NotFound`) are bad input: logged at info and
answered privately with what to do. Anything else gets a fresh error id, logged with its
traceback, and the person is shown that id (Dispatch's `app_error_handler`, https://docs.slack.dev/tools/bolt-python/concepts/errors).
"""

from __future__ import annotations

import logging
import uuid

from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import ConfigError, ConfluenceCheckError
from bot.slack import blocks
from bot.slack.private import Place, tell_privately

log = logging.getLogger(__name__)


def new_error_id() -> str:
    """A short id shown to the user and logged with the traceback."""
    return uuid.uuid4().hex[:10]


def is_bad_input(error: BaseException) -> bool:
    return isinstance(error, ConfluenceCheckError) and not isinstance(error, ConfigError)


async def report_failure(client: AsyncWebClient, place: Place | None, error: Exception, *,
                         with_usage: bool = False) -> None:
    """Log `error` and tell `place.user` privately (help text too when `with_usage`)."""
    if is_bad_input(error):
        # the message may quote what was typed (a token pasted in the wrong place): not logged
        log.info("answered bad input privately (%s)", type(error).__name__)
        message = blocks.help_message(str(error)) if with_usage else blocks.notice_message(str(error))
    else:
        error_id = new_error_id()
        log.error("Slack request failed (error id %s)", error_id, exc_info=error)
        message = blocks.failed_message(error_id)
    if place is not None:
        await tell_privately(client, place, message)
