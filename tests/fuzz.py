"""The parsers under fuzzing, and the inputs to throw at them (Hypothesis strategies).

Shared by the property tests (a few hundred examples each, in CI) and `scripts/fuzz_parsers.py`
(a longer run that prints counts). A target returns normally or raises the project's own
`ConfluenceCheckError`; anything else escaping is a crash.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from hypothesis import strategies as st

from bot.atlassian.hosts import HostGuard
from bot.config import Settings
from bot.request import ActorSecret, CheckRequest, parse_actor, parse_endpoint
from bot.slack.text import parse_command

SITE = "https://acme.atlassian.net"
GUARD = HostGuard(SITE, "https://api.atlassian.com")

_SCHEMES = ["http://", "https://", "HTTPS://", "", "//", "ftp://", "https:/", "javascript:"]
_HOSTS = ["acme.atlassian.net", "api.atlassian.com", "[::1", "[::1]", "[", "]", "a@evil", "evil℀.com",
          "acme.atlassian.net@evil.com", "", "127.0.0.1", "ACME.atlassian.net.", "xn--", "ｅｖｉｌ.com", "%00"]
_PORTS = ["", ":", ":abc", ":99999", ":443", ":-1", ":0", ": 1", ":٣"]
_PATHS = ["", "/", "/wiki/rest/api/space", "/wiki/api/v2/pages/123", "?token=x", "#f", "/\x00", "/%zz",
          "/wiki/rest/api/space/ENG?spaceKey=X&access_token=y"]
_METHODS = ["GET", "get", "POST", "HEAD", "FROB", "", "GET GET"]


def argv_text(raw: bytes) -> str:
    """Bytes as Python hands them over from argv (PEP 383: undecodable bytes as surrogates)."""
    return raw.decode("utf-8", "surrogateescape")


junk = st.one_of(st.text(), st.binary().map(argv_text),
                 st.text(alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)))
urls = st.one_of(
    junk,
    st.builds(lambda *p: "".join(p), st.sampled_from(_SCHEMES), st.sampled_from(_HOSTS), st.sampled_from(_PORTS),
              st.sampled_from(_PATHS), junk),
)
endpoints = st.one_of(junk, st.builds(lambda m, u: f"{m} {u}", st.sampled_from(_METHODS), urls))
_WORDS = ["a@acme.com", "<mailto:a@acme.com|a@acme.com>", "help", "history", "status:403", "403", "space:ENG",
          "space:", "body:", "&lt;", "&amp;", "<https://acme.atlassian.net/wiki|x>", "GET", "/wiki/x",
          "5b10ac8d82e05b22cc7d4ef5"]
slack_texts = st.one_of(junk, st.lists(st.one_of(st.sampled_from(_WORDS), urls, junk), max_size=8).map(" ".join))
actors = st.one_of(junk, st.sampled_from(_WORDS), st.builds(lambda a, b: f"{a}@{b}", junk, junk))


def endpoint_target(text: str) -> None:
    parsed = parse_endpoint(text, GUARD)
    _storable(CheckRequest("a@acme.com", failing=parsed).describe())


def slack_target(text: str) -> None:
    command = parse_command(text, GUARD)
    request = getattr(command, "request", None)
    if request is not None:
        _storable(request.describe())


def actor_target(text: str) -> None:
    _storable(parse_actor(text))


def body_target(text: str) -> None:
    _storable(CheckRequest("a@acme.com", observed_status=403, observed_body=text).describe())
    ActorSecret.parse(text)


def settings_url_target(text: str) -> None:
    """Every URL-like setting gets `text`; the first refusal is raised after all were tried."""
    refused: list[BaseException] = []
    for name in ("ATLASSIAN_SITE_URL", "ATLASSIAN_API_URL", "ATLASSIAN_STATUS_URL", "SLACK_API_URL", "PORT",
                 "LOG_LEVEL"):
        try:
            Settings.from_mapping({name: text})
        except Exception as exc:
            if not _own(exc):
                raise
            refused.append(exc)
    if refused:
        raise refused[0]


def _storable(value: object) -> None:
    """What the history stores and the terminal prints must be valid UTF-8 JSON."""
    json.dumps(value, ensure_ascii=False).encode("utf-8")


def _own(exc: BaseException) -> bool:
    from bot.errors import ConfluenceCheckError

    return isinstance(exc, ConfluenceCheckError)


TARGETS: dict[str, tuple[Callable[[str], None], st.SearchStrategy[str]]] = {
    "endpoint": (endpoint_target, endpoints),
    "slash-command": (slack_target, slack_texts),
    "actor": (actor_target, actors),
    "body": (body_target, junk),
    "settings-url": (settings_url_target, urls),
}


def outcome(target: Callable[[str], None], text: str) -> BaseException | None:
    """None when the target accepted or refused `text` properly; the stray exception otherwise."""
    try:
        target(text)
    except Exception as exc:
        return None if _own(exc) else exc
    return None
