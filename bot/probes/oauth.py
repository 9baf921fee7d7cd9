"""OAuth layer: the actor's OAuth 2.0 credential — a service account's client credentials exchanged
for an access token, or an access token given as is (docs/credentials.md).

What each probe asks: the token host (`POST {auth}/oauth/token`), `GET {api}/oauth/token/accessible-resources`
(does the token reach this site, with which scopes: docs/atlassian.md §2.1), the identity call through
the gateway with Bearer, the same at the site URL as a contrast (the site accepts no OAuth token,
§2.2), and the failing endpoint through the gateway. A JWT's `exp` claim is read without verifying
the token: it may name the expiry, it proves nothing else. Only GET/HEAD are replayed.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from urllib.parse import urlsplit

from bot.atlassian import Auth, Reply, Role
from bot.atlassian.clients import TOKEN_PATH
from bot.atlassian.signatures import Kind, classify
from bot.facts import (
    OAUTH_GATEWAY,
    OAUTH_RESOURCES,
    OAUTH_SITE,
    OAUTH_TOKEN,
    SITE,
    AccessToken,
    Observation,
    ReplayKind,
    Resources,
    TokenSource,
    Unknown,
)
from bot.model import StepResult, utcnow
from bot.observations import (
    Answer,
    EndpointReplay,
    OAuthAnswer,
    OAuthRefused,
    OAuthResources,
    OAuthToken,
    Where,
)
from bot.openapi.scopes import scopes_for
from bot.probes.registry import ProbeContext, probe
from bot.probes.replay import IDENTITY_PATH, observe_identity
from bot.probes.target import GATEWAY_PREFIX, caller_on_site
from bot.request import READ_ONLY, CheckRequest, SecretKind

RESOURCES_PATH = "/oauth/token/accessible-resources"
# RFC 6749 §5.2 error codes that say the client itself is refused (docs/credentials.md)
CLIENT_REFUSALS = ("invalid_client", "access_denied", "unauthorized_client", "invalid_grant")
NO_OAUTH = "no OAuth 2.0 credential was given (only --client-credentials-stdin or an access token uses these steps)"


def is_oauth(request: CheckRequest) -> bool:
    return request.actor_secret is not None and request.actor_secret.is_oauth


def token_expiry(token: str) -> datetime | None:
    """The `exp` claim of a JWT, unverified (RFC 7519 §4.1.4); None when there is none to read."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return datetime.fromtimestamp(float(claims["exp"]), UTC)
    except (IndexError, ValueError, KeyError, TypeError, OverflowError):
        return None


@probe("oauth.token", title="OAuth 2.0 access token", provides=(OAUTH_TOKEN,))
async def oauth_token(ctx: ProbeContext) -> StepResult:
    secret = ctx.request.actor_secret
    if secret is None or not secret.is_oauth:
        return ctx.not_needed(NO_OAUTH)
    if secret.kind is SecretKind.ACCESS_TOKEN:
        token = AccessToken(TokenSource.GIVEN, token_expiry(secret.token.reveal()))
        ctx.provide(OAUTH_TOKEN, token)
        ctx.observe(_token_seen(token))
        return ctx.passed(f"an access token was given{_expiry_note(token)}")
    reply = await ctx.call(Role.AUTH, "POST", TOKEN_PATH, auth=Auth.CLIENT, form={"grant_type": "client_credentials"})
    body = reply.json()
    if reply.status == 200 and isinstance(body, dict) and isinstance(body.get("access_token"), str):
        ctx.http.adopt_access_token(body["access_token"])  # masked from here on, before anything shows it
        scope = body.get("scope")
        token = AccessToken(TokenSource.EXCHANGED, token_expiry(body["access_token"]),
                            tuple(scope.split()) if isinstance(scope, str) else None)
        ctx.provide(OAUTH_TOKEN, token)
        ctx.observe(_token_seen(token))
        granted = f"; scopes {', '.join(token.granted)}" if token.granted else ""
        return ctx.passed(f"the client credentials were exchanged for an access token{_expiry_note(token)}{granted}")
    error = body.get("error") if isinstance(body, dict) else None
    if reply.status in (400, 401, 403) and error in CLIENT_REFUSALS:
        said = f"{reply.status} {error}"
        ctx.observe(OAuthRefused(said))
        return ctx.failed(f"the token host refused the client credentials ({said})")
    return ctx.unreadable("the token host's answer", reply)


def _token_seen(token: AccessToken) -> OAuthToken:
    when = None if token.expires_at is None else f"{token.expires_at:%Y-%m-%d %H:%M} UTC"
    return OAuthToken(expired=token.expires_at is not None and token.expires_at <= utcnow(), expiry=when)


def _expiry_note(token: AccessToken) -> str:
    if token.expires_at is None:
        return " (its expiry cannot be read from it)"
    when = f"{token.expires_at:%Y-%m-%d %H:%M} UTC"
    return f"; its claims say it expire{'d' if token.expires_at <= utcnow() else 's'} {when}"


@probe("oauth.resources", title="Sites the OAuth token reaches", build=(OAUTH_TOKEN,), judge=(SITE,),
       provides=(OAUTH_RESOURCES,))
async def oauth_resources(ctx: ProbeContext) -> StepResult:
    if not is_oauth(ctx.request):
        return ctx.not_needed(NO_OAUTH)
    await ctx.require(OAUTH_TOKEN)
    reply = await ctx.call(Role.API, "GET", RESOURCES_PATH, auth=Auth.ACTOR_BEARER)
    body = reply.json()
    if reply.status in (401, 403):
        ctx.provide(OAUTH_RESOURCES, Resources(reply.status, False, (), ()))
        ctx.observe(OAuthResources(reply.status, False))
        return ctx.failed(f"{reply.status}: the token is not accepted")
    if reply.status != 200 or not isinstance(body, list) or not all(isinstance(r, dict) for r in body):
        return ctx.unreadable("the accessible resources", reply)
    site = await ctx.fact(SITE)
    if isinstance(site, Unknown):
        return ctx.skipped(f"the site's cloudId is unknown ({site.reason}), so its entry cannot be found")
    mine = next((r for r in body if r.get("id") == site.cloud_id), None)
    scopes = tuple(str(s) for s in (mine or {}).get("scopes") or [])
    listed = tuple(f"{r.get('name', '?')} ({r.get('url', '?')})" for r in body)
    ctx.provide(OAUTH_RESOURCES, Resources(200, mine is not None, scopes, listed))
    ctx.observe(OAuthResources(200, mine is not None, listed))
    if mine is None:
        return ctx.failed(f"this site is not among the {len(body)} site(s) listed: {', '.join(listed) or 'none'}")
    return ctx.passed(f"this site is listed, with scopes {', '.join(scopes) or '(none)'}")


async def _identity(ctx: ProbeContext, role: Role, path: str, *, at_site: bool = False) -> Observation | Reply:
    reply = await ctx.call(role, "GET", path, auth=Auth.ACTOR_BEARER, bearer_at_site=at_site)
    seen = observe_identity(reply, Where.SITE if at_site else Where.GATEWAY)
    if seen is None:
        return reply
    ctx.observe(OAuthAnswer(seen.where, seen.status, seen.answer, seen.kind, seen.label))
    kind = {Answer.KNOWN: ReplayKind.KNOWN, Answer.GUEST: ReplayKind.KNOWN, Answer.ANONYMOUS: ReplayKind.ANONYMOUS,
            Answer.REFUSED: ReplayKind.REFUSED}[seen.answer]
    return Observation(seen.status, kind, seen.kind.value if seen.kind else seen.answer.value, seen.label, reply.text,
                       is_guest=seen.answer is Answer.GUEST)


@probe("oauth.gateway", title="OAuth token at the API gateway", build=(OAUTH_TOKEN, SITE), provides=(OAUTH_GATEWAY,))
async def oauth_gateway(ctx: ProbeContext) -> StepResult:
    if not is_oauth(ctx.request):
        return ctx.not_needed(NO_OAUTH)
    await ctx.require(OAUTH_TOKEN)
    site = await ctx.require(SITE)
    seen = await _identity(ctx, Role.API, ctx.http.gateway_path(site.cloud_id, IDENTITY_PATH))
    if isinstance(seen, Reply):
        return ctx.unreadable("the gateway's answer", seen)
    ctx.provide(OAUTH_GATEWAY, seen)
    if seen.signature == Kind.SCOPE_MISMATCH:
        return ctx.passed(f"authenticated (the token lacks this call's scope: {seen.label})")
    return ctx.passed(seen.label) if seen.kind is ReplayKind.KNOWN else ctx.failed(seen.label)


@probe("oauth.site", title="OAuth token at the site URL (contrast)", build=(OAUTH_TOKEN,), provides=(OAUTH_SITE,))
async def oauth_site(ctx: ProbeContext) -> StepResult:
    if not is_oauth(ctx.request):
        return ctx.not_needed(NO_OAUTH)
    await ctx.require(OAUTH_TOKEN)
    seen = await _identity(ctx, Role.SITE, IDENTITY_PATH, at_site=True)
    if isinstance(seen, Reply):
        return ctx.unreadable("the site's answer", seen)
    ctx.provide(OAUTH_SITE, seen)
    if seen.kind is ReplayKind.KNOWN:
        return ctx.passed(f"{seen.label} (the site accepted an OAuth token)")
    return ctx.passed(f"refused, as the site refuses every OAuth token ({seen.label})")


@probe("oauth.credential", title="OAuth credential is accepted",
       judge=(OAUTH_TOKEN, OAUTH_RESOURCES, OAUTH_GATEWAY, OAUTH_SITE, SITE))
async def oauth_credential(ctx: ProbeContext) -> StepResult:
    if not is_oauth(ctx.request):
        return ctx.not_needed(NO_OAUTH)
    token = await ctx.require(OAUTH_TOKEN)
    resources, gateway = await ctx.fact(OAUTH_RESOURCES), await ctx.fact(OAUTH_GATEWAY)
    res = None if isinstance(resources, Unknown) else resources
    gw = None if isinstance(gateway, Unknown) else gateway
    refused = (res is not None and res.status != 200) or (
        gw is not None and gw.signature == Kind.GATEWAY_UNAUTHORIZED)
    # what the token host, accessible-resources and the gateway answered is the judge's to weigh
    expired = token.expires_at is not None and token.expires_at <= utcnow()
    if expired and refused:
        return ctx.failed(f"expired {token.expires_at:%Y-%m-%d %H:%M} UTC (its exp claim), and refused")
    if res is not None and res.status == 200 and not res.site_listed:
        return ctx.failed("the token is good, but this site is not among its resources")
    if refused:
        return ctx.failed(_refusals(res, gw))
    if gw is None:
        return ctx.warned("the gateway could not be checked: whether the token works there is not known")
    site_seen = await ctx.fact(OAUTH_SITE)
    contrast = "" if isinstance(site_seen, Unknown) else f"; at the site URL: {site_seen.label}"
    if gw.signature == Kind.HEADLINE_403:
        return ctx.failed(f"authenticated at the gateway, refused by Confluence ({gw.label})")
    summary = f"at the gateway: {gw.label}{contrast}"
    return ctx.failed(summary) if caller_on_site(ctx.request, ctx.settings) else ctx.passed(summary)


def _refusals(res: Resources | None, gw: Observation | None) -> str:
    parts = []
    if res is not None and res.status != 200:
        parts.append(f"accessible-resources answered {res.status}")
    if gw is not None and gw.kind is ReplayKind.REFUSED:
        parts.append(f"the gateway answered {gw.label}")
    return " and ".join(parts) or "the token was refused"


@probe("oauth.endpoint", title="Failing call through the gateway, with the OAuth token",
       build=(OAUTH_TOKEN, SITE))
async def oauth_endpoint(ctx: ProbeContext) -> StepResult:
    failing = ctx.request.failing
    if not is_oauth(ctx.request) or failing is None:
        return ctx.not_needed(NO_OAUTH if failing else "no failing endpoint given")
    if failing.method not in READ_ONLY:
        return ctx.skipped(f"{failing.method} is analysed, not sent: the replay only sends GET/HEAD")
    await ctx.require(OAUTH_TOKEN)
    site = await ctx.require(SITE)
    path = failing.path.split(GATEWAY_PREFIX, 1)[-1].split("/", 1)[-1] if failing.path.startswith(GATEWAY_PREFIX) \
        else failing.path.lstrip("/")
    query = urlsplit(failing.url).query
    target = ctx.http.gateway_path(site.cloud_id, "/" + path) + (f"?{query}" if query else "")
    reply = await ctx.call(Role.API, failing.method, target, auth=Auth.ACTOR_BEARER)
    if reply.status >= 500 or reply.status == 429:
        return ctx.unreadable("the replayed call", reply)
    if 200 <= reply.status < 300:
        ctx.observe(EndpointReplay(failing.method, failing.path, reply.status, None, f"{reply.status}",
                                   through_gateway=True))
        return ctx.passed(f"{reply.status}: the call works through the gateway with this token")
    sig = classify(reply.status, reply.text)
    ctx.observe(EndpointReplay(failing.method, failing.path, reply.status, sig.kind, f"{reply.status}: {sig.label}",
                               through_gateway=True))
    return ctx.failed(f"{reply.status}: {sig.label}")


def scope_facts(request: CheckRequest, known: list[object]) -> dict[str, str]:
    """Fix facts for `missing_scope`: the scopes the failing operation accepts (Atlassian's OpenAPI
    files), and — where accessible-resources listed the token's scopes — which are missing."""
    failing = request.failing
    needed = scopes_for(failing.method, failing.path) if failing else None
    if needed is None:
        if failing is None:
            return {}
        return {"endpoint_scopes": f"Atlassian's OpenAPI description lists no scopes for {failing.method} "
                                   f"{failing.path}: check the endpoint's page in the REST reference."}
    out = {"endpoint_scopes": f"The operation {needed.describe()} (from Atlassian's OpenAPI description); "
                              "a credential needs every scope of one of those sets."}
    resources = next((k for k in known if isinstance(k, Resources) and k.site_listed), None)
    if resources is not None:
        missing = needed.missing(resources.scopes)
        out["held_scopes"] = (f"The credential holds {', '.join(resources.scopes) or 'no scope'} on this site "
                              f"(accessible-resources); missing: {', '.join(missing) or 'none'}.")
    return out
