"""The HTTP layer on its own, through MockTransport: retries, guard, redirects, redaction."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.atlassian import Atlassian, Auth, RequestFailed, RetryPolicy, Role
from bot.atlassian.clients import MAX_ATTEMPTS, with_query
from bot.atlassian.failures import CannotConnect, ConnectionLost, ConnectTimeout, ReadTimeout
from bot.config import Secret, Settings
from bot.errors import HostNotAllowed
from tests.fakes.atlassian_http import MockTransport

SETTINGS = Settings.load({
    "ATLASSIAN_SITE_URL": "https://acme.atlassian.net",
    "ATLASSIAN_EMAIL": "bot@acme.com", "ATLASSIAN_API_TOKEN": "BOT-TOKEN-1234",
    "ATLASSIAN_ORG_API_KEY": "ORG-KEY-5678",
})


class Recorder:
    def __init__(self, *responses: httpx.Response) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]


def client(rec: Recorder, **kwargs: object) -> Atlassian:
    return Atlassian(SETTINGS, transport=MockTransport(rec), **kwargs)  # type: ignore[arg-type]


async def test_429_is_retried_after_retry_after_and_403_never() -> None:
    rec = Recorder(httpx.Response(429, headers={"Retry-After": "0"}), httpx.Response(200, json={"ok": 1}))
    async with client(rec) as http:
        reply = await http.call(Role.SITE, "GET", "/wiki/rest/api/space")
    assert reply.status == 200 and len(rec.requests) == 2
    assert "retr" in (reply.evidence.note or "")
    rec = Recorder(httpx.Response(403, text="nope"))
    async with client(rec) as http:
        assert (await http.call(Role.SITE, "GET", "/wiki/rest/api/space")).status == 403
    assert len(rec.requests) == 1


async def test_retries_are_bounded_and_long_waits_are_not_taken() -> None:
    rec = Recorder(httpx.Response(503, headers={"Retry-After": "0"}))
    async with client(rec) as http:
        reply = await http.call(Role.SITE, "GET", "/x")
    assert reply.status == 503 and len(rec.requests) == MAX_ATTEMPTS
    assert "gave up: 503" in (reply.evidence.note or "")
    rec = Recorder(httpx.Response(429, headers={"Retry-After": "3600"}))
    async with client(rec) as http:
        assert (await http.call(Role.SITE, "GET", "/x")).status == 429
    assert len(rec.requests) == 1


async def test_credentials_by_role() -> None:
    rec = Recorder(httpx.Response(200))
    async with client(rec) as http:
        await http.call(Role.SITE, "GET", "/a", auth=Auth.INSPECTOR)
        await http.call(Role.API, "GET", "/admin/v1/orgs", auth=Auth.ORG_KEY)
        await http.call(Role.STATUS, "GET", "/api/v2/summary.json")
        with pytest.raises(HostNotAllowed):
            await http.call(Role.STATUS, "GET", "/api/v2/summary.json", auth=Auth.INSPECTOR)
        with pytest.raises(ValueError):
            await http.call(Role.SITE, "GET", "/a", auth=Auth.ORG_KEY)  # the org key is for admin APIs only
    site, admin, status = rec.requests
    assert site.headers["authorization"] == "Basic " + base64.b64encode(b"bot@acme.com:BOT-TOKEN-1234").decode()
    assert admin.headers["authorization"] == "Bearer ORG-KEY-5678"
    assert "authorization" not in status.headers and status.url.host == "confluence.status.atlassian.com"


@pytest.mark.parametrize("url", ["https://evil.example.com/wiki", "https://acme.atlassian.net@evil.example.com/",
                                 "http://acme.atlassian.net/wiki"])
async def test_foreign_urls_are_refused_before_sending(url: str) -> None:
    rec = Recorder(httpx.Response(200))
    async with client(rec, actor_token=Secret("ACTOR-TOK-9")) as http:
        with pytest.raises(HostNotAllowed):
            await http.call(Role.SITE, "GET", url, auth=Auth.ACTOR, as_email="a@acme.com")
    assert rec.requests == []


async def test_redirects_are_not_followed() -> None:
    rec = Recorder(httpx.Response(302, headers={"Location": "https://evil.example.com/steal"}))
    async with client(rec) as http:
        reply = await http.call(Role.SITE, "GET", "/wiki", auth=Auth.INSPECTOR)
    assert reply.status == 302 and len(rec.requests) == 1


async def test_only_reads_are_sent() -> None:
    rec = Recorder(httpx.Response(200))
    async with client(rec) as http:
        await http.call(Role.API, "POST", "/admin/v2/orgs/o/directories/-/users/search", auth=Auth.ORG_KEY, json={})
        for method, path in [("DELETE", "/users/x/manage/api-tokens/1"), ("POST", "/wiki/rest/api/content"),
                             ("PUT", "/wiki/rest/api/content/1")]:
            with pytest.raises(ValueError, match="only reads"):
                await http.call(Role.SITE, method, path)
    assert len(rec.requests) == 1


async def test_evidence_is_redacted() -> None:
    token = "ACTOR-TOKEN-abcdef"
    encoded = base64.b64encode(f"a@acme.com:{token}".encode()).decode()
    echo = f"you sent Basic {encoded} and {token} and BOT-TOKEN-1234"
    rec = Recorder(httpx.Response(401, text=echo))
    async with client(rec, actor_token=Secret(token)) as http:
        reply = await http.call(Role.SITE, "GET", "/wiki/rest/api/user/current", auth=Auth.ACTOR,
                                params={"q": token}, as_email="a@acme.com")
    text = str(reply.evidence.to_dict())
    assert token not in text and encoded not in text and "BOT-TOKEN-1234" not in text
    assert reply.evidence.auth == "actor" and reply.evidence.status == 401


async def test_no_response_becomes_request_failed_with_evidence() -> None:
    def boom(request: httpx.Request) -> httpx.Response:
        raise CannotConnect("refused")

    async with Atlassian(SETTINGS, transport=MockTransport(boom)) as http:
        with pytest.raises(RequestFailed) as err:
            await http.call(Role.SITE, "GET", "/_edge/tenant_info")
    assert err.value.evidence.status is None and "CannotConnect" in str(err.value)


async def test_deadline_stops_requests() -> None:
    rec = Recorder(httpx.Response(200))
    async with client(rec, deadline_s=0) as http:
        with pytest.raises(RequestFailed, match="timed out"):
            await http.call(Role.SITE, "GET", "/x")
    assert rec.requests == []


FAST = RetryPolicy(base_delay_s=0.001, jitter_s=0.001)


@pytest.mark.parametrize("fault", [httpx.Response(500), httpx.Response(502), httpx.Response(504),
                                   httpx.Response(200, text='{"results":[{"id":"',
                                                  headers={"content-type": "application/json"})])
async def test_server_errors_and_unparsable_json_are_retried(fault: httpx.Response) -> None:
    rec = Recorder(fault, httpx.Response(200, json={"ok": 1}))
    async with client(rec, retry=FAST) as http:
        reply = await http.call(Role.SITE, "GET", "/wiki/api/v2/spaces")
    assert reply.status == 200 and reply.json() == {"ok": 1} and len(rec.requests) == 2
    assert "retried 1x" in (reply.evidence.note or "")


@pytest.mark.parametrize("error", [ConnectionLost, ReadTimeout, ConnectTimeout])
async def test_resets_closed_connections_and_read_timeouts_are_retried(error: type[Exception]) -> None:
    calls: list[httpx.Request] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            raise error("dropped")
        return httpx.Response(200, json={"ok": 1})

    async with Atlassian(SETTINGS, transport=MockTransport(flaky), retry=FAST) as http:
        reply = await http.call(Role.API, "POST", "/admin/v2/orgs/o/directories/-/users/search",
                                auth=Auth.ORG_KEY, json={"emails": ["a@acme.com"]})  # a read-only POST
    assert reply.status == 200 and len(calls) == 2


async def test_a_refused_connection_is_not_retried_and_a_persistent_reset_gives_up() -> None:
    calls: list[str] = []

    def refused(request: httpx.Request) -> httpx.Response:
        calls.append("refused")
        raise CannotConnect("refused")

    async with Atlassian(SETTINGS, transport=MockTransport(refused), retry=FAST) as http:
        with pytest.raises(RequestFailed):
            await http.call(Role.SITE, "GET", "/x")
    assert calls == ["refused"]

    def reset(request: httpx.Request) -> httpx.Response:
        calls.append("reset")
        raise ConnectionLost("reset")

    async with Atlassian(SETTINGS, transport=MockTransport(reset), retry=FAST) as http:
        with pytest.raises(RequestFailed, match="after 3 retries") as err:
            await http.call(Role.SITE, "GET", "/x")
    assert calls.count("reset") == MAX_ATTEMPTS and err.value.evidence.status is None


def test_retry_after_as_http_date_and_the_admin_rate_limit_reset_set_the_wait() -> None:
    policy = RetryPolicy(max_delay_s=120, jitter_s=0)
    soon = datetime.now(UTC) + timedelta(seconds=30)
    dated = httpx.Response(429, headers={"Retry-After": format_datetime(soon, usegmt=True)})
    assert 28 <= (policy.delay(0, dated) or 0) <= 30.5
    reset = httpx.Response(429, headers={"X-RateLimit-Reset": (soon + timedelta(seconds=30)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")})  # the admin API: no Retry-After, only the reset instant
    assert 58 <= (policy.delay(0, reset) or 0) <= 60.5
    assert policy.delay(0, httpx.Response(429, headers={"Retry-After": "7"})) == 7
    assert policy.delay(2, httpx.Response(500)) == 2.0  # no hint: exponential (0.5 s doubled twice)
    assert RetryPolicy(max_delay_s=10).delay(0, dated) is None  # longer than a diagnosis should wait


async def test_the_run_deadline_bounds_the_waits() -> None:
    rec = Recorder(httpx.Response(503, headers={"Retry-After": "2"}), httpx.Response(200))
    async with client(rec, deadline_s=2.5) as http:
        reply = await http.call(Role.SITE, "GET", "/x")
    assert reply.status == 503 and len(rec.requests) == 1  # waiting 2 s would leave too little of the run


_VALUE = st.one_of(st.text(max_size=12), st.integers(-5, 10**6), st.booleans(), st.none(),
                   st.lists(st.text(max_size=5) | st.integers(0, 9), max_size=3))


@settings(max_examples=400, deadline=None)
@given(path=st.sampled_from(["/wiki/rest/api/user/memberof", "/admin/v1/orgs/o-1/policies", "/w?start=2",
                             "/x?a=1 2&b=é", "/p#frag"]),
       params=st.dictionaries(st.sampled_from(["limit", "start", "cursor", "accountId", "cql", "expand", "a"]),
                              _VALUE, max_size=4))
def test_the_query_is_written_exactly_as_httpx_writes_it(path: str, params: dict[str, object]) -> None:
    url = "https://acme.atlassian.net" + path
    # (no parameters adds nothing: httpx itself would drop the URL's own query for an empty mapping)
    expected = httpx.Request("GET", url, params=params or None).url
    assert str(httpx.Request("GET", with_query(url, params)).url) == str(expected)


async def test_a_test_transport_walks_the_same_send_as_production() -> None:
    """One HTTP path: any `Transport` gets the request through `exchange`, in the final form the
    production transport (aiohttp) gets it — URL, headers, body and the attempt's timeout."""
    import inspect

    from bot.atlassian.transport import Answer

    seen: list[tuple[str, str, dict[str, str], bytes | None, float]] = []

    class Recording:
        closed = False

        async def exchange(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None,
                           timeout: float) -> Answer:
            seen.append((method, url, dict(headers), body, timeout))
            return Answer(200, {"content-type": "application/json"}, b'{"ok": true}')

        async def aclose(self) -> None:
            pass

    async with Atlassian(SETTINGS, transport=Recording()) as http:
        reply = await http.call(Role.API, "POST", "/admin/v2/orgs/o/directories/-/users/search",
                                auth=Auth.ORG_KEY, json={"emails": ["a b@acme.com"]}, params={"q": "x y"})
    [(method, url, headers, body, timeout)] = seen
    assert reply.json() == {"ok": True} and method == "POST" and 0 < timeout <= 10
    assert url.endswith("/admin/v2/orgs/o/directories/-/users/search?q=x+y")
    assert headers["Authorization"].startswith("Bearer ") and headers["Content-Type"] == "application/json"
    assert body == b'{"emails":["a b@acme.com"]}'
    assert "isinstance" not in inspect.getsource(Atlassian._send_now)  # no branch for one kind of transport
