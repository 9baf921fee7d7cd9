"""The words of each surface: a terminal user types options, a Slack user presses buttons and types
the slash command's words. The diagnosis core says what is missing (a skipped step's reason, an
inconclusive verdict's fix) once, in `bot.probes.registry`; this module turns those sentences into
what the reader can act on where they read them. Stored runs keep the core's sentences, so a run
read back from the history is shown in the words of the surface that shows it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from bot.needs import NEED_ACTION, NEED_REASON, Need
from bot.probes.registry import NOT_NEEDED

# Which credential a request carried, in words (`Evidence.auth` holds the internal name).
AUTH_WORDS: Mapping[str, str] = MappingProxyType({
    "inspector": "as the bot's inspector", "org_key": "with the org API key", "actor": "as the actor",
    "actor_bearer": "as the actor, Bearer", "actor_token_bearer": "with the actor's API token as Bearer",
    "rule_headers": "with the rule's headers"})


class Surface(StrEnum):
    TERMINAL = "terminal"
    SLACK = "slack"


# What to do so a skipped step runs: "5 replay steps: give the actor's token with --actor-token-stdin".
_INPUT: Mapping[Surface, Mapping[Need, str]] = MappingProxyType({
    Surface.TERMINAL: {
        Need.INSPECTOR: "set ATLASSIAN_EMAIL and ATLASSIAN_API_TOKEN (the bot's inspector account)",
        Need.ORG_KEY: "set ATLASSIAN_ORG_API_KEY (an organization API key)",
        Need.ACTOR_TOKEN: "give the actor's token with --actor-token-stdin",
        Need.ENDPOINT: 'name the failing call with --endpoint "METHOD URL"',
        Need.REPORT: "say what the caller saw with --status (and --body)",
        Need.SPACE: "name the space with --space KEY",
        Need.PAGE: "give a failing call that names a page (…/content/ID or …/pages/ID)",
    },
    Surface.SLACK: {
        Need.INSPECTOR: "the bot's admin sets ATLASSIAN_EMAIL and ATLASSIAN_API_TOKEN",
        Need.ORG_KEY: "the bot's admin sets ATLASSIAN_ORG_API_KEY",
        Need.ACTOR_TOKEN: "press *Test with the actor's token*",
        Need.ENDPOINT: "add the failing call after the account (`METHOD URL`)",
        Need.REPORT: "add `status:CODE` (and `body: TEXT`)",
        Need.SPACE: "add `space:KEY`",
        Need.PAGE: "add a failing call that names a page (…/content/ID or …/pages/ID)",
    },
})

# The inconclusive verdict's fix, per surface (the core's sentence names both surfaces' ways).
_ACTION: Mapping[Surface, Mapping[Need, str]] = MappingProxyType({
    Surface.TERMINAL: {
        Need.ACTOR_TOKEN: "Replay the call as the actor: pipe the actor's API token to --actor-token-stdin",
        Need.ENDPOINT: 'Name the failing call: --endpoint "METHOD URL"',
        Need.REPORT: "Say what the caller saw: --status CODE and --body",
        Need.SPACE: "Name the space the call is about: --space KEY",
    },
    Surface.SLACK: {
        Need.ACTOR_TOKEN: "Replay the call as the actor: press *Test with the actor's token*",
        Need.ENDPOINT: "Name the failing call: add `METHOD URL` after the account",
        Need.REPORT: "Say what the caller saw: add `status:CODE` and `body: TEXT`",
        Need.SPACE: "Name the space the call is about: add `space:KEY`",
    },
})

# Option names in sentences the core writes outside the tables above.
_PHRASES: Mapping[Surface, tuple[tuple[str, str], ...]] = MappingProxyType({
    Surface.TERMINAL: (),
    Surface.SLACK: (
        ("(--actor-token-stdin)", "(*Test with the actor's token*)"),
        ("--actor-token-stdin", "*Test with the actor's token*"),
        ("--space KEY", "`space:KEY`"),
        ("--sent-as basic|bearer|none; for an automation rule, confluence-check rule reads it",
         "add `sent:basic`, `sent:bearer` or `sent:none`; for an automation rule, `/confluence-check rule` reads it"),
        ("(--sent-as basic|bearer|none)", "(add `sent:basic`, `sent:bearer` or `sent:none`)"),
        ("(--endpoint with --actor-token-stdin)", "(add `METHOD URL`, then *Test with the actor's token*)"),
        ("(--endpoint)", "(add `METHOD URL` after the account)"),
        ("(--client-credentials-stdin)", "(*Test with the actor's token*, client id and secret)"),
        ("--status", "`status:`"),
    ),
})

_BY_REASON = {reason: need for need, reason in NEED_REASON.items()}


def _replacements(surface: Surface) -> list[tuple[str, str]]:
    pairs = [(NEED_REASON[need], f"{NEED_REASON[need].split(' (')[0]}: {how}")
             for need, how in _INPUT[surface].items() if "--" in NEED_REASON[need]]
    pairs += [(NEED_ACTION[need], how) for need, how in _ACTION[surface].items()]
    pairs += list(_PHRASES[surface])
    return sorted(pairs, key=lambda pair: -len(pair[0]))  # the longest first: no half-replaced sentence


_TABLES = {surface: _replacements(surface) for surface in Surface}


def reword(text: str, surface: Surface) -> str:
    """`text` (a summary, fix or explanation the core wrote) in the words of `surface`."""
    for core, own in _TABLES[surface]:
        if core in text:
            text = text.replace(core, own)
    return text


def missing_inputs(step_summary: str) -> tuple[Need, ...] | None:
    """The inputs a skipped step waited for (its summary is the core's reasons joined by "; "),
    or None when it was skipped for another reason (a fact that could not be read, not needed)."""
    parts = step_summary.split("; ")
    needs = tuple(_BY_REASON.get(part) for part in parts)
    return None if any(n is None for n in needs) else needs  # type: ignore[return-value]


def what_runs_it(needs: tuple[Need, ...], surface: Surface) -> str:
    """What the reader does so steps skipped for `needs` run: "give the actor's token with …"."""
    return "; ".join(_INPUT[surface][need] for need in needs)


def not_needed(step_summary: str) -> bool:
    """A step skipped because another step already decided what it would have asked."""
    return step_summary.startswith(NOT_NEEDED)


_FLAG = re.compile(r"(?<![\w-])--[a-z][a-z-]+")


def cli_flags(text: str) -> list[str]:
    """The command-line options a text mentions (a Slack text must mention none)."""
    return _FLAG.findall(text)
