"""Where OAuth 2.0 credentials may go (through MockTransport): the client secret only to the
token host, in the form body; an access token only to the API host, and to the site only when a probe
asks for the contrast call; the token host's answer is kept out of the evidence."""

from __future__ import annotations

from urllib.parse import parse_qs

import httpx
import pytest

from bot.atlassian import Atlassian, Auth, Role
from bot.atlassian.clients import TOKEN_PATH
from bot.config import Secret, Settings
from bot.errors import HostNotAllowed
from tests.atlassian.test_clients import Recorder
from tests.fakes.atlassian_http import MockTransport

SETTINGS = Settings.load({"ATLASSIAN_SITE_URL": "https://acme.atlassian.net"})
CLIENT = ("client-1", Secret("ATOA-CLIENT-SECRET-77"))
ACCESS = "eyJhbGciOiJub25lIn0.eyJleHAiOjF9.c2ln"


def oauth_client(rec: Recorder, **kwargs: object) -> Atlassian:
    return Atlassian(SETTINGS, transport=MockTransport(rec), **kwargs)  # type: ignore[arg-type]


def test_the_token_host_defaults_to_atlassians_and_is_checked_like_any_base_url() -> None:
    assert SETTINGS.auth_url == "https://auth.atlassian.com"
    assert Settings.load({"ATLASSIAN_AUTH_URL": "http://127.0.0.1:9/"}).auth_url == "http://127.0.0.1:9"
    with pytest.raises(Exception, match="ATLASSIAN_AUTH_URL"):
        Settings.load({"ATLASSIAN_AUTH_URL": "ftp://auth.example"})


async def test_the_client_secret_goes_to_the_token_host_in_the_body_and_its_answer_is_not_kept() -> None:
    rec = Recorder(httpx.Response(200, json={"access_token": ACCESS, "expires_in": 3600, "token_type": "Bearer"}))
    async with oauth_client(rec, client=CLIENT) as http:
        reply = await http.call(Role.AUTH, "POST", TOKEN_PATH, auth=Auth.CLIENT,
                                form={"grant_type": "client_credentials"})
    [sent] = rec.requests
    assert str(sent.url) == "https://auth.atlassian.com/oauth/token" and "authorization" not in sent.headers
    assert sent.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qs(sent.content.decode()) == {"grant_type": ["client_credentials"], "client_id": ["client-1"],
                                               "client_secret": ["ATOA-CLIENT-SECRET-77"]}
    assert reply.evidence.excerpt is None and "access token" in (reply.evidence.note or "")


@pytest.mark.parametrize("role", [Role.SITE, Role.API, Role.STATUS])
async def test_the_client_secret_goes_nowhere_else(role: Role) -> None:
    rec = Recorder(httpx.Response(200))
    async with oauth_client(rec, client=CLIENT) as http:
        with pytest.raises((HostNotAllowed, ValueError)):
            await http.call(role, "POST", TOKEN_PATH, auth=Auth.CLIENT)
        with pytest.raises(HostNotAllowed):  # an absolute URL on another host is refused for the token role too
            await http.call(Role.AUTH, "POST", "https://api.atlassian.com/oauth/token", auth=Auth.CLIENT)
    assert rec.requests == []


async def test_an_access_token_goes_to_the_api_host_and_to_the_site_only_as_the_contrast() -> None:
    rec = Recorder(httpx.Response(200, json={}))
    async with oauth_client(rec, access_token=Secret(ACCESS)) as http:
        await http.call(Role.API, "GET", "/oauth/token/accessible-resources", auth=Auth.ACTOR_BEARER)
        with pytest.raises(HostNotAllowed):
            await http.call(Role.SITE, "GET", "/wiki/rest/api/user/current", auth=Auth.ACTOR_BEARER)
        with pytest.raises(HostNotAllowed):
            await http.call(Role.STATUS, "GET", "/api/v2/summary.json", auth=Auth.ACTOR_BEARER)
        with pytest.raises(HostNotAllowed):  # the API host's admin APIs are no place for it either
            await http.call(Role.API, "GET", "/admin/v1/orgs", auth=Auth.ACTOR_BEARER)
        with pytest.raises(HostNotAllowed):
            await http.call(Role.AUTH, "POST", TOKEN_PATH, auth=Auth.ACTOR_BEARER)
        await http.call(Role.SITE, "GET", "/wiki/rest/api/user/current", auth=Auth.ACTOR_BEARER, bearer_at_site=True)
    assert [(r.url.host, r.headers["authorization"]) for r in rec.requests] == [
        ("api.atlassian.com", f"Bearer {ACCESS}"), ("acme.atlassian.net", f"Bearer {ACCESS}")]


async def test_an_adopted_access_token_is_masked_from_then_on() -> None:
    rec = Recorder(httpx.Response(401, text=f"echo {ACCESS}"))
    async with oauth_client(rec, client=CLIENT) as http:
        http.adopt_access_token(ACCESS)
        reply = await http.call(Role.API, "GET", "/oauth/token/accessible-resources", auth=Auth.ACTOR_BEARER)
    assert ACCESS not in (reply.evidence.excerpt or "") and "echo" in (reply.evidence.excerpt or "")


async def test_no_other_post_is_allowed_on_the_token_host() -> None:
    rec = Recorder(httpx.Response(200))
    async with oauth_client(rec, client=CLIENT) as http:
        with pytest.raises(ValueError, match="only reads"):
            await http.call(Role.AUTH, "POST", "/oauth/revoke", auth=Auth.CLIENT)
    assert rec.requests == []


async def test_a_runs_oauth_secrets_are_masked_in_logs_while_it_holds_them_and_forgotten_after() -> None:
    from bot import logs

    secret = "plain-client-value-31xq"  # shaped like no known credential: masked only while registered
    minted = "eyJ0eXAiOiJKV1QifQ.eyJsb2dnZWQiOjF9.bWludGVkLXRva2Vu"
    rec = Recorder(httpx.Response(200))
    async with oauth_client(rec, client=("client-1", Secret(secret))) as http:
        http.adopt_access_token(minted)
        assert logs.clean(f"saw {secret} and {minted}") == "saw ******** and ********"
    assert secret in logs.clean(f"saw {secret}")  # the run is over: nothing of it is kept
