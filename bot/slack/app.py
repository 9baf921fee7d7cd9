"""Builds the Bolt `AsyncApp` of the bot: Web API client, authorization, error handler, listeners.

Nothing is built at import time. The Web API client talks to `SLACK_API_URL`; the outbox retries
its writes (429 + Retry-After, https://docs.slack.dev/apis/web-api/rate-limits). It keeps one aiohttp
session (one connection pool) for the process: slack-sdk otherwise opens a session, and new
connections, for every call. Whoever builds the client closes it with `close_client`. One `app.error` handler answers
every listener failure privately: known input errors with a helpful message, anything else
with an error id that is logged together with the traceback (Dispatch's pattern, https://docs.slack.dev/tools/bolt-python/concepts/errors).
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk.web.async_client import AsyncWebClient

from bot import logs
from bot.config import Settings
from bot.slack import listeners
from bot.slack.failures import report_failure
from bot.slack.private import Place
from bot.slack.services import Services

log = logging.getLogger(__name__)


def build_client(settings: Settings) -> AsyncWebClient:
    """The bot-token Web API client: base URL from SLACK_API_URL, on a session of its own (call
    inside the event loop; `close_client` at shutdown). No slack-sdk retry handlers: a write in a
    run's thread is retried by the outbox alone (429 after Retry-After, a lost connection), so one
    write is never tried under two retry policies at once."""
    token = settings.slack_bot_token.reveal() if settings.slack_bot_token else None
    return AsyncWebClient(
        token=token,
        base_url=settings.slack_api_url,
        session=aiohttp.ClientSession(),
        timeout=15,
        retry_handlers=[],
    )


async def close_client(client: AsyncWebClient) -> None:
    """Close the client's session (and its pooled connections)."""
    if client.session is not None and not client.session.closed:
        await client.session.close()


def create_app(services: Services) -> AsyncApp:
    """The bot's AsyncApp around `services`, the one bundle of the process (`serve` builds it once:
    one outbox, one run queue, one set of acked commands); its client is closed by whoever built it."""
    settings, client, identity = services.settings, services.client, services.identity
    logs.install_record_filter()  # Bolt logs rejected request bodies: no record may carry one
    logs.register_secrets(settings.secrets())
    if not any(isinstance(f, _ExpectedBoltNotice) for f in log.filters):
        log.addFilter(_ExpectedBoltNotice())
    app = AsyncApp(
        name="confluence-check",
        client=_without_token(client),  # so Bolt uses `authorize` below instead of its own auth.test
        authorize=identity.authorizer(),
        signing_secret=_signing_secret(settings),
        logger=log,
        process_before_response=True,
    )
    app.error(handle_listener_error)
    listeners.register(app, services)
    return app


async def handle_listener_error(error: Exception, body: dict[str, Any], context: AsyncBoltContext) -> None:
    """Answer a listener or middleware failure privately; unknown ones get a logged error id.

    Listeners hand their work to background tasks after `ack()`, so this sees only what fails
    before that (https://docs.slack.dev/tools/bolt-python/concepts/errors).
    """
    services: Services | None = context.get("services")
    client = services.client if services is not None else context.client
    await report_failure(client, _place_of(body), error, with_usage="command" in body)


def _place_of(body: dict[str, Any]) -> Place | None:
    user = body.get("user_id") or (body.get("user") or {}).get("id")
    channel = body.get("channel_id") or (body.get("channel") or {}).get("id")
    if not user or not (channel or body.get("response_url")):
        return None
    return Place(channel=channel or "", user=user, response_url=body.get("response_url"))


class _ExpectedBoltNotice(logging.Filter):
    """Drops Bolt's start-up warning that `token` will be unused: Bolt reads SLACK_BOT_TOKEN from the
    environment by itself and warns that our client (and `authorize`) win over it, which is the
    design, not a misconfiguration; an admin reading it would go looking for one."""

    _TEXT = warning_client_prioritized_and_token_skipped()

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != self._TEXT


def _without_token(client: AsyncWebClient) -> AsyncWebClient:
    return AsyncWebClient(token=None, base_url=client.base_url, timeout=client.timeout, session=client.session,
                          retry_handlers=list(client.retry_handlers), logger=client.logger)


def _signing_secret(settings: Settings) -> str:
    if settings.slack_signing_secret is not None:
        return settings.slack_signing_secret.reveal()
    # Socket Mode needs no secret (https://docs.slack.dev/apis/events-api/using-socket-mode). Without one, HTTP
    # requests must still never pass:
    # a random secret nobody knows makes every signature check fail.
    return secrets.token_hex(32)
