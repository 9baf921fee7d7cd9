"""Who may see which stored run in Slack (History button, `history` command, Home tab).

The rule (README, "Who sees which runs"): a run started in Slack is shown to the person who
started it, and to anyone looking from the conversation it was started in (they can read its
thread there anyway). Runs from any other conversation — a private channel, a DM — are never
shown: the bot has no scope to tell a public channel from a private one, so it treats every
other conversation as private. Runs started outside Slack (`confluence-check check` in a
terminal) belong to no conversation and are shown to every allowed user. The Home tab has no
conversation: it shows your own runs and those terminal runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from bot.model import Run

if TYPE_CHECKING:
    from bot.slack.services import Services

# Read more than asked for, so that hiding other people's runs still fills the list.
OVERSCAN = 5


def visible_to(user: str, conversation: str | None, origin: Mapping[str, str | None]) -> bool:
    """May `user`, looking from `conversation` (None: the Home tab), see a run of this origin?"""
    channel = origin.get("slack_channel")
    if not channel:
        return origin.get("via") != "slack"  # a terminal run; a Slack run without a channel stays hidden
    if origin.get("slack_user") == user:
        return True
    return conversation is not None and channel == conversation


async def only_visible(services: Services, runs: Sequence[Run], user: str, conversation: str | None,
                       limit: int) -> list[Run]:
    """The first `limit` of `runs` that `user` may see from `conversation`."""
    origins = await services.history.origins([run.run_id for run in runs])
    shown = [run for run in runs if visible_to(user, conversation, origins.get(run.run_id, {"via": "slack"}))]
    return shown[:limit]
