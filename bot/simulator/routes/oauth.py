"""OAuth 2.0 in the simulated world: the token host's client-credentials exchange, the API's
`/oauth/token/accessible-resources`, and how the gateway reads a Bearer access token.

Sources: a service account's OAuth 2.0 credential is a client id and secret exchanged at
`POST https://auth.atlassian.com/oauth/token` for an access token valid 60 minutes, sent as Bearer to
`https://api.atlassian.com/ex/{product}/{cloudId}/...`
(https://support.atlassian.com/user-management/docs/create-oauth-2-0-credential-for-service-accounts);
the answer carries `access_token`, `expires_in`, `scope` and `token_type` and accessible-resources lists
`{id, name, url, scopes, avatarUrl}` per site (https://developer.atlassian.com/cloud/confluence/oauth-2-3lo-apps/;
the same fields in confluence.js' `AccessibleResource`). Error bodies: `bodies.py` (what is inferred is
marked there). Access tokens are JWTs whose claims hold `exp` (RFC 7519); the simulator's are unsigned
look-alikes: nothing here trusts a token's claims, only its own record of it.
"""

from __future__ import annotations

import base64
import contextlib
import json
import secrets
import time
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from bot.simulator import bodies
from bot.simulator.credentials import AuthKind, Presented
from bot.simulator.runtime import RUNTIME
from bot.simulator.state import OAuthClient, OAuthToken, World, parse_time, utcnow

TOKEN_PATH = "/oauth/token"
RESOURCES_PATH = "/oauth/token/accessible-resources"
TOKEN_LIFETIME_S = 3600  # "valid for 60 minutes" (the service-account page above)
_TOKEN_HEADERS = {"Cache-Control": "no-store", "Pragma": "no-cache"}  # RFC 6749 §5.1


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def jwt_text(claims: dict[str, Any]) -> str:
    """An access-token look-alike: header.claims.signature, each base64url (the signature is random)."""
    header = {"alg": "RS256", "typ": "JWT", "kid": "simulator"}
    return ".".join((_b64(json.dumps(header).encode()), _b64(json.dumps(claims).encode()),
                     _b64(secrets.token_bytes(32))))


def mint(world: World, client: OAuthClient) -> OAuthToken:
    now = int(time.time())
    value = jwt_text({"iss": "https://auth.atlassian.com", "sub": client.account_id, "aud": "api.atlassian.com",
                      "iat": now, "exp": now + TOKEN_LIFETIME_S, "scope": " ".join(client.scopes),
                      "client_id": client.client_id})
    expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + TOKEN_LIFETIME_S))
    token = OAuthToken(value=value, account_id=client.account_id, scopes=list(client.scopes), expires_at=expires,
                       sites=None if client.sites is None else list(client.sites))
    world.oauth_tokens.append(token)
    return token


async def _client_credentials(request: web.Request) -> tuple[dict[str, str], str | None, str | None]:
    """(the request's parameters, client id, secret): form or JSON body, or HTTP Basic client auth."""
    raw = await request.read()
    params: dict[str, str] = {}
    if request.content_type == "application/json":
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            data = {}
        params = {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
    else:
        params = dict(parse_qsl(raw.decode("utf-8", "replace")))
    client_id, secret = params.get("client_id"), params.get("client_secret")
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("basic ") and not client_id:
        with contextlib.suppress(ValueError):
            client_id, _, secret = base64.b64decode(header[6:].strip()).decode().partition(":")
    return params, client_id, secret


async def token_endpoint(request: web.Request, world: World) -> web.Response:
    if request.method != "POST":
        return bodies.method_not_allowed(request.method)
    params, client_id, secret = await _client_credentials(request)
    if params.get("grant_type") != "client_credentials":
        return bodies.raw(bodies.OAUTH_UNSUPPORTED_GRANT_BODY, status=400, headers=_TOKEN_HEADERS)
    if not client_id or not secret:
        return bodies.raw(bodies.OAUTH_INVALID_CLIENT_BODY, status=401, headers=_TOKEN_HEADERS)
    client = world.oauth_client(client_id)
    if client is None or client.revoked or not secrets.compare_digest(client.secret, secret):
        return bodies.raw(bodies.OAUTH_ACCESS_DENIED_BODY, status=401, headers=_TOKEN_HEADERS)
    if not client.client_credentials_grant:
        return bodies.raw(bodies.OAUTH_UNAUTHORIZED_CLIENT_BODY, status=403, headers=_TOKEN_HEADERS)
    token = mint(world, client)
    return bodies.json_response({"access_token": token.value, "expires_in": TOKEN_LIFETIME_S,
                                 "scope": " ".join(token.scopes), "token_type": "Bearer"}, headers=_TOKEN_HEADERS)


async def handle_auth(request: web.Request) -> web.Response:
    """The token host (`ATLASSIAN_AUTH_URL`): only the token endpoint."""
    if request.path.rstrip("/") == TOKEN_PATH:
        return await token_endpoint(request, request.app[RUNTIME].world)
    return bodies.raw('{"error":"not_found"}', status=404)  # [I]


def bearer_token(world: World, presented: Presented) -> OAuthToken | None:
    """The live OAuth token a Bearer header carries (None: unknown or expired)."""
    if presented.kind is not AuthKind.BEARER or not presented.bearer:
        return None
    token = world.oauth_token(presented.bearer)
    if token is None or parse_time(token.expires_at) <= utcnow():
        return None
    return token


def known_bearer(world: World, presented: Presented) -> bool:
    """True when the Bearer value is an OAuth token the world issued (live or expired)."""
    return presented.kind is AuthKind.BEARER and bool(presented.bearer) and \
        world.oauth_token(presented.bearer or "") is not None


def accessible_resources(request: web.Request, world: World, presented: Presented, site_url: str) -> web.Response:
    """The sites the token reaches, with its scopes there; an unknown or expired token gets the gateway's
    401 envelope (docs/atlassian.md §8 A8: `{code, message}` [I])."""
    if request.method not in ("GET", "HEAD"):
        return bodies.method_not_allowed(request.method)
    token = bearer_token(world, presented)
    if token is None:
        return bodies.raw(bodies.GATEWAY_UNAUTHORIZED_BODY, status=401)
    own = world.site.cloud_id
    listed = []
    for cloud_id in token.sites if token.sites is not None else [own]:
        name = world.site.name if cloud_id == own else f"site-{cloud_id[:8]}"
        url = site_url if cloud_id == own else f"https://{name}.atlassian.net"
        listed.append({"id": cloud_id, "name": name, "url": url, "scopes": list(token.scopes),
                       "avatarUrl": bodies.SITE_AVATAR_URL})
    return bodies.json_response(listed)
