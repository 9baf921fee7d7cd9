"""Who may use the bot: the one access guard every listener calls (docs/architecture.md §Security).

With `ALLOWED_SLACK_USERS` set, only those users may; with `ALLOWED_SLACK_CHANNELS` set, only
in those channels; with both set, both must hold. Empty lists allow everyone. The App Home
tab is no channel: there only the user list applies. Checking is a set lookup, cheap enough
to run right after `ack()`.
"""

from __future__ import annotations

from bot.config import Settings


def refusal_reason(settings: Settings, user: str | None, channel: str | None) -> str | None:
    """Why `user` in `channel` may not use the bot, or None when they may (`channel` None: App Home)."""
    if settings.allowed_slack_users and user not in settings.allowed_slack_users:
        return "user not in ALLOWED_SLACK_USERS"
    if settings.allowed_slack_channels and channel is not None and channel not in settings.allowed_slack_channels:
        return "channel not in ALLOWED_SLACK_CHANNELS"
    return None
