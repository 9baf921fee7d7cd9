"""Static analysis of the Authorization header, the URL and what may be replayed."""

from __future__ import annotations

import base64

import pytest

from bot.atlassian.clients import basic_authorization
from bot.automation.analysis import (
    HeaderFault,
    SecretKind,
    Target,
    check_authorization,
    check_url,
    check_write,
)
from bot.model import CauseCode

TOKEN = "ATATT3xFfGF0-canary-header-token-9f9f"
EMAIL = "automation@acme.com"
GOOD = base64.b64encode(f"{EMAIL}:{TOKEN}".encode()).decode()
SITE, API = "https://acme.atlassian.net", "https://api.atlassian.com"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(("value", "fault", "email"), [
    (None, HeaderFault.MISSING, None),
    ("   ", HeaderFault.EMPTY, None),
    (f"Basic {GOOD}", None, EMAIL),
    (f"basic {GOOD}", None, EMAIL),
    (f"Basic {GOOD[:20]}\n{GOOD[20:]}", HeaderFault.LINE_BREAK, EMAIL),
    (f"Basic {GOOD[:20]} {GOOD[20:]}", HeaderFault.WHITESPACE, EMAIL),
    (GOOD, HeaderFault.NO_SCHEME, EMAIL),
    (f"Basci {GOOD}", HeaderFault.BAD_SCHEME, EMAIL),
    (f"Basic {EMAIL}:{TOKEN}", HeaderFault.NOT_ENCODED, EMAIL),
    ("Basic not*base64!", HeaderFault.NOT_BASE64, None),
    (f"Basic {b64(EMAIL + TOKEN)}", HeaderFault.NO_COLON, None),
    (f"Basic {b64(TOKEN + ':' + EMAIL)}", HeaderFault.TOKEN_AS_EMAIL, EMAIL),
    (f"Basic {b64('automation:' + TOKEN)}", HeaderFault.NOT_EMAIL, None),
    (f"Basic {b64(EMAIL + ':')}", HeaderFault.EMPTY_TOKEN, EMAIL),
    (f"Bearer {TOKEN}", HeaderFault.BEARER_API_TOKEN, None),
    ("Bearer eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl", None, None),
])
def test_authorization_header_faults(value: str | None, fault: HeaderFault | None, email: str | None) -> None:
    check = check_authorization({} if value is None else {"authorization": value})
    assert (check.fault, check.email) == (fault, email)
    assert TOKEN not in check.shown and GOOD not in check.shown and TOKEN not in repr(check)


def test_faults_map_to_the_three_header_causes() -> None:
    assert HeaderFault.MISSING.cause is CauseCode.AUTH_HEADER_MISSING
    assert HeaderFault.BEARER_API_TOKEN.cause is CauseCode.BEARER_WITH_API_TOKEN
    assert {f.cause for f in HeaderFault} - {CauseCode.AUTH_HEADER_MISSING, CauseCode.BEARER_WITH_API_TOKEN} == {
        CauseCode.AUTH_HEADER_MALFORMED}


def test_a_good_header_is_shown_by_email_and_kind_and_its_token_recovered() -> None:
    check = check_authorization([("Authorization", f"Basic {GOOD}")])
    assert check.shown == f"Authorization: Basic <{EMAIL} : API token, {len(TOKEN)} chars>"
    assert check.token is not None and check.token.reveal() == TOKEN and check.kind is SecretKind.API_TOKEN
    assert basic_authorization(EMAIL, TOKEN) == f"Basic {GOOD}"
    org_key = check_authorization({"Authorization": basic_authorization(EMAIL, "ATCTT3xFfGN0-org-key")})
    assert org_key.kind is SecretKind.ORG_API_KEY


@pytest.mark.parametrize(("url", "target", "replay"), [
    (f"{SITE}/wiki/rest/api/space", Target.SITE, f"{SITE}/wiki/rest/api/space"),
    (f"{API}/ex/confluence/c1/wiki/api/v2/spaces", Target.GATEWAY, f"{API}/ex/confluence/c1/wiki/api/v2/spaces"),
    (f"{SITE}/wiki/rest/api/content/{{{{page.id}}}}", Target.SITE, f"{SITE}/wiki/rest/api/user/current"),
    (f"{API}/ex/confluence/c1/wiki/api/v2/pages/{{{{page.id}}}}", Target.GATEWAY,
     f"{API}/ex/confluence/c1/wiki/rest/api/user/current"),
    ("https://hooks.example.com/notify", Target.OTHER_HOST, None),
    ("https://acme.atlassian.net@evil.example/wiki/rest/api/space", Target.OTHER_HOST, None),
    ("https://{{site}}/wiki/rest/api/space", Target.UNPARSEABLE, None),
])
def test_url_targets_and_what_is_replayed(url: str, target: Target, replay: str | None) -> None:
    check = check_url(url, SITE, API)
    assert (check.target, check.replay_url) == (target, replay)


def test_url_notes_missing_wiki_and_masks_query_secrets() -> None:
    check = check_url(f"{SITE}/rest/api/space?token={TOKEN}&limit=5", SITE, API)
    assert any("did you mean /wiki/rest/api/space" in n for n in check.notes)
    assert TOKEN not in check.shown and "limit=5" in check.shown


@pytest.mark.parametrize(("method", "headers", "content_type", "needs"), [
    ("GET", {}, None, False),
    ("POST", {"Content-Type": "application/json"}, "custom", False),
    ("POST", {"Content-Type": "multipart/form-data"}, "custom", True),
    ("PUT", {}, "application/x-www-form-urlencoded", True),
    ("POST", {"X-Atlassian-Token": "no-check", "Content-Type": "multipart/form-data"}, None, False),
])
def test_writes_without_the_xsrf_header(method: str, headers: dict, content_type: str | None, needs: bool) -> None:
    check = check_write(method, headers, content_type)
    assert check.needs_token is needs and (check.note is None) is (method == "GET")
