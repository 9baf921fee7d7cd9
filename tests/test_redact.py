"""The one redactor (`bot.redact`): what every sink masks, and what it leaves readable."""

from __future__ import annotations

import base64
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import redact
from bot.atlassian import Redactor as AtlassianRedactor
from bot.redact import MASK, Redactor, redact_text
from bot.render import scrub

ATATT = "ATATT3xFfGF0T4kHx1pAbCdEfGhIjKlMnOpQrStUvWxYz0123456789"


def test_every_sink_uses_the_same_redactor() -> None:
    assert AtlassianRedactor is Redactor
    for text in (f"token {ATATT}", "https://u:pw12345678@h/x?access_token=abc", "Bearer eyJhbGciOiJIUzI1NiJ9.x"):
        assert scrub(text) == redact_text(text) == Redactor().text(text)


@pytest.mark.parametrize(("text", "secret"), [
    ("GET https://acme.atlassian.net/wiki/rest/api/space?access_token=s3cr3tvalue&limit=1", "s3cr3tvalue"),
    ("GET https://acme.atlassian.net/wiki?api_key=s3cr3tvalue", "s3cr3tvalue"),
    ("GET https://acme.atlassian.net/wiki?os_password=hunter2hunter2", "hunter2hunter2"),
    ("https://bob:hunter2hunter2@acme.atlassian.net/wiki", "hunter2hunter2"),
    ("https://ATATT0123456789abcdef@acme.atlassian.net/wiki", "ATATT0123456789abcdef"),
    (f"/confluence-check sam@acme.com token:{ATATT}", ATATT),
    ("sam@acme.com api_token=plainsecretvalue123", "plainsecretvalue123"),
    ("Authorization: Basic c2FtQGFjbWUuY29tOnNlY3JldDEyMw==", "c2FtQGFjbWUuY29tOnNlY3JldDEyMw=="),
    ("authorization: bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig", "eyJhbGciOiJIUzI1NiJ9"),
    ("xoxb-1234-5678-abcdefghij", "xoxb-1234-5678-abcdefghij"),
    ("xapp-1-A0123-456-abcdef", "xapp-1-A0123-456-abcdef"),
    ("short ATATT prefix ATATT1234567", "ATATT1234567"),
])
def test_credential_shapes_are_masked(text: str, secret: str) -> None:
    out = redact_text(text)
    assert secret not in out and MASK in out


@pytest.mark.parametrize("text", [
    "Send `Authorization: Basic base64(email:api_token)`",
    "Bearer <token> works only for OAuth",
    "Bearer authentication is not supported here",
    "GET https://acme.atlassian.net/wiki/rest/api/space?spaceKey=ENG&limit=25",
    "ATLASSIAN_ORG_API_KEY is not set",
    "pipe the token: echo $TOKEN | confluence-check check a@acme.com --actor-token-stdin",
    "the actor's token (email:token) is used once",
])
def test_instructions_and_ordinary_urls_stay_readable(text: str) -> None:
    assert redact_text(text) == text


def test_known_values_are_masked_in_every_encoding() -> None:
    token = "my token/with+odd=chars"
    basic = base64.b64encode(f"a@acme.com:{token}".encode()).decode()
    redact = Redactor().basic_pair("a@acme.com", token)
    text = f"{token} {basic} https://acme.atlassian.net/wiki?x=my%20token%2Fwith%2Bodd%3Dchars"
    out = redact.text(text)
    assert token not in out and basic not in out and "my%20token" not in out


def test_none_passes_through() -> None:
    assert Redactor()(None) is None


def _every_pattern(text: str) -> str:
    """`_mask_shapes` without its shortcuts: every pattern on every text."""
    text = redact._URL_USERINFO.sub(lambda m: f"{m.group(1)}{redact.MASK}@", text)
    text = redact._SECRET_PATH_URL.sub(lambda m: f"{m.group(1)}{redact.MASK}", text)
    text = redact._URL_QUERY.sub(lambda m: m.group(1) + redact.MASK, text)
    text = redact._FORM_FIELD.sub(lambda m: m.group(1) + redact.MASK, text)
    text = redact._JSON_PAIR.sub(lambda m: m.group(1) + redact.MASK, text)
    text = redact._AUTH_VALUE.sub(redact._mask_auth, text)
    text = redact._AUTH_HEADER.sub(lambda m: m.group(1) + redact.MASK, text)
    for pattern, _ in redact._KNOWN_TOKENS:
        text = pattern.sub(redact.MASK, text)
    return redact._PAIR.sub(lambda m: m.group(1) + m.group(2) + redact.MASK, text)


_PIECES = ["token", "Token", "KEY", "api_key", "password", "passwd", "secret", "Basic ", "bearer ",
           "https://hooks.slack.com/services/", "hooks.SLACK.com/triggers/", '"', '\\"', "#", "client_secret",
           "Authorization: ", "https://", "user:pw@", "@", "?access_token=", "&sig=", "=", ":", " ", "ATATT",
           "ATCTT", "xoxb-", "xapp-", "abcdefghij0123456789", "K", "ſ", "İ", "é", "<", "(", "/", "-", "_"]


_LEADS, _SEPARATORS = ["", "x ", "é "], ["", "=", ": ", " "]
_VALUES = ["abcdefgh12", "ATATT3xFfGF0abc", "ok", "<token>"]
_SHAPED = st.tuples(st.sampled_from(_LEADS), st.sampled_from(_PIECES), st.sampled_from(_SEPARATORS),
                    st.sampled_from(_VALUES)).map("".join)


def test_the_shortcuts_never_skip_a_pattern_on_any_shaped_text() -> None:
    for text in ("".join(p) for p in itertools.product(_LEADS, _PIECES, _SEPARATORS, _VALUES)):
        assert redact._mask_shapes(text) == _every_pattern(text), text


@settings(max_examples=600, deadline=None)
@given(st.lists(_SHAPED | st.sampled_from(_PIECES) | st.text(max_size=6), max_size=14).map("".join))
def test_the_shortcuts_never_skip_a_pattern_that_would_match(text: str) -> None:
    assert redact._mask_shapes(text) == _every_pattern(text)


def test_an_oauth_client_secret_and_an_access_token_nobody_registered_are_masked_by_their_shape() -> None:
    from bot.redact import redact_text

    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXZhbHVl"
    text = redact_text(f"secret ATOA9s3kQm1xZpV7wN4c and token {jwt} pasted into a body")
    assert "ATOA9s3k" not in text and jwt not in text and "eyJzdWIi" not in text
    assert redact_text("see eyJ.x.y and ATOA") == "see eyJ.x.y and ATOA"  # too short to be either
