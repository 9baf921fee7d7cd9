"""Replay layer: calls made as the actor, with the token given on stdin or in the Slack modal.

The same identity call goes to the site URL, to the gateway and, as a control, with no
credential at all. Comparing the three tells apart a scoped token on the site URL (gateway
accepts, site refuses: FACTS §1.5), a rejected credential (both refuse; the site's answer
equals the anonymous one: §0, §1.1), the anonymous fallback (200 `type: anonymous`: §1.1)
and a good credential without Confluence access (gateway authenticates, Confluence refuses:
§1.8). Only GET/HEAD are replayed (DESIGN.md Security). The three calls start as soon as the
actor's email (and, for the gateway, the cloudId) is known; `replay.credential` judges them.
"""

from __future__ import annotations

from bot.atlassian import Auth, Reply, Role
from bot.atlassian.signatures import Kind, classify
from bot.facts import (
    ACTOR,
    ACTOR_EMAIL,
    ANONYMOUS_REPLAY,
    CREDENTIAL,
    GATEWAY_REPLAY,
    SITE,
    SITE_REPLAY,
    TOKENS,
    AcceptedAt,
    Claim,
    Credential,
    Observation,
    ReplayKind,
    Unknown,
)
from bot.model import CauseCode, Confidence, Finding, StepResult
from bot.probes.registry import Need, ProbeContext, probe
from bot.probes.target import caller_on_site
from bot.request import READ_ONLY

IDENTITY_PATH = "/wiki/rest/api/user/current"
EXTERNAL_USERS_PAGE = "admin.atlassian.com > Security > External users"
OAUTH_ELSEWHERE = "the credential is OAuth 2.0: the oauth.* steps test it"


def _oauth(ctx: ProbeContext) -> bool:
    """An OAuth 2.0 credential is never sent as Basic email:token: the oauth layer replays it."""
    return ctx.request.actor_secret is not None and ctx.request.actor_secret.is_oauth


def observe(reply: Reply) -> Observation | None:
    """What an identity call showed; None when the answer is not evidence (5xx, 429, unparsable 200)."""
    body = reply.json()
    if reply.status == 200 and isinstance(body, dict) and body.get("type") in ("known", "anonymous"):
        who = body.get("displayName") or body.get("publicName") or body.get("accountId") or "?"
        if body["type"] == "anonymous":
            return Observation(200, ReplayKind.ANONYMOUS, "anonymous", "anonymous (credential ignored)", reply.text)
        return Observation(200, ReplayKind.KNOWN, "known", f"accepted as {who}", reply.text,
                           is_guest=bool(body.get("isGuest")))
    if reply.status >= 500 or reply.status == 429 or 200 <= reply.status < 300:
        return None
    sig = classify(reply.status, reply.text)
    return Observation(reply.status, ReplayKind.REFUSED, sig.kind.value, f"{reply.status}: {sig.label}", reply.text)


async def _identity_call(ctx: ProbeContext, role: Role, path: str, auth: Auth, email: str | None) -> Reply:
    params = {"expand": "operations"} if role is Role.SITE else None
    return await ctx.call(role, "GET", path, auth=auth, params=params, as_email=email)


@probe("replay.site", title="Actor's token at the site URL", needs={Need.ACTOR_TOKEN}, build=(ACTOR_EMAIL,),
       provides=(SITE_REPLAY,))
async def replay_site(ctx: ProbeContext) -> StepResult:
    if _oauth(ctx):
        return ctx.not_needed(OAUTH_ELSEWHERE)
    email = (await ctx.require(ACTOR_EMAIL)).email
    reply = await _identity_call(ctx, Role.SITE, IDENTITY_PATH, Auth.ACTOR, email)
    obs = observe(reply)
    if obs is None:
        return ctx.unreadable("the site's answer", reply)
    ctx.provide(SITE_REPLAY, obs)
    return ctx.passed(obs.label) if obs.kind is ReplayKind.KNOWN else ctx.failed(obs.label)


@probe("replay.gateway", title="Actor's token at the API gateway", needs={Need.ACTOR_TOKEN},
       build=(ACTOR_EMAIL, SITE), provides=(GATEWAY_REPLAY,))
async def replay_gateway(ctx: ProbeContext) -> StepResult:
    if _oauth(ctx):
        return ctx.not_needed(OAUTH_ELSEWHERE)
    email = (await ctx.require(ACTOR_EMAIL)).email
    site = await ctx.require(SITE)
    reply = await _identity_call(ctx, Role.API, ctx.http.gateway_path(site.cloud_id, IDENTITY_PATH), Auth.ACTOR, email)
    obs = observe(reply)
    if obs is None:
        return ctx.unreadable("the gateway's answer", reply)
    ctx.provide(GATEWAY_REPLAY, obs)
    if obs.signature == Kind.SCOPE_MISMATCH:
        return ctx.passed(f"authenticated (the token is scoped and lacks the read:confluence-user scope: {obs.label})")
    return ctx.passed(obs.label) if obs.kind is ReplayKind.KNOWN else ctx.failed(obs.label)


@probe("replay.anonymous", title="Control call without any credential", needs={Need.ACTOR_TOKEN},
       provides=(ANONYMOUS_REPLAY,))
async def replay_anonymous(ctx: ProbeContext) -> StepResult:
    if _oauth(ctx):
        return ctx.not_needed(OAUTH_ELSEWHERE)
    reply = await _identity_call(ctx, Role.SITE, IDENTITY_PATH, Auth.NONE, None)
    obs = observe(reply)
    if obs is None:
        return ctx.unreadable("the site's answer", reply)
    ctx.provide(ANONYMOUS_REPLAY, obs)
    if obs.kind is ReplayKind.ANONYMOUS:
        return ctx.passed("the site allows anonymous access: a rejected credential can look like a 200")
    return ctx.passed(f"anonymous callers get {obs.label}")


@probe("replay.credential", title="Actor's credential is accepted", needs={Need.ACTOR_TOKEN},
       judge=(SITE_REPLAY, GATEWAY_REPLAY, ANONYMOUS_REPLAY, ACTOR, SITE), provides=(CREDENTIAL,))
async def replay_credential(ctx: ProbeContext) -> StepResult:
    if _oauth(ctx):
        return ctx.not_needed(OAUTH_ELSEWHERE)
    site = await ctx.require(SITE_REPLAY)
    gateway, anonymous = await ctx.fact(GATEWAY_REPLAY), await ctx.fact(ANONYMOUS_REPLAY)
    return await _judge(ctx, site, None if isinstance(gateway, Unknown) else gateway,
                        None if isinstance(anonymous, Unknown) else anonymous)


async def _judge(ctx: ProbeContext, site: Observation, gw: Observation | None,
                 anon: Observation | None) -> StepResult:
    on_site = caller_on_site(ctx.request, ctx.settings)
    gw_auth = gw is not None and gw.signature in ("known", Kind.SCOPE_MISMATCH, Kind.HEADLINE_403)
    same_as_anon = anon is not None and anon.status == site.status and anon.body == site.body
    if Kind.PASSWORD in (site.signature, gw.signature if gw else None):
        return ctx.failed(site.label, await _f(ctx, CauseCode.PASSWORD_USED, Confidence.CONFIRMED,
                                         "The secret given is a password or an org API key, not an API token "
                                         "(401 'Basic authentication with passwords is deprecated')."))
    if site.signature == Kind.BASIC_DISABLED:
        return await _api_tokens_refused(ctx, site)
    if site.signature == Kind.IP_ALLOWLIST:
        return ctx.failed(site.label, await _f(ctx, CauseCode.IP_NOT_ALLOWLISTED, Confidence.CONFIRMED,
                                               "The site rejected the request's IP address (allowlist)."))
    if site.kind is ReplayKind.KNOWN:
        return await _accepted_at_site(ctx, site)
    if site.signature == Kind.SCOPED_ON_SITE or (site.signature in ("anonymous", Kind.HEADLINE_403) and gw_auth):
        return await _refused_at_site_only(ctx, site, gw, gw_auth, on_site)
    if (gw is not None and gw.signature == Kind.GATEWAY_UNAUTHORIZED) or site.kind is ReplayKind.ANONYMOUS:
        return await _rejected(ctx, site, gw, same_as_anon)
    return ctx.warned(f"site: {site.label}; gateway: {gw.label if gw else 'not checked'} — not decisive")


async def _api_tokens_refused(ctx: ProbeContext, site: Observation) -> StepResult:
    """'Basic Authentication has been disabled on this instance.' (docs/atlassian.md §8 A1): for an account
    external to the organization, its external-user policy; for a managed one, an authentication policy
    turning API tokens off. Unknown claim: the policy for managed users is likely, the other possible."""
    identity = await ctx.fact(ACTOR)
    claim = None if isinstance(identity, Unknown) else identity.claim
    refused = "The site refuses the actor's API token: 'Basic Authentication has been disabled on this instance.'"
    if claim is Claim.UNMANAGED:
        return ctx.failed(site.label, await _f(ctx, CauseCode.API_TOKEN_BLOCKED, Confidence.CONFIRMED,
                                               f"{refused} The account is external to the organization: its "
                                               "external-user policy blocks API tokens."))
    if claim is Claim.MANAGED:
        return ctx.failed(site.label, await _f(ctx, CauseCode.API_TOKEN_AUTH_DISABLED, Confidence.CONFIRMED,
                                               f"{refused} The account is managed by the organization: an "
                                               "authentication policy turns API tokens off for it."))
    return ctx.failed(site.label, await _f(ctx, CauseCode.API_TOKEN_AUTH_DISABLED, Confidence.LIKELY,
                                           f"{refused} An authentication policy turns API tokens off (whether the "
                                           "organization manages the account was not read)."), await _f(
        ctx, CauseCode.API_TOKEN_BLOCKED, Confidence.POSSIBLE,
        f"If the account is external to the organization, {EXTERNAL_USERS_PAGE} may block its API tokens."))


async def _accepted_at_site(ctx: ProbeContext, site: Observation) -> StepResult:
    ctx.provide(CREDENTIAL, Credential(AcceptedAt.SITE))
    if site.is_guest:
        return ctx.failed(f"{site.label}, but as a guest", await _f(
            ctx, CauseCode.GUEST_ACCESS_ONLY, Confidence.CONFIRMED,
            "The credential works, and Confluence reports the account as a guest (isGuest: true): guests "
            "reach only their one assigned space."))
    return ctx.passed(f"{site.label} at the site URL (Basic email:token works)")


async def _refused_at_site_only(ctx: ProbeContext, site: Observation, gw: Observation | None, gw_auth: bool,
                                on_site: bool | None) -> StepResult:
    if gw is None or not gw_auth:
        return await _rejected(ctx, site, gw, False) if gw is not None else ctx.warned(
            f"site: {site.label}; the gateway could not be checked, so a scoped token cannot be told from a dead one")
    ctx.provide(CREDENTIAL, Credential(AcceptedAt.GATEWAY))
    findings: list[Finding] = []
    summary = f"accepted at the gateway ({gw.label}), refused at the site ({site.label})"
    if on_site is not False:
        confidence = Confidence.CONFIRMED if on_site else Confidence.LIKELY
        where = "the failing call goes to the site URL" if on_site else "if the caller uses the site URL"
        findings.append(await _f(ctx, CauseCode.SCOPED_TOKEN_SITE_URL, confidence,
                                 f"The gateway accepts the token but the site URL refuses it ({site.label}): it is "
                                 f"a scoped token, and {where}."))
    if gw.signature == Kind.HEADLINE_403:
        findings.append(await _f(ctx, CauseCode.NO_CONFLUENCE_ACCESS, Confidence.CONFIRMED,
                                 "The gateway authenticated the token, and Confluence still refuses the account "
                                 "(403 'caller cannot access Confluence'): the credential is good, the account has "
                                 "no Confluence access."))
    if not findings:
        return ctx.passed(summary + "; the failing call already uses the gateway")
    return ctx.failed(summary, *findings)


async def _rejected(ctx: ProbeContext, site: Observation, gw: Observation | None, same_as_anon: bool) -> StepResult:
    parts = [f"site: {site.label}"]
    if site.kind is ReplayKind.ANONYMOUS:
        parts.append("the site served the anonymous view: it ignored the credential (anonymous fallback)")
    elif same_as_anon:
        parts.append("byte-identical to the call without any credential")
    if gw is not None:
        parts.append(f"gateway: {gw.label}")
    detail = "; ".join(parts)
    identity = await ctx.fact(ACTOR)
    rejected = (f"Neither the site nor the gateway accepts the actor's credential ({detail}). The token is wrong, "
                "revoked or expired, belongs to another email, or its account is deactivated.")
    if not isinstance(identity, Unknown) and identity.claim is Claim.UNMANAGED:
        # §8 A1: for an account the org does not manage, a "block API tokens for external users" policy refuses
        # its tokens the same way, and no API exposes that policy: a rejected token is not proven.
        return ctx.failed(detail, await _f(
            ctx, CauseCode.CREDENTIAL_REJECTED, Confidence.LIKELY,
            rejected + f" The account is external to the organization, so a policy blocking API tokens for external "
            f"users would look the same: check {EXTERNAL_USERS_PAGE}."), await _f(
            ctx, CauseCode.API_TOKEN_BLOCKED, Confidence.POSSIBLE,
            f"The account is external; if {EXTERNAL_USERS_PAGE} blocks API token access, its tokens are refused "
            "exactly like this."))
    return ctx.failed(detail, await _f(ctx, CauseCode.CREDENTIAL_REJECTED, Confidence.CONFIRMED, rejected))


async def _f(ctx: ProbeContext, cause: CauseCode, confidence: Confidence, detail: str) -> Finding:
    facts: dict[str, str] = {}
    site, failing = await ctx.fact(SITE), ctx.request.failing
    if not isinstance(site, Unknown):
        path = failing.path if failing and failing.path.startswith("/wiki") else "/wiki/rest/api/..."
        facts["gateway_url"] = f"{site.gateway}{path}"
    return ctx.finding(cause, confidence, detail, **facts)


@probe("replay.endpoint", title="Failing call, replayed as the actor", needs={Need.ACTOR_TOKEN, Need.ENDPOINT},
       build=(ACTOR_EMAIL,), judge=(TOKENS,))
async def replay_endpoint(ctx: ProbeContext) -> StepResult:
    failing = ctx.request.failing
    assert failing is not None
    if _oauth(ctx):
        return ctx.not_needed(OAUTH_ELSEWHERE)
    if failing.method not in READ_ONLY:
        return ctx.skipped(f"{failing.method} is analysed, not sent: the replay only sends GET/HEAD")
    email = (await ctx.require(ACTOR_EMAIL)).email
    role = Role(ctx.http.guard.role_of(failing.url))
    reply = await ctx.call(role, failing.method, failing.url, auth=Auth.ACTOR, as_email=email)
    if 200 <= reply.status < 300:
        return await _works_now(ctx, reply.status)
    if reply.status >= 500 or reply.status == 429:
        return ctx.unreadable("the replayed call", reply)
    sig = classify(reply.status, reply.text)
    if sig.cause is not None and sig.confidence is not None and sig.kind is not Kind.BASIC_DISABLED:
        # (a refused API token by policy is judged by replay.credential, which knows whose policy)
        return ctx.failed(f"{reply.status}: {sig.label}", ctx.finding(
            sig.cause, Confidence.CONFIRMED,
            f"Replayed as the actor, {failing.describe()} answered {sig.label}.",
            path=failing.path))
    return ctx.failed(f"{reply.status}: {sig.label}")


async def _works_now(ctx: ProbeContext, status: int) -> StepResult:
    reported = ctx.request.observed_status
    if reported not in (401, 403, 404):
        return ctx.passed(f"{status}: the call works as the actor")
    tokens = await ctx.fact(TOKENS)
    never_used = "" if isinstance(tokens, Unknown) or not tokens.never_used else (
        " — and the admin API shows the token was never used")
    return ctx.warned(
        f"{status} with the token sent as Basic email:token, while the caller got {reported}",
        ctx.finding(CauseCode.CREDENTIAL_REJECTED, Confidence.CONFIRMED,
                    f"The same call succeeds ({status}) when the actor's token is sent as Basic email:token, "
                    f"while the caller got {reported}: the failing caller is not sending this credential that "
                    f"way{never_used}."))
