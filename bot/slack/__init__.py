"""The Slack adapter: a Bolt AsyncApp around the diagnosis core (docs/architecture.md §Slack).

    app.py        create_app(services) -> AsyncApp
    serve.py      serve(settings, *, mode=None): Socket Mode or HTTP mode, until cancelled
    listeners/    handlers per surface (commands, actions, views, home); __init__ only wires
    thread.py     the only writer of a run's thread (≤ 4 writes, verdict first, not_in_channel)
    outbox.py     one write queue per channel: priorities, folding, the channel's pace, Retry-After
    runs.py       starting runs from Slack; history look-ups for the buttons
    text.py       the grammar of the slash command text
    blocks.py     Block Kit: every message and view the bot sends, within Slack's limits
    steps.py      the step list of a run's thread, trimmed to fit
    ids.py        action/callback/block ids and the RunRef carried by buttons and modals
    escape.py     mrkdwn escaping of user text
    pacer.py, private.py, identity.py, access.py, services.py, tasks.py: the small parts

Exports resolve lazily, so `bot.slack.blocks` can use `bot.slack.escape`/`ids` without
importing the app (and the core) first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.slack.app import create_app
    from bot.slack.serve import serve

__all__ = ["create_app", "serve"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from bot.slack.app import create_app

        return create_app
    if name == "serve":
        from bot.slack.serve import serve

        return serve
    raise AttributeError(f"module 'bot.slack' has no attribute {name!r}")
