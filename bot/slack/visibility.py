"""Who may see which stored run in Slack (History button, `history` command, Home tab).

The rule (docs/slack-setup.md, "Who sees which runs"): a run started in Slack is shown to the person who
started it, and to anyone looking from the conversation it was started in (they can read its
thread there anyway). Runs from any other conversation — a private channel, a DM — are never
shown: the bot has no scope to tell a public channel from a private one, so it treats every
other conversation as private. Runs started outside Slack (`confluence-check check` in a
terminal) belong to no conversation and are shown to every allowed user. The Home tab has no
conversation: it shows your own runs, and terminal runs only where `history` would show them to you
anywhere (`terminal_runs_on_home`). Buttons and forms name a run: they act only for someone who may see
that run from where they clicked (`may_see`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from bot.config import Settings
from bot.errors import NotFound
from bot.model import Run

if TYPE_CHECKING:
    from bot.slack.services import Services

# Read more than asked for, so that hiding other people's runs still fills the list.
OVERSCAN = 5


def visible_to(user: str, conversation: str | None, origin: Mapping[str, str | None], *,
               terminal: bool = True) -> bool:
    """May `user`, looking from `conversation` (None: the Home tab), see a run of this origin?
    `terminal`: whether terminal runs are shown there at all."""
    channel = origin.get("slack_channel")
    if not channel:
        # a terminal run; a Slack run without a channel (or an unknown run) stays hidden
        return terminal and origin.get("via") not in (None, "slack")
    if origin.get("slack_user") == user:
        return True
    return conversation is not None and channel == conversation


async def only_visible(services: Services, runs: Sequence[Run], user: str, conversation: str | None,
                       limit: int, *, terminal: bool = True) -> list[Run]:
    """The first `limit` of `runs` that `user` may see from `conversation`."""
    origins = await services.history.origins([run.run_id for run in runs])
    shown = [run for run in runs
             if visible_to(user, conversation, origins.get(run.run_id, {"via": "slack"}), terminal=terminal)]
    return shown[:limit]


def terminal_runs_on_home(settings: Settings, user: str) -> bool:
    """Terminal runs are listed on the Home tab only to someone `history` would list them to from anywhere:
    everyone when ALLOWED_SLACK_CHANNELS is empty, else only users on ALLOWED_SLACK_USERS (the Home tab is no
    channel, so a channel list alone would let any member of the workspace read them there)."""
    return not settings.allowed_slack_channels or user in settings.allowed_slack_users


async def may_see(services: Services, run_id: str, user: str, conversation: str | None) -> bool:
    """Whether a button or form naming `run_id`, used by `user` in `conversation`, may act on that run."""
    try:
        origin = await services.history.origin(run_id)
    except NotFound:
        return False
    return visible_to(user, conversation, origin)
