"""Replay layer: calls made as the actor, with the token given on stdin or in the Slack modal.

The same identity call goes to the site URL, to the gateway and, as a control, with no
credential at all. Comparing the three tells apart a scoped token on the site URL (gateway
accepts, site refuses: docs/atlassian.md §1.5), a rejected credential (both refuse; the site's answer
equals the anonymous one: §0, §1.1), the anonymous fallback (200 `type: anonymous`: §1.1)
and a good credential without Confluence access (gateway authenticates, Confluence refuses:
§1.8). Only GET/HEAD are replayed (docs/architecture.md §Security). The three calls start as soon as the
actor's email (and, for the gateway, the cloudId) is known; `replay.credential` judges them.
"""

from __future__ import annotations

from bot.atlassian import Auth, Reply, Role
from bot.atlassian.signatures import Kind, classify
from bot.facts import (
    ACTOR_EMAIL,
    ANONYMOUS_REPLAY,
    CREDENTIAL,
    GATEWAY_REPLAY,
    SITE,
    SITE_REPLAY,
    TOKENS_ASKED,
    AcceptedAt,
    Credential,
    Observation,
    ReplayKind,
    Unknown,
)
from bot.model import StepResult
from bot.needs import Need
from bot.observations import Answer, EndpointReplay, HeaderAsSent, HeaderProblem, ReplayAnswer, Where
from bot.probes.registry import ProbeContext, probe
from bot.probes.target import caller_on_site
from bot.request import READ_ONLY, SentAs

IDENTITY_PATH = "/wiki/rest/api/user/current"
OAUTH_ELSEWHERE = "the credential is OAuth 2.0: the oauth.* steps test it"


def _oauth(ctx: ProbeContext) -> bool:
    """An OAuth 2.0 credential is never sent as Basic email:token: the oauth layer replays it."""
    return ctx.request.actor_secret is not None and ctx.request.actor_secret.is_oauth


def observe_identity(reply: Reply, where: Where) -> ReplayAnswer | None:
    """What an identity call showed; None when the answer is not evidence (5xx, 429, unparsable 200)."""
    body = reply.json()
    if reply.status == 200 and isinstance(body, dict) and body.get("type") in ("known", "anonymous"):
        who = body.get("displayName") or body.get("publicName") or body.get("accountId") or "?"
        if body["type"] == "anonymous":
            return ReplayAnswer(where, 200, Answer.ANONYMOUS, None, "anonymous (credential ignored)")
        answer = Answer.GUEST if body.get("isGuest") else Answer.KNOWN
        return ReplayAnswer(where, 200, answer, None, f"accepted as {who}")
    if reply.status >= 500 or reply.status == 429 or 200 <= reply.status < 300:
        return None
    sig = classify(reply.status, reply.text)
    return ReplayAnswer(where, reply.status, Answer.REFUSED, sig.kind, f"{reply.status}: {sig.label}")


async def _identity_call(ctx: ProbeContext, role: Role, path: str, auth: Auth, email: str | None) -> Reply:
    params = {"expand": "operations"} if role is Role.SITE else None
    # without a credential the answer is the same for every run: concurrent runs share one request
    return await ctx.call(role, "GET", path, auth=auth, params=params, as_email=email, shared=auth is Auth.NONE)


async def _after_token_list(ctx: ProbeContext) -> None:
    """Our replay is a use of the actor's token (Atlassian moves its lastAccess): it is sent once the
    token list has been asked for (or will not be), in the same round trip; the list reads a use at or
    after this run's first one as ours and then the caller's last use as unknown, never as theirs
    (`credential._callers_last`)."""
    await ctx.fact(TOKENS_ASKED)


@probe("replay.site", title="Actor's token at the site URL", needs={Need.ACTOR_TOKEN}, build=(ACTOR_EMAIL,),
       judge=(TOKENS_ASKED,), provides=(SITE_REPLAY,))
async def replay_site(ctx: ProbeContext) -> StepResult:
    if _oauth(ctx):
        return ctx.not_needed(OAUTH_ELSEWHERE)
    email = (await ctx.require(ACTOR_EMAIL)).email
    await _after_token_list(ctx)
    reply = await _identity_call(ctx, Role.SITE, IDENTITY_PATH, Auth.ACTOR, email)
    seen = observe_identity(reply, Where.SITE)
    if seen is None:
        return ctx.unreadable("the site's answer", reply)
    ctx.observe(seen)
    ctx.provide(SITE_REPLAY, _fact(seen, reply.text))
    return ctx.passed(seen.label) if seen.answer is Answer.KNOWN else ctx.failed(seen.label)


@probe("replay.gateway", title="Actor's token at the API gateway", needs={Need.ACTOR_TOKEN},
       build=(ACTOR_EMAIL, SITE), judge=(TOKENS_ASKED,), provides=(GATEWAY_REPLAY,))
async def replay_gateway(ctx: ProbeContext) -> StepResult:
    if _oauth(ctx):
        return ctx.not_needed(OAUTH_ELSEWHERE)
    email = (await ctx.require(ACTOR_EMAIL)).email
    site = await ctx.require(SITE)
    await _after_token_list(ctx)
    reply = await _identity_call(ctx, Role.API, ctx.http.gateway_path(site.cloud_id, IDENTITY_PATH), Auth.ACTOR, email)
    seen = observe_identity(reply, Where.GATEWAY)
    if seen is None:
        return ctx.unreadable("the gateway's answer", reply)
    ctx.observe(seen)
    ctx.provide(GATEWAY_REPLAY, _fact(seen, reply.text))
    if seen.kind is Kind.SCOPE_MISMATCH:
        return ctx.passed(f"authenticated (the token is scoped and lacks the read:confluence-user scope: {seen.label})")
    return ctx.passed(seen.label) if seen.answer is Answer.KNOWN else ctx.failed(seen.label)


# It sends no secret, so it runs without the actor's token too: on a site that lets anonymous users in, a
# credential the site ignores runs the call as the anonymous user (docs/atlassian.md §1.1), so a content
# refusal seen without the token cannot rule a rejected credential out.
@probe("replay.anonymous", title="Control call without any credential", provides=(ANONYMOUS_REPLAY,))
async def replay_anonymous(ctx: ProbeContext) -> StepResult:
    if _oauth(ctx):
        return ctx.not_needed(OAUTH_ELSEWHERE)
    reply = await _identity_call(ctx, Role.SITE, IDENTITY_PATH, Auth.NONE, None)
    seen = observe_identity(reply, Where.NOWHERE)
    if seen is None:
        return ctx.unreadable("the site's answer", reply)
    ctx.observe(seen)
    ctx.provide(ANONYMOUS_REPLAY, _fact(seen, reply.text))
    if seen.answer is Answer.ANONYMOUS:
        return ctx.passed("the site allows anonymous access: a rejected credential can look like a 200")
    return ctx.passed(f"anonymous callers get {seen.label}")


def observe(reply: Reply) -> Observation | None:
    """An identity call's answer as the fact later probes compare (None: not evidence)."""
    seen = observe_identity(reply, Where.SITE)
    return None if seen is None else _fact(seen, reply.text)


def _fact(seen: ReplayAnswer, body: str) -> Observation:
    kind = {Answer.KNOWN: ReplayKind.KNOWN, Answer.GUEST: ReplayKind.KNOWN, Answer.ANONYMOUS: ReplayKind.ANONYMOUS,
            Answer.REFUSED: ReplayKind.REFUSED}[seen.answer]
    return Observation(seen.status, kind, seen.kind.value if seen.kind else seen.answer.value, seen.label, body,
                       is_guest=seen.answer is Answer.GUEST)


@probe("replay.credential", title="Actor's credential is accepted", needs={Need.ACTOR_TOKEN},
       judge=(SITE_REPLAY, GATEWAY_REPLAY, ANONYMOUS_REPLAY), provides=(CREDENTIAL,))
async def replay_credential(ctx: ProbeContext) -> StepResult:
    """Compares the three identity calls for the step list; what they mean is the judge's."""
    if _oauth(ctx):
        return ctx.not_needed(OAUTH_ELSEWHERE)
    site = await ctx.require(SITE_REPLAY)
    gateway, anonymous = await ctx.fact(GATEWAY_REPLAY), await ctx.fact(ANONYMOUS_REPLAY)
    gw = None if isinstance(gateway, Unknown) else gateway
    anon = None if isinstance(anonymous, Unknown) else anonymous
    same_as_anon = anon is not None and anon.status == site.status and anon.body == site.body
    gw_label = gw.label if gw is not None else "not checked"
    if site.kind is ReplayKind.KNOWN:
        ctx.provide(CREDENTIAL, Credential(AcceptedAt.SITE))
        if site.is_guest:
            return ctx.failed(f"{site.label}, but as a guest")
        return ctx.passed(f"{site.label} at the site URL (Basic email:token works)")
    if (gw is not None and gw.kind is ReplayKind.KNOWN) or (gw is not None and gw.signature == Kind.SCOPE_MISMATCH):
        ctx.provide(CREDENTIAL, Credential(AcceptedAt.GATEWAY))
        summary = f"accepted at the gateway ({gw.label}), refused at the site ({site.label})"
        on_site = caller_on_site(ctx.request, ctx.settings)
        return ctx.passed(summary + "; the failing call already uses the gateway") if on_site is False else \
            ctx.failed(summary)
    extra = "; byte-identical to the call without any credential" if same_as_anon else ""
    return ctx.failed(f"site: {site.label}{extra}; gateway: {gw_label}")


@probe("replay.endpoint", title="Failing call, replayed as the actor", needs={Need.ACTOR_TOKEN, Need.ENDPOINT},
       build=(ACTOR_EMAIL,), judge=(TOKENS_ASKED,))
async def replay_endpoint(ctx: ProbeContext) -> StepResult:
    failing = ctx.request.failing
    assert failing is not None
    if _oauth(ctx):
        return ctx.not_needed(OAUTH_ELSEWHERE)
    if failing.method not in READ_ONLY:
        return ctx.skipped(f"{failing.method} is analysed, not sent: the replay only sends GET/HEAD")
    email = (await ctx.require(ACTOR_EMAIL)).email
    await _after_token_list(ctx)
    role = Role(ctx.http.guard.role_of(failing.url))
    reply = await ctx.call(role, failing.method, failing.url, auth=Auth.ACTOR, as_email=email)
    if reply.status >= 500 or reply.status == 429:
        return ctx.unreadable("the replayed call", reply)
    anonymous = _anonymous(reply)
    if 200 <= reply.status < 300:
        ctx.observe(EndpointReplay(failing.method, failing.path, reply.status, None, f"{reply.status}", anonymous))
        reported = ctx.request.observed_status
        if reported in (401, 403, 404):
            return ctx.warned(f"{reply.status} with the token sent as Basic email:token, while the caller got "
                              f"{reported}")
        return ctx.passed(f"{reply.status}: the call works as the actor")
    sig = classify(reply.status, reply.text)
    ctx.observe(EndpointReplay(failing.method, failing.path, reply.status, sig.kind, f"{reply.status}: {sig.label}"))
    return ctx.failed(f"{reply.status}: {sig.label}")


def _anonymous(reply: Reply) -> bool:
    """Served as the anonymous user: Confluence ignored the credential (docs/atlassian.md §1.1)."""
    body = reply.json()
    return isinstance(body, dict) and body.get("type") == "anonymous"


_FORMS = {
    SentAs.BASIC: (None, "Authorization: Basic base64(email:token)", Auth.ACTOR),
    SentAs.BEARER: (HeaderProblem.BEARER, "Authorization: Bearer <API token>", Auth.ACTOR_TOKEN_AS_BEARER),
    SentAs.NONE: (HeaderProblem.MISSING, "no Authorization header", Auth.NONE),
}


@probe("replay.as_sent", title="Failing call, sent the way the caller sends it", build=(ACTOR_EMAIL,),
       judge=(TOKENS_ASKED,))
async def replay_as_sent(ctx: ProbeContext) -> StepResult:
    """The failing call with the actor's token in the form the admin says the caller uses (--sent-as): outside
    an automation rule the caller's header cannot be read, and on Confluence v1 a Bearer API token, no header
    and a wrong token get the same 403 (docs/atlassian.md §0.1, §1.3). Only GET/HEAD are sent."""
    how = ctx.request.sent_as
    if how is None:
        return ctx.not_needed("how the caller sends the token was not said (--sent-as basic|bearer|none)")
    if ctx.request.rule is not None:
        return ctx.not_needed("the rule's own header is read and sent as it is")
    if _oauth(ctx):
        return ctx.not_needed("an OAuth 2.0 access token always goes as Bearer: the oauth.* steps test it")
    problem, form, auth = _FORMS[how]
    failing, secret = ctx.request.failing, ctx.request.actor_secret
    why_not = ("no failing endpoint given" if failing is None else
               f"{failing.method} is analysed, not sent: the replay only sends GET/HEAD"
               if failing.method not in READ_ONLY else
               "no actor token given" if secret is None and auth is not Auth.NONE else None)
    if failing is None or why_not is not None:
        said = f"the caller sends {form}, as described (not sent: {why_not})"
        ctx.observe(HeaderAsSent(problem, False, False, said[0].upper() + said[1:], reported=True))
        return ctx.skipped(said)  # nothing was sent: the form is only described, never a pass
    email = (await ctx.require(ACTOR_EMAIL)).email if auth is Auth.ACTOR else None
    if auth is not Auth.NONE:
        await _after_token_list(ctx)
    role = Role(ctx.http.guard.role_of(failing.url))
    reply = await ctx.call(role, failing.method, failing.url, auth=auth, as_email=email)
    if reply.status >= 500 or reply.status == 429:
        return ctx.unreadable("the call sent the caller's way", reply)
    anonymous = _anonymous(reply)
    worked = 200 <= reply.status < 300 and not anonymous
    label = "served as an anonymous caller" if anonymous else (
        f"{reply.status}" if worked else f"{reply.status}: {classify(reply.status, reply.text).label}")
    seen = f"sent with {form}, {failing.method} {failing.path} answered {label}"
    ctx.observe(HeaderAsSent(problem, worked, True, seen[0].upper() + seen[1:], reported=True))
    return ctx.passed(seen) if worked else ctx.failed(seen)
