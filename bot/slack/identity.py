"""Who the bot is in Slack (one `auth.test`, cached) and Bolt's `authorize` built on it.

Bolt's single-workspace mode calls `auth.test` inside its middleware on the first request,
before the listener can ack (https://docs.slack.dev/tools/bolt-python/concepts/acknowledge: keep middleware cheap).
`serve` loads the identity at
start instead, which also fails fast on a bad `SLACK_BOT_TOKEN`; every request after that is
authorized from memory.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import ConfigError


class BotIdentity:
    """The bot user, team and workspace URL behind a bot token."""

    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client
        self._auth: dict[str, Any] | None = None
        self._lock = asyncio.Lock()

    async def load(self) -> dict[str, Any]:
        """`auth.test` once. :raises ConfigError: when Slack refuses SLACK_BOT_TOKEN or is unreachable."""
        async with self._lock:
            if self._auth is None:
                try:
                    response = await self._client.auth_test()
                except SlackApiError as exc:
                    raise ConfigError(
                        f"Slack refused SLACK_BOT_TOKEN ({exc.response.get('error')}): copy the Bot User "
                        "OAuth Token (xoxb-...) from the app's OAuth & Permissions page"
                    ) from None
                except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                    raise ConfigError(
                        f"cannot reach Slack at {self._client.base_url} ({type(exc).__name__}): "
                        "check SLACK_API_URL and the network"
                    ) from None
                self._auth = dict(response.data) if isinstance(response.data, dict) else {}
            return self._auth

    @property
    def user_id(self) -> str | None:
        return (self._auth or {}).get("user_id")

    def thread_link(self, channel: str | None, ts: str | None) -> str | None:
        """The permalink of a message, built like chat.getPermalink's
        (https://docs.slack.dev/reference/methods/chat.getPermalink); None if unknown."""
        url = (self._auth or {}).get("url")
        if not (url and channel and ts):
            return None
        return f"{url.rstrip('/')}/archives/{channel}/p{ts.replace('.', '')}"

    def authorizer(self) -> Callable[..., Awaitable[AuthorizeResult]]:
        """Bolt's `authorize=` function: the cached identity plus the bot token."""

        async def authorize(enterprise_id: str | None, team_id: str | None,
                            user_id: str | None) -> AuthorizeResult:
            auth = await self.load()
            return AuthorizeResult(
                enterprise_id=auth.get("enterprise_id") or enterprise_id,
                team_id=auth.get("team_id") or team_id,
                bot_id=auth.get("bot_id"),
                bot_user_id=auth.get("user_id"),
                bot_token=self._client.token,
                user_id=user_id,
                url=auth.get("url"),
            )

        return authorize
