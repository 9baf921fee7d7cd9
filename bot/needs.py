"""The inputs and settings a check may lack, why a step could not run without them, and what to do.

A neutral module: the probe registry reads it to skip a probe, the judge reads it to say what would
decide an open question. Plain data, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum

from bot.model import NotChecked


class Need(StrEnum):
    INSPECTOR = "inspector"
    ORG_KEY = "org_key"
    ACTOR_TOKEN = "actor_token"
    ENDPOINT = "endpoint"
    REPORT = "report"
    SPACE = "space"
    PAGE = "page"


# Why a probe could not run, naming the setting or input that would let it (docs/architecture.md §Missing evidence).
NEED_REASON: Mapping[Need, str] = {
    Need.INSPECTOR: "ATLASSIAN_EMAIL and ATLASSIAN_API_TOKEN are not set",
    Need.ORG_KEY: "ATLASSIAN_ORG_API_KEY is not set",
    Need.ACTOR_TOKEN: "no actor token given (--actor-token-stdin, or 'Test with the actor's token' in Slack)",
    Need.ENDPOINT: "no failing endpoint given (--endpoint \"METHOD URL\")",
    Need.REPORT: "no observed status or body given (--status, --body)",
    Need.SPACE: "no space given (--space KEY, or an endpoint naming a space or page)",
    Need.PAGE: "the failing endpoint names no page id",
}

# What to do about each missing need: the "Fix" of an inconclusive verdict (the reason itself is
# listed under "Not checked"; the fix says how to check it, not again what was not checked).
NEED_ACTION: Mapping[Need, str] = {
    Need.INSPECTOR: "Set ATLASSIAN_EMAIL and ATLASSIAN_API_TOKEN (a site admin with a classic API token) "
                    "so the site-side checks can run",
    Need.ORG_KEY: "Set ATLASSIAN_ORG_API_KEY (admin.atlassian.com > Settings > API keys) so the account, "
                  "its tokens and the organization's policies can be read",
    Need.ACTOR_TOKEN: "Replay the call as the actor: pipe the actor's API token to --actor-token-stdin, "
                      "or use 'Test with the actor's token' in Slack",
    Need.ENDPOINT: 'Name the failing call: --endpoint "METHOD URL" (in Slack: METHOD URL after the account)',
    Need.REPORT: "Say what the caller saw: --status CODE and --body (in Slack: status:CODE, body: TEXT)",
    Need.SPACE: "Name the space the call is about: --space KEY (in Slack: space:KEY)",
    Need.PAGE: "Give the failing endpoint with its page id (…/content/ID or …/pages/ID)",
}


def what_would_decide(not_checked: Sequence[NotChecked]) -> tuple[str, ...]:
    """The actions that would let the unchecked steps run, each once, in the order first needed —
    not the "Not checked" lines again. A step that could not run for another reason (a request
    failed) asks for a second run."""
    actions: list[str] = []
    unexplained = False
    for item in not_checked:
        matched = [NEED_ACTION[need] for need, reason in NEED_REASON.items() if reason in item.why]
        unexplained = unexplained or not matched
        actions += [a for a in matched if a not in actions]
    if unexplained:
        actions.append("Run the check again; if a step still cannot run, its reason under 'Not checked' "
                       "says what stopped it")
    return tuple(actions)
