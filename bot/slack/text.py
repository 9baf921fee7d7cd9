"""The grammar of `/confluence-check` text: a check, `rule`, `watch`, `help`, or `history ACTOR`.

    ACTOR [METHOD] [URL-or-/path] [status:CODE | CODE] [space:KEY] [sent:basic|bearer|none] [body: TEXT...]
    rule RULE        (a rule's UUID, a URL holding it, or its exact name)
    tokens [--expiring DAYS] [--unused DAYS]
    compare ACTOR KNOWN_GOOD [METHOD URL] [status:CODE] [space:KEY]
    watch ACTOR [METHOD URL] [space:KEY] [every 6h]    (into this channel)
    watch list | watch remove ID
    help
    history ACTOR

Slack may wrap what people type (`<mailto:a@b.c|a@b.c>`, `<https://x|x>`) and sends `&`, `<`,
`>` as entities (https://docs.slack.dev/interactivity/implementing-slash-commands); both are undone first. Errors are
`UsageError` (or
`HostNotAllowed` for a foreign endpoint) whose message is safe to show back, escaped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from bot.atlassian.hosts import HostGuard
from bot.automation import parse_rule_reference
from bot.errors import UsageError
from bot.redact import redact_text
from bot.request import METHODS, CheckRequest, SentAs, parse_actor, parse_endpoint
from bot.slack.escape import unescape
from bot.watches import DEFAULT_EVERY

USAGE = "/confluence-check ACTOR [METHOD URL] [status:CODE] [space:KEY] [sent:bearer] [body: TEXT]"
_SLACK_LINK = re.compile(r"<(?:mailto:)?([^<>|]+)(?:\|[^<>]*)?>")
_STATUS = re.compile(r"^(?:status:)?([1-5]\d\d)$", re.IGNORECASE)
_MAX_TEXT = 4000  # Slack caps the text of a command far below this; refuse anything longer


@dataclass(frozen=True, slots=True)
class HelpCommand:
    """`/confluence-check help`."""


@dataclass(frozen=True, slots=True)
class HistoryCommand:
    actor: str


@dataclass(frozen=True, slots=True)
class CheckCommand:
    request: CheckRequest


@dataclass(frozen=True, slots=True)
class RuleCommand:
    """`/confluence-check rule RULE`: what was typed, checked to name a rule (read later, in the background)."""

    rule: str


@dataclass(frozen=True, slots=True)
class TokensCommand:
    """`/confluence-check tokens [--expiring DAYS] [--unused DAYS]`: the org-wide token sweep."""

    expiring_days: int = 30
    unused_days: int = 90


@dataclass(frozen=True, slots=True)
class CompareCommand:
    """`/confluence-check compare ACTOR KNOWN_GOOD [METHOD URL] [status:CODE] [space:KEY]`: side by side."""

    actor: CheckRequest
    known_good: CheckRequest


@dataclass(frozen=True, slots=True)
class WatchCommand:
    """`/confluence-check watch ACTOR [METHOD URL] [space:KEY] [every 6h]`: watch into this channel."""

    actor: str
    endpoint: str | None
    space: str | None
    every: str


@dataclass(frozen=True, slots=True)
class WatchListCommand:
    """`/confluence-check watch list`."""


@dataclass(frozen=True, slots=True)
class WatchRemoveCommand:
    watch_id: str


WATCH_USAGE = "/confluence-check watch ACTOR [METHOD URL] [space:KEY] [every 6h] | watch list | watch remove ID"
_EVERY_WORD = re.compile(r"(?i)^every(?::(.+))?$")

Command = (HelpCommand | HistoryCommand | CheckCommand | RuleCommand | TokensCommand | CompareCommand | WatchCommand
           | WatchListCommand | WatchRemoveCommand)


def normalise(text: str | None) -> str:
    """Slash-command text as typed: Slack's link wrapping and entities undone, trimmed."""
    return unescape(_SLACK_LINK.sub(r"\1", text or "")).strip()


def parse_command(text: str | None, guard: HostGuard) -> Command:
    """Parse the text after the command. :raises UsageError: (or HostNotAllowed) with a hint."""
    value = normalise(text)
    if len(value) > _MAX_TEXT:
        raise UsageError(f"the text is too long ({len(value)} characters)")
    words = value.split()
    if not words:
        raise UsageError("tell me which account to check, e.g. `/confluence-check automation@acme.com`")
    head = words[0].lower()
    if head == "help":
        return HelpCommand()
    if head == "history":
        if len(words) != 2:
            raise UsageError("`history` takes one account: `/confluence-check history automation@acme.com`")
        return HistoryCommand(actor=parse_actor(words[1]))
    if head == "compare":
        return _compare_command(words, guard)
    if head == "tokens":
        return _tokens_command(words[1:])
    if head == "watch":
        return _watch_command(words[1:], guard)
    if head == "rule":
        rule = value[len(words[0]):].strip()
        parse_rule_reference(rule)  # a UsageError saying what to paste, before anything runs
        return RuleCommand(rule)
    return CheckCommand(request=_check_request(value, guard))


def _compare_command(words: list[str], guard: HostGuard) -> CompareCommand:
    if len(words) < 3:
        raise UsageError("`compare` takes the failing account and one that works: "
                         "`/confluence-check compare automation@acme.com priya@acme.com [METHOD URL] [space:KEY]`")
    actor = _check_request(" ".join([words[1], *words[3:]]), guard)
    # the same call; what the failing account gets is not said of the one that works
    known_good = replace(actor, actor=parse_actor(words[2]), observed_status=None, observed_body=None)
    if actor.actor == known_good.actor:
        raise UsageError("`compare` needs two different accounts: the failing one and one that works")
    return CompareCommand(actor, known_good)


def _tokens_command(words: list[str]) -> TokensCommand:
    days = {"--expiring": 30, "--unused": 90}
    usage = "`/confluence-check tokens [--expiring DAYS] [--unused DAYS]`"
    while words:
        flag, _, value = words[0].partition("=")
        if flag not in days:
            raise UsageError(f"I don't understand {redact_text(words[0])[:100]!r}. Usage: {usage}")
        if not value:
            if len(words) < 2:
                raise UsageError(f"{flag} needs a number of days. Usage: {usage}")
            value, words = words[1], words[2:]
        else:
            words = words[1:]
        if not value.isdigit() or int(value) > 3650:
            raise UsageError(f"{flag} takes a number of days from 0 to 3650, not {redact_text(value)[:20]!r}")
        days[flag] = int(value)
    return TokensCommand(days["--expiring"], days["--unused"])


def _watch_command(words: list[str], guard: HostGuard) -> Command:
    """`watch list`, `watch remove ID`, or `watch ACTOR …` in Slack's words (`every 6h`, not `--every`)."""
    if not words:
        raise UsageError(f"name the account to watch. Usage: {WATCH_USAGE}")
    if words[0].lower() == "list" and len(words) == 1:
        return WatchListCommand()
    if words[0].lower() == "remove":
        if len(words) != 2:
            raise UsageError("`watch remove` takes one watch id (w_…): `/confluence-check watch list` shows them")
        return WatchRemoveCommand(words[1])
    actor = parse_actor(words[0])
    endpoint: list[str] = []
    space: str | None = None
    every = DEFAULT_EVERY
    rest = iter(words[1:])
    for word in rest:
        if (m := _EVERY_WORD.match(word)) is not None:
            every = m.group(1) or next(rest, "")
        elif word.lower().startswith("space:"):
            space = word.split(":", 1)[1] or None
        elif word.upper() in METHODS or word.startswith("/") or re.match(r"(?i)^https?://", word):
            endpoint.append(word)
        else:
            raise UsageError(f"I don't understand {redact_text(word)[:100]!r}. Usage: {WATCH_USAGE}")
    if endpoint:
        parse_endpoint(" ".join(endpoint), guard)  # a foreign host or a bad method is told now
    return WatchCommand(actor, " ".join(endpoint) or None, space, every)


def _split_body(value: str) -> tuple[str, str | None]:
    """Everything after `body:` is the observed response body, spaces and all."""
    m = re.search(r"(?i)(?:^|\s)body:", value)
    if m is None:
        return value, None
    return value[: m.start()], value[m.end():].strip() or None


def _check_request(value: str, guard: HostGuard) -> CheckRequest:
    head, body = _split_body(value)
    words = head.split()
    if not words:
        raise UsageError(f"name the account before `body:`. Usage: {USAGE}")
    actor = parse_actor(words[0])
    endpoint: list[str] = []
    status: int | None = None
    space: str | None = None
    sent_as: SentAs | None = None
    for word in words[1:]:
        if (m := _STATUS.match(word)) is not None:
            status = int(m.group(1))
        elif word.lower().startswith("space:"):
            space = word.split(":", 1)[1] or None
        elif word.lower().startswith("sent:"):  # how the caller sends the token: basic, bearer or none
            try:
                sent_as = SentAs(word.split(":", 1)[1].lower())
            except ValueError:
                raise UsageError(f"`sent:` takes basic, bearer or none, not {redact_text(word)[:40]!r}") from None
        elif word.upper() in METHODS or word.startswith("/") or re.match(r"(?i)^https?://", word):
            endpoint.append(word)
        else:
            raise UsageError(f"I don't understand {redact_text(word)[:100]!r}. Usage: {USAGE}")
    failing = parse_endpoint(" ".join(endpoint), guard) if endpoint else None
    return CheckRequest(actor=actor, failing=failing, observed_status=status,
                        observed_body=body, space=space, sent_as=sent_as)
