"""Handler of the App Home tab: the latest runs, the accounts failing now, and the watches."""

from __future__ import annotations

from typing import Any

from bot.slack import blocks
from bot.slack.access import refusal_reason
from bot.slack.runs import thread_links
from bot.slack.services import Services
from bot.slack.visibility import OVERSCAN, only_visible, terminal_runs_on_home
from bot.slack.watches import home_lines

HOME_LIMIT = 20


async def handle_app_home_opened(event: dict[str, Any], services: Services) -> None:
    """Publish the Home tab for the user who opened it (Bolt acks events itself)."""
    if event.get("tab") == "home":
        services.tasks.spawn(_publish(services, event["user"]), name="home tab")


async def _publish(services: Services, user: str) -> None:
    if refusal_reason(services.settings, user, None):
        view = blocks.home_refused_view()
    else:
        # no conversation here: the user's own runs, and terminal runs where history shows them (visibility)
        terminal = terminal_runs_on_home(services.settings, user)
        latest = await only_visible(services, await services.history.latest(HOME_LIMIT * OVERSCAN), user, None,
                                    HOME_LIMIT, terminal=terminal)
        failing = await only_visible(services, await services.history.failing_accounts(HOME_LIMIT * OVERSCAN),
                                     user, None, HOME_LIMIT, terminal=terminal)
        view = blocks.home_view(latest, failing, await thread_links(services, [*latest, *failing]),
                                await home_lines(services, user))
    await services.client.views_publish(user_id=user, view=view)
