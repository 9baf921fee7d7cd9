import io

import pytest

from bot.atlassian.hosts import HostGuard
from bot.errors import HostNotAllowed, UsageError
from bot.request import ActorSecret, CheckRequest, page_id_of, parse_actor, parse_endpoint, space_key_of

GUARD = HostGuard("https://acme.atlassian.net", "https://api.atlassian.com")


@pytest.mark.parametrize("text,expected", [
    ("Automation@Acme.com", "automation@acme.com"),
    ("mailto:a.b+c@acme.co.uk", "a.b+c@acme.co.uk"),
    ("5b10ac8d82e05b22cc7d4ef5", "5b10ac8d82e05b22cc7d4ef5"),
    ("557058:f1d2b3c4-aaaa-bbbb-cccc-0123456789ab", "557058:f1d2b3c4-aaaa-bbbb-cccc-0123456789ab"),
])
def test_parse_actor_accepts_emails_and_account_ids(text: str, expected: str) -> None:
    assert parse_actor(text) == expected


@pytest.mark.parametrize("text", ["", "bob", "bob@", "@acme.com", "<!channel>", "a@b", "5b10ac8d82e0"])
def test_parse_actor_refuses_garbage(text: str) -> None:
    with pytest.raises(UsageError, match="email address or an Atlassian account id"):
        parse_actor(text)


def test_parse_endpoint_resolves_paths_on_the_site() -> None:
    req = parse_endpoint("get /wiki/rest/api/space?limit=5", GUARD)
    assert (req.method, req.url) == ("GET", "https://acme.atlassian.net/wiki/rest/api/space?limit=5")
    gw = parse_endpoint("GET https://api.atlassian.com/ex/confluence/abc/wiki/api/v2/spaces", GUARD)
    assert gw.url.startswith("https://api.atlassian.com/ex/confluence/abc")
    assert parse_endpoint("/wiki/rest/api/content", GUARD).method == "GET"


@pytest.mark.parametrize("text", ["GET https://evil.example.com/wiki", "GET https://acme.atlassian.net@evil.com/x",
                                  "GET https://evil.com#@acme.atlassian.net/", "GET http://acme.atlassian.net/wiki",
                                  "GET https://acme.atlassian.net:8443/wiki", "GET https://user:pw@acme.atlassian.net/"])
def test_parse_endpoint_refuses_foreign_hosts(text: str) -> None:
    with pytest.raises(HostNotAllowed):
        parse_endpoint(text, GUARD)


@pytest.mark.parametrize("text", ["", "FETCH /wiki", "GET wiki/rest", "GET /a /b", "GET ftp://acme.atlassian.net/"])
def test_parse_endpoint_refuses_unparseable(text: str) -> None:
    with pytest.raises(UsageError):
        parse_endpoint(text, GUARD)


def test_actor_secret_forms() -> None:
    both = ActorSecret.parse("Bot@Acme.com:ATATT-xyz\n")
    assert both.email == "bot@acme.com" and both.token.reveal() == "ATATT-xyz"
    alone = ActorSecret.parse(io.StringIO("ATATT-only\n").readline())
    assert alone.email is None and alone.token.reveal() == "ATATT-only"
    with pytest.raises(UsageError):
        ActorSecret.parse("   ")


def test_space_and_page_come_from_flags_or_the_endpoint() -> None:
    assert space_key_of(CheckRequest("a@b.co", space="ENG")) == "ENG"
    assert space_key_of(CheckRequest("a@b.co", failing=parse_endpoint("/wiki/rest/api/space/OPS", GUARD))) == "OPS"
    assert space_key_of(CheckRequest("a@b.co", failing=parse_endpoint(
        "/wiki/rest/api/content?spaceKey=DOC", GUARD))) == "DOC"
    assert page_id_of(CheckRequest("a@b.co", failing=parse_endpoint("/wiki/api/v2/pages/123", GUARD))) == "123"
    assert page_id_of(CheckRequest("a@b.co", failing=parse_endpoint("/wiki/rest/api/content/77/child", GUARD))) == "77"
    assert page_id_of(CheckRequest("a@b.co")) is None


def test_describe_never_holds_the_secret() -> None:
    req = CheckRequest("a@b.co", actor_secret=ActorSecret.parse("a@b.co:SECRET-VALUE-1"), observed_status=403)
    assert "SECRET-VALUE-1" not in repr(req) and "SECRET-VALUE-1" not in str(req.describe())
    assert req.describe()["actor_token_given"] is True


@pytest.mark.parametrize("kwargs", [{"observed_status": 42}, {"space": "no spaces"}])
def test_bad_status_or_space_is_a_usage_error(kwargs: dict) -> None:
    with pytest.raises(UsageError):
        CheckRequest("a@b.co", **kwargs)


def test_an_access_token_is_told_by_its_shape_and_client_credentials_by_their_flag() -> None:
    from bot.request import SecretKind

    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJleHAiOjF9.c2lnbmF0dXJl"
    assert ActorSecret.parse(jwt + "\n").kind is SecretKind.ACCESS_TOKEN
    assert ActorSecret.parse(f"svc@acme.com:{jwt}").kind is SecretKind.ACCESS_TOKEN  # the email adds nothing
    assert ActorSecret.parse("ATATT3xFfGF0-abc=DEF").kind is SecretKind.API_TOKEN
    assert ActorSecret.parse("a.b").kind is SecretKind.API_TOKEN  # two segments: not a JWT
    client = ActorSecret.parse_client("Zq8sL1vT:ATOA9s3k:with-colon\n")
    assert (client.kind, client.client_id, client.token.reveal()) == (SecretKind.CLIENT_CREDENTIALS, "Zq8sL1vT",
                                                                      "ATOA9s3k:with-colon")
    assert ActorSecret.parse_client("id", "secret").client_id == "id"
    for bad in ("", "no-colon", ":secret", "id:", "id :secret"):
        with pytest.raises(UsageError):
            ActorSecret.parse_client(bad)
    described = CheckRequest("a@b.co", actor_secret=client).describe()
    assert described["credential"] == "client_credentials" and "ATOA9s3k" not in str(described)
