"""Wires Slack surfaces to their handlers; no handler code lives here (starter-template style)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext

from bot.slack.ids import COMMAND, ActionId, CallbackId
from bot.slack.listeners import actions, commands, home, views
from bot.slack.services import Services

__all__ = ["ACKED_EARLY", "register"]

ACKED_EARLY = "acked_early"  # in Bolt's context: answered, and counted, on arrival (serve.EarlyAck)


def register(app: AsyncApp, services: Services) -> None:
    """Register every listener of the bot on `app`, with `services` injected by name."""

    async def inject_services(context: AsyncBoltContext, next_: Callable[[], Awaitable[Any]]) -> None:
        context["services"] = services  # memory only: middleware must stay cheap (https://docs.slack.dev/tools/bolt-python/concepts/acknowledge)
        if not context.get(ACKED_EARLY):  # a command acked on arrival was counted then
            services.tasks.request_arrived()  # acks first: background work waits for a quiet moment
        await next_()

    app.use(inject_services)
    app.command(COMMAND)(commands.handle_check_command)
    app.action(ActionId.RERUN.value)(actions.handle_rerun_action)
    app.action(ActionId.TEST_WITH_TOKEN.value)(actions.handle_test_with_token_action)
    app.action(ActionId.SHARE.value)(actions.handle_share_action)
    app.action(ActionId.HISTORY.value)(actions.handle_history_action)
    app.view(CallbackId.TOKEN_MODAL.value)(views.handle_token_submission)
    app.event("app_home_opened")(home.handle_app_home_opened)
