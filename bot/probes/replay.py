"""Replay layer: calls made as the actor, with the token given on stdin or in the Slack modal.

The same identity call goes to the site URL, to the gateway and, as a control, with no
credential at all. Comparing the three tells apart a scoped token on the site URL (gateway
accepts, site refuses: FACTS §1.5), a rejected credential (both refuse; the site's answer
equals the anonymous one: §0, §1.1), the anonymous fallback (200 `type: anonymous`: §1.1)
and a good credential without Confluence access (gateway authenticates, Confluence refuses:
§1.8). Only GET/HEAD are replayed (DESIGN.md Security).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from bot.atlassian import Auth, Reply, Role
from bot.atlassian.signatures import Kind, classify
from bot.model import CauseCode, Confidence, Finding, StepResult
from bot.probes.registry import Need, ProbeContext, probe
from bot.request import READ_ONLY

IDENTITY_PATH = "/wiki/rest/api/user/current"


@dataclass(frozen=True)
class Observation:
    status: int
    kind: str  # known, anonymous, or a signatures.Kind value
    label: str
    body: str
    user: dict[str, Any] | None = None


def _observe(reply: Reply) -> Observation:
    body = reply.json()
    if reply.status == 200 and isinstance(body, dict) and body.get("type") in ("known", "anonymous"):
        who = body.get("displayName") or body.get("publicName") or body.get("accountId") or "?"
        label = "anonymous (credential ignored)" if body["type"] == "anonymous" else f"accepted as {who}"
        return Observation(200, body["type"], label, reply.text, body)
    sig = classify(reply.status, reply.text)
    return Observation(reply.status, sig.kind.value, f"{reply.status}: {sig.label}", reply.text)


def _actor_email_or_skip(ctx: ProbeContext) -> StepResult | None:
    if ctx.http.actor_email:
        return None
    return ctx.skipped("the actor's email is unknown, so Basic email:token cannot be built: give "
                       "email:token on stdin (or set ATLASSIAN_ORG_API_KEY to look it up)")


@probe("replay.site", title="Actor's token at the site URL", needs={Need.ACTOR_TOKEN},
       wait_for=("identity.lookup",))
async def replay_site(ctx: ProbeContext) -> StepResult:
    if (skip := _actor_email_or_skip(ctx)) is not None:
        return skip
    reply = await ctx.call(Role.SITE, "GET", IDENTITY_PATH, auth=Auth.ACTOR, params={"expand": "operations"})
    obs = ctx.facts["replay_site"] = _observe(reply)
    return ctx.passed(obs.label) if obs.kind == "known" else ctx.failed(obs.label)


@probe("replay.gateway", title="Actor's token at the API gateway", needs={Need.ACTOR_TOKEN},
       after=("site.tenant",), wait_for=("identity.lookup",))
async def replay_gateway(ctx: ProbeContext) -> StepResult:
    if (skip := _actor_email_or_skip(ctx)) is not None:
        return skip
    path = ctx.http.gateway_path(ctx.facts["cloud_id"], IDENTITY_PATH)
    reply = await ctx.call(Role.API, "GET", path, auth=Auth.ACTOR)
    obs = ctx.facts["replay_gateway"] = _observe(reply)
    if obs.kind == Kind.SCOPE_MISMATCH:
        return ctx.passed(f"authenticated (the token is scoped and lacks the read:confluence-user scope: {obs.label})")
    return ctx.passed(obs.label) if obs.kind == "known" else ctx.failed(obs.label)


@probe("replay.anonymous", title="Control call without any credential", needs={Need.ACTOR_TOKEN})
async def replay_anonymous(ctx: ProbeContext) -> StepResult:
    reply = await ctx.call(Role.SITE, "GET", IDENTITY_PATH, params={"expand": "operations"})
    obs = ctx.facts["replay_anonymous"] = _observe(reply)
    if obs.kind == "anonymous":
        ctx.facts["site_anonymous"] = "yes"
        return ctx.passed("the site allows anonymous access: a rejected credential can look like a 200")
    return ctx.passed(f"anonymous callers get {obs.label}")


@probe("replay.credential", title="Actor's credential is accepted", needs={Need.ACTOR_TOKEN},
       wait_for=("replay.site", "replay.gateway", "replay.anonymous"))
async def replay_credential(ctx: ProbeContext) -> StepResult:
    site: Observation | None = ctx.facts.get("replay_site")
    gateway: Observation | None = ctx.facts.get("replay_gateway")
    anonymous: Observation | None = ctx.facts.get("replay_anonymous")
    if site is None:
        return ctx.skipped("the site replay did not run (see 'Actor's token at the site URL')")
    return _judge(ctx, site, gateway, anonymous)


def _judge(ctx: ProbeContext, site: Observation, gw: Observation | None, anon: Observation | None) -> StepResult:
    on_site = _caller_on_site(ctx)
    gw_auth = gw is not None and gw.kind in ("known", Kind.SCOPE_MISMATCH, Kind.HEADLINE_403)
    same_as_anon = anon is not None and anon.status == site.status and anon.body == site.body
    if Kind.PASSWORD in (site.kind, gw.kind if gw else None):
        return ctx.failed(site.label, _f(ctx, CauseCode.PASSWORD_USED, Confidence.CONFIRMED,
                                         "The secret given is a password or an org API key, not an API token "
                                         "(401 'Basic authentication with passwords is deprecated')."))
    if site.kind == Kind.BASIC_DISABLED:
        return ctx.failed(site.label, _f(ctx, CauseCode.API_TOKEN_BLOCKED, Confidence.CONFIRMED,
                                         "The site refuses the actor's API token: 'Basic Authentication has "
                                         "been disabled on this instance.' (an API-token access policy, §8 A1)."))
    if site.kind == Kind.IP_ALLOWLIST:
        return ctx.failed(site.label, _f(ctx, CauseCode.IP_NOT_ALLOWLISTED, Confidence.CONFIRMED,
                                         "The site rejected the request's IP address (allowlist)."))
    if site.kind == "known":
        return _accepted_at_site(ctx, site)
    if site.kind == Kind.SCOPED_ON_SITE or (site.kind in ("anonymous", Kind.HEADLINE_403) and gw_auth):
        return _refused_at_site_only(ctx, site, gw, gw_auth, on_site)
    if (gw is not None and gw.kind == Kind.GATEWAY_UNAUTHORIZED) or site.kind == "anonymous":
        return _rejected(ctx, site, gw, same_as_anon)
    return ctx.warned(f"site: {site.label}; gateway: {gw.label if gw else 'not checked'} — not decisive")


def _accepted_at_site(ctx: ProbeContext, site: Observation) -> StepResult:
    ctx.facts["credential_ok"] = "site"
    user = site.user or {}
    if user.get("isGuest"):
        return ctx.failed(f"{site.label}, but as a guest", _f(
            ctx, CauseCode.GUEST_ACCESS_ONLY, Confidence.CONFIRMED,
            "The credential works, and Confluence reports the account as a guest (isGuest: true): guests "
            "reach only their one assigned space (FACTS §1.9)."))
    return ctx.passed(f"{site.label} at the site URL (Basic email:token works)")


def _refused_at_site_only(ctx: ProbeContext, site: Observation, gw: Observation | None, gw_auth: bool,
                          on_site: bool | None) -> StepResult:
    if gw is None or not gw_auth:
        return _rejected(ctx, site, gw, False) if gw is not None else ctx.warned(
            f"site: {site.label}; the gateway was not checked, so a scoped token cannot be told from a dead one")
    ctx.facts["credential_ok"] = "gateway"
    findings: list[Finding] = []
    summary = f"accepted at the gateway ({gw.label}), refused at the site ({site.label})"
    if on_site is not False:
        confidence = Confidence.CONFIRMED if on_site else Confidence.LIKELY
        where = "the failing call goes to the site URL" if on_site else "if the caller uses the site URL"
        findings.append(_f(ctx, CauseCode.SCOPED_TOKEN_SITE_URL, confidence,
                           f"The gateway accepts the token but the site URL refuses it ({site.label}): it is a "
                           f"scoped token, and {where} (FACTS §1.5)."))
    if gw.kind == Kind.HEADLINE_403:
        findings.append(_f(ctx, CauseCode.NO_CONFLUENCE_ACCESS, Confidence.CONFIRMED,
                           "The gateway authenticated the token, and Confluence still refuses the account "
                           "(403 'caller cannot access Confluence'): the credential is good, the account has no "
                           "Confluence access (FACTS §1.8)."))
    if not findings:
        return ctx.passed(summary + "; the failing call already uses the gateway")
    return ctx.failed(summary, *findings)


def _rejected(ctx: ProbeContext, site: Observation, gw: Observation | None, same_as_anon: bool) -> StepResult:
    parts = [f"site: {site.label}"]
    if site.kind == "anonymous":
        parts.append("the site served the anonymous view: it ignored the credential (anonymous fallback, §1.1)")
    elif same_as_anon:
        parts.append("byte-identical to the call without any credential")
    if gw is not None:
        parts.append(f"gateway: {gw.label}")
    detail = "; ".join(parts)
    return ctx.failed(detail, _f(ctx, CauseCode.CREDENTIAL_REJECTED, Confidence.CONFIRMED,
                                 f"Neither the site nor the gateway accepts the actor's credential ({detail}). "
                                 "The token is wrong, revoked or expired, belongs to another email, or its account is "
                                 "deactivated."))


def _caller_on_site(ctx: ProbeContext) -> bool | None:
    failing = ctx.request.failing
    if failing is None:
        return None
    return urlsplit(failing.url).netloc == urlsplit(ctx.settings.site_url or "").netloc


def _f(ctx: ProbeContext, cause: CauseCode, confidence: Confidence, detail: str) -> Finding:
    facts: dict[str, str] = {}
    gateway, failing = ctx.facts.get("gateway"), ctx.request.failing
    if gateway:
        path = failing.path if failing and failing.path.startswith("/wiki") else "/wiki/rest/api/..."
        facts["gateway_url"] = f"{gateway}{path}"
    return ctx.finding(cause, confidence, detail, **facts)


@probe("replay.endpoint", title="Failing call, replayed as the actor", needs={Need.ACTOR_TOKEN, Need.ENDPOINT},
       wait_for=("identity.lookup", "replay.credential", "credential.api_tokens", "report.classify"))
async def replay_endpoint(ctx: ProbeContext) -> StepResult:
    failing = ctx.request.failing
    assert failing is not None
    if failing.method not in READ_ONLY:
        return ctx.skipped(f"{failing.method} is analysed, not sent: the replay only sends GET/HEAD")
    if (skip := _actor_email_or_skip(ctx)) is not None:
        return skip
    role = Role(ctx.http.guard.role_of(failing.url))
    reply = await ctx.call(role, failing.method, failing.url, auth=Auth.ACTOR)
    if 200 <= reply.status < 300:
        return _works_now(ctx, reply.status)
    sig = classify(reply.status, reply.text)
    if sig.cause is not None and sig.confidence is not None:
        return ctx.failed(f"{reply.status}: {sig.label}", ctx.finding(
            sig.cause, Confidence.CONFIRMED,
            f"Replayed as the actor, {failing.describe()} answered {sig.label}.",
            path=failing.path))
    return ctx.failed(f"{reply.status}: {sig.label}")


def _works_now(ctx: ProbeContext, status: int) -> StepResult:
    reported = ctx.request.observed_status
    if reported not in (401, 403, 404):
        return ctx.passed(f"{status}: the call works as the actor")
    never_used = " — and the admin API shows the token was never used" if ctx.facts.get(
        "tokens_never_used") else ""
    return ctx.warned(
        f"{status} with the token sent as Basic email:token, while the caller got {reported}",
        ctx.finding(CauseCode.CREDENTIAL_REJECTED, Confidence.CONFIRMED,
                    f"The same call succeeds ({status}) when the actor's token is sent as Basic email:token, "
                    f"while the caller got {reported}: the failing caller is not sending this credential that "
                    f"way{never_used}."))
