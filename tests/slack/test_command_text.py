"""The grammar of the slash command's text (`bot.slack.text`)."""

from __future__ import annotations

import pytest

from bot.atlassian.hosts import HostGuard
from bot.errors import HostNotAllowed, UsageError
from bot.slack.text import CheckCommand, HelpCommand, HistoryCommand, normalise, parse_command

GUARD = HostGuard(site_url="https://acme.atlassian.net", api_url="https://api.atlassian.com")


def check(text: str) -> CheckCommand:
    command = parse_command(text, GUARD)
    assert isinstance(command, CheckCommand)
    return command


@pytest.mark.parametrize(("text", "endpoint", "status", "space", "body"), [
    ("automation@acme.com", None, None, None, None),
    ("Automation@Acme.com GET /wiki/rest/api/space status:403",
     "GET https://acme.atlassian.net/wiki/rest/api/space", 403, None, None),
    ("automation@acme.com /wiki/rest/api/space/OPS 404 space:OPS",
     "GET https://acme.atlassian.net/wiki/rest/api/space/OPS", 404, "OPS", None),
    ("automation@acme.com post https://api.atlassian.com/ex/confluence/abc/wiki/rest/api/content status:401",
     "POST https://api.atlassian.com/ex/confluence/abc/wiki/rest/api/content", 401, None, None),
    ("automation@acme.com status:403 body: {\"message\": \"caller cannot access Confluence\"}",
     None, 403, None, '{"message": "caller cannot access Confluence"}'),
    ("<mailto:automation@acme.com|automation@acme.com> GET <https://acme.atlassian.net/wiki/rest/api/space>",
     "GET https://acme.atlassian.net/wiki/rest/api/space", None, None, None),
    ("5b10ac8d82e05b22cc7d4ef5 GET /wiki/rest/api/space?limit=1&amp;start=0",
     "GET https://acme.atlassian.net/wiki/rest/api/space?limit=1&start=0", None, None, None),
], ids=["actor-only", "method-path-status", "bare-path-space", "gateway-url", "body", "slack-links",
        "account-id-entities"])
def test_a_check_is_parsed_into_one_request(text: str, endpoint: str | None, status: int | None,
                                           space: str | None, body: str | None) -> None:
    request = check(text).request
    described = request.failing.describe() if request.failing else None
    assert described == endpoint
    assert (request.observed_status, request.space, request.observed_body) == (status, space, body)
    assert request.actor_secret is None


def test_help_and_history() -> None:
    assert parse_command("  HELP ", GUARD) == HelpCommand()
    assert parse_command("history <mailto:Bob@acme.com|Bob@acme.com>", GUARD) == HistoryCommand("bob@acme.com")


@pytest.mark.parametrize(("text", "error"), [
    ("", UsageError),
    ("bob", UsageError),
    ("bob@acme.com DELETE", UsageError),
    ("bob@acme.com GET https://evil.example.com/wiki", HostNotAllowed),
    ("bob@acme.com GET https://acme.atlassian.net@evil.example.com/wiki", HostNotAllowed),
    ("bob@acme.com status:999", UsageError),
    ("bob@acme.com space:no/such", UsageError),
    ("body: only a body", UsageError),
    ("history a b", UsageError),
    ("x" * 5000, UsageError),
])
def test_bad_text_raises_a_usage_error(text: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_command(text, GUARD)


def test_normalise_undoes_slack_wrapping_and_entities() -> None:
    assert normalise("&lt;!channel&gt; <https://x.example|label> a &amp; b") == "<!channel> https://x.example a & b"
