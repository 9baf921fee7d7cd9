"""Probes of a run read from a Confluence automation rule (`confluence-check rule`), and the probe lists
such runs use. They are not in the default registry: a `check` run never plans them.

- `rule.read` reads the rule again with `redactSensitiveFields=true` (what may be shown, docs/atlassian.md §A.5)
  as the bot's inspector; a 401/403 there is the bot's own configuration (`inspector_misconfigured`).
- `rule.actor` checks the rule's actor in the directory when it is not the account the request runs as:
  an inactive actor stops the rule (docs/atlassian.md §A.3).
- `request.as_sent` analyses the Authorization header exactly as the rule sends it and sends the request
  that way (GET/HEAD only; otherwise the side-effect-free identity call on the same base, with the same
  headers): no header, a malformed one, or an API token as Bearer leaves the call anonymous (docs/atlassian.md §0,
  §1.3, §1.14). It judges with the account, token, credential and access facts, so its finding can say
  what they showed (the seed case: the account is fine, its token never used, the rule never presents it).
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlsplit

from bot.atlassian import Auth, Reply, Role
from bot.atlassian.signatures import classify
from bot.automation.analysis import (
    AuthorizationCheck,
    HeaderFault,
    Target,
    check_authorization,
    missing_wiki,
    removed_route,
)
from bot.automation.load import read_rule, refusal
from bot.automation.rule import RuleShapeError, parse_rule
from bot.facts import ACCESS, ACTOR, ACTOR_EMAIL, CREDENTIAL, ORG, SITE, TOKENS, TOKENS_ASKED, Unknown
from bot.model import StepResult, StepStatus
from bot.needs import Need
from bot.observations import (
    Absent,
    AccountState,
    AccountStatus,
    BotCredential,
    BotRefused,
    HeaderAsSent,
    HeaderProblem,
    PathAsSent,
    PathProblem,
)
from bot.probes.registry import REGISTRY, ProbeContext, ProbeSpec, validate
from bot.request import READ_ONLY, CheckRequest

# no API gives the rule's own response (docs/atlassian.md §A.2); the rule's own header replaces a described form
_NOT_IN_RULE_RUNS = ("report.classify", "replay.as_sent")
# Replays of the credential the request carries: nothing to replay when it carries none
_REPLAYS = ("replay.site", "replay.gateway", "replay.anonymous", "replay.credential", "replay.endpoint")


async def rule_read(ctx: ProbeContext) -> StepResult:
    origin = ctx.request.rule
    if origin is None or not origin.uuid:
        return ctx.skipped("the rule's UUID is unknown (its name could not be looked up)") if origin else \
            ctx.skipped("not a rule run")
    site = await ctx.require(SITE)
    reply = await read_rule(ctx.http, site.cloud_id, origin.uuid, redacted=True)
    why = refusal(reply)
    if why is not None:
        ctx.observe(BotRefused(BotCredential.SITE_LOGIN, f"the bot could not read rule {origin.uuid}: {why}"))
        return ctx.failed(why, fix="Set ATLASSIAN_EMAIL/ATLASSIAN_API_TOKEN to a site or Confluence admin and its "
                          "classic API token.")
    if reply.status == 404:
        return ctx.failed(f"no rule {origin.uuid} (404): it was deleted since it was read")
    try:
        rule = parse_rule(reply.json()) if reply.status == 200 else None
    except RuleShapeError:
        rule = None
    if rule is None:  # a 5xx or an unparseable body: missing evidence, never a cause (docs/architecture.md)
        return ctx.unreadable("the rule", reply)
    kinds = sorted({a.type or "?" for a in rule.actions})
    return ctx.passed(f"'{rule.name}' ({rule.state.lower()}, {rule.scope}): {len(rule.actions)} Send web request "
                      f"action(s), type {', '.join(kinds)}; this run: #{origin.action_index} at {origin.action_path}, "
                      f"{origin.method} {origin.url}")


def _sendable(headers: dict[str, str]) -> str | None:
    """Why HTTP cannot carry these headers as they are (a line break or a non-Latin-1 character)."""
    for name, value in headers.items():
        if "\n" in value or "\r" in value:
            return f"the {name} value holds a line break, which HTTP cannot carry in a header"
        try:
            value.encode("latin-1")
        except UnicodeEncodeError:
            return f"the {name} value holds a character HTTP headers cannot carry"
    return None


async def request_as_sent(ctx: ProbeContext) -> StepResult:
    origin, headers = ctx.request.rule, dict(ctx.request.headers_as_sent or {})
    if TOKENS_ASKED in ctx.spec.judge:  # sending is a use of the token: once the token list is asked for
        await ctx.fact(TOKENS_ASKED)
    if origin is None:
        return ctx.not_needed("the caller's headers are known only when read from an automation rule")
    auth = check_authorization(list(headers.items()))
    if origin.target == Target.OTHER_HOST.value:
        # Not a Confluence request: nothing to replay, and no credential-based verdict from it (its
        # credential is another system's, kept out of the run: `automation.load.build_request`).
        summary = (f"this request does not go to Confluence; nothing was sent: {origin.method} {origin.url} goes to "
                   f"{_host(origin.url)}, not to this site or its API gateway, so Confluence never sees it "
                   f"({origin.header}, never replayed)")
        fix = (f"Nothing to fix in Confluence for {origin.action_label}: check the other system (its answer and its "
               "credential), or point the rule at the request that fails")
        ctx.observe(Absent(summary, fix))  # no cause, but never "no problem"
        return ctx.warned(summary, fix=fix)
    to_confluence = origin.target in (Target.SITE.value, Target.GATEWAY.value)
    if not to_confluence:
        return ctx.warned(f"{origin.header}; {origin.method} {origin.url} goes to {origin.target}: nothing was sent "
                          "there, and no Confluence credential is needed for it")
    reply, sent = await _send(ctx, headers)
    seen = f"{sent} → {reply.status}: {_label(reply)}" if reply is not None else sent
    paths = _path_problems(ctx, reply)
    ctx.observe(*paths)
    worked = reply is not None and 200 <= reply.status < 300 and '"anonymous"' not in reply.text
    if auth.fault is None:
        ctx.observe(HeaderAsSent(None, worked, reply is not None, f"{origin.header}; {seen}",
                                 xsrf_missing=origin.xsrf_token_missing))
        if paths or origin.xsrf_token_missing:  # XSRF: not sent (a write), docs/atlassian.md §1.12
            return ctx.failed(f"{origin.header}; {seen}")
        return await _well_formed(ctx, reply, seen)
    email = await _email(ctx, auth)
    problem = {HeaderFault.MISSING: HeaderProblem.MISSING,
               HeaderFault.BEARER_API_TOKEN: HeaderProblem.BEARER}.get(auth.fault, HeaderProblem.MALFORMED)
    ctx.observe(HeaderAsSent(problem, worked, reply is not None, await _explain(ctx, auth, reply, email),
                             facts=tuple(_fix_facts(ctx, email).items())))
    return ctx.failed(f"{origin.header}; {seen}")


def _path_problems(ctx: ProbeContext, reply: Reply | None) -> list[PathAsSent]:
    """A Confluence URL without /wiki answers 404 whatever the credential (docs/atlassian.md §1.17); a removed v1
    route answers 410 through the gateway (docs/atlassian.md §1.15, openapi/README.md)."""
    failing = ctx.request.failing
    origin = ctx.request.rule
    if failing is None or origin is None:
        return []
    v2 = removed_route(failing.url)
    if v2 is not None and (origin.target == Target.GATEWAY.value or (reply is not None and reply.status == 410)):
        gone = reply is not None and reply.status == 410
        return [PathAsSent(PathProblem.GONE, reply.status if reply is not None else None, urlsplit(failing.url).path,
                           f"The rule calls a REST v1 route Atlassian removed ({urlsplit(failing.url).path}); "
                           + ("the request as sent answered 410. " if gone else "through the gateway it answers "
                              "410 GoneException. ") + f"Its v2 form is {v2}")]
    meant = missing_wiki(failing.url)
    if meant is None:
        return []
    answered = reply.status if reply is not None else None
    return [PathAsSent(PathProblem.NOT_FOUND, answered, urlsplit(failing.url).path,
                       "The rule's URL lacks /wiki, so Confluence has no such route"
                       + (" (the request as sent answered 404)" if answered == 404 else ""),
                       suggestion=f"did you mean {meant}?")]


async def _email(ctx: ProbeContext, auth: AuthorizationCheck) -> str | None:
    if auth.email:
        return auth.email
    known = await ctx.fact(ACTOR_EMAIL)
    return None if isinstance(known, Unknown) else known.email


async def _send(ctx: ProbeContext, headers: dict[str, str]) -> tuple[Reply | None, str]:
    origin, failing = ctx.request.rule, ctx.request.failing
    assert origin is not None
    if failing is not None and failing.method in READ_ONLY and not _smart(origin.notes):
        method, url, why = failing.method, failing.url, ""
    elif origin.safe_url:
        method, url = "GET", origin.safe_url
        why = (f" (in place of {origin.method} {origin.url}: " +
               ("only GET/HEAD are replayed" if origin.method not in READ_ONLY else "smart values cannot be replayed")
               + ")")
    else:
        return None, "not sent: the URL cannot be replayed"
    unsendable = _sendable(headers)
    shown = f"{method} {ctx.http.redact(url)}{why}"
    if unsendable:
        return None, f"not sent: {unsendable}"
    role = Role(ctx.http.guard.role_of(url))
    reply = await ctx.call(role, method, url, auth=Auth.AS_SENT, headers=headers)
    return reply, f"sent as the rule sends it: {shown}"


def _host(url: str) -> str:
    return urlsplit(url).hostname or "another host"


def _smart(notes: tuple[str, ...]) -> bool:
    return any("{{" in n for n in notes)


def _label(reply: Reply) -> str:
    body = reply.json()
    if reply.status == 200 and isinstance(body, dict) and body.get("type") in ("known", "anonymous"):
        return "served as an anonymous caller" if body["type"] == "anonymous" else "accepted"
    return classify(reply.status, reply.text).label


async def _well_formed(ctx: ProbeContext, reply: Reply | None, seen: str) -> StepResult:
    origin = ctx.request.rule
    assert origin is not None
    relation = ""
    identity = await ctx.fact(ACTOR)
    if origin.actor_account_id and not isinstance(identity, Unknown):
        same = identity.account_id == origin.actor_account_id
        relation = ("; the header's account is the rule's actor" if same else
                    f"; the header's account is not the rule's actor ({origin.actor_account_id}): the web request runs "
                    "as the header's account, whatever the actor")
    summary = f"{origin.header}{relation}; {seen}"
    if reply is not None and 200 <= reply.status < 300 and '"anonymous"' not in reply.text:
        return ctx.passed(summary)
    return ctx.warned(summary) if reply is not None else ctx.result(StepStatus.WARN, summary)


async def _explain(ctx: ProbeContext, auth: AuthorizationCheck, reply: Reply | None, email: str | None) -> str:
    origin = ctx.request.rule
    assert origin is not None and auth.fault is not None
    what = {HeaderFault.MISSING: "sends no Authorization header",
            HeaderFault.BEARER_API_TOKEN: "sends its API token as Bearer"}.get(
        auth.fault, f"sends a malformed Authorization header ({auth.fault.value}: {origin.header})")
    answer = f" ({reply.status}: {_label(reply)})" if reply is not None else ""
    parts = [f"{origin.action_label} {what}, so Confluence answers it as for an anonymous caller{answer}."]
    if auth.fault is HeaderFault.BEARER_API_TOKEN:
        parts[0] = (f"{origin.action_label} {what}: Atlassian accepts an API token only as Basic "
                    f"base64(email:token), so Confluence answers it as for an anonymous caller{answer}.")
    who = email or ctx.request.actor
    identity, access = await ctx.fact(ACTOR), await ctx.fact(ACCESS)
    directory = None if isinstance(identity, Unknown) else identity.directory
    active = directory is not None and directory.account_status == "active" and \
        directory.membership_status == "active"
    if active and not isinstance(access, Unknown):
        parts.append(f"The account {who} is active and has Confluence access ({access.roles}): its access is fine.")
    if CREDENTIAL in ctx.spec.judge:
        credential = await ctx.fact(CREDENTIAL)
        if not isinstance(credential, Unknown):
            parts.append("The token the header carries is accepted when sent as Basic email:token.")
    tokens = await ctx.fact(TOKENS)
    if not isinstance(tokens, Unknown) and tokens.never_used:
        parts.append(f"The API token of {who} was never used: the rule never presents it"
                     + (" in a form Atlassian accepts." if auth.fault is not HeaderFault.MISSING else "."))
    return " ".join(parts)


def _fix_facts(ctx: ProbeContext, known_email: str | None) -> dict[str, str]:
    origin = ctx.request.rule
    assert origin is not None
    email = known_email or "<email>"
    return {"action": f"the rule's Send web request #{origin.action_index} ('{origin.name}', {origin.link})",
            "header_email": email, "header_value": f"base64({email}:<API token>)"}


async def rule_actor(ctx: ProbeContext) -> StepResult:
    """The rule's actor, when it is not the account the request runs as: a deactivated actor makes
    Confluence stop running the rule while it still shows as enabled (docs/atlassian.md §A.3, CONFCLOUD-83973)."""
    origin = ctx.request.rule
    if origin is None or not origin.actor_account_id:
        return ctx.not_needed("the rule runs as whoever triggers it (no fixed actor)")
    identity = await ctx.fact(ACTOR)
    if not isinstance(identity, Unknown) and identity.account_id == origin.actor_account_id:
        return ctx.not_needed("the rule's actor is the account diagnosed above")
    org = await ctx.require(ORG)
    reply = await ctx.call(Role.API, "GET", f"/admin/v2/orgs/{org.org_id}/directories/-/users/"
                           f"{origin.actor_account_id}", auth=Auth.ORG_KEY)
    body = reply.json()
    data = body.get("data") if isinstance(body, dict) else None
    if reply.status == 404:
        return ctx.warned(f"the rule's actor {origin.actor_account_id} is not in the organization's directory")
    if reply.status != 200 or not isinstance(data, dict):
        return ctx.unreadable("the rule actor's directory record", reply)
    who = f"{data.get('name') or data.get('email') or origin.actor_account_id}"
    seen = f"accountStatus={data.get('accountStatus')}, membershipStatus={data.get('membershipStatus')}"
    if data.get("accountStatus") in ("inactive", "closed") or data.get("status") in ("deactivated", "for_deletion"):
        page = f"https://admin.atlassian.com/o/{org.org_id}/users/{origin.actor_account_id}"
        # Confluence stops running a rule whose actor is inactive, while still showing it enabled; the web
        # request itself runs as the account its Authorization header names
        ctx.observe(AccountStatus(AccountState.DEACTIVATED, seen, rule_actor=True, who=who, admin_page=page,
                                  account_id=origin.actor_account_id))
        return ctx.failed(f"the rule's actor {who} is deactivated ({seen})")
    relation = "the web request runs as the header's account, not as the actor"
    return ctx.passed(f"the rule's actor {who} is active ({seen}); {relation}")


RULE_READ = ProbeSpec("rule.read", "Automation rule is readable", rule_read, frozenset({Need.INSPECTOR}),
                      build=(SITE,))
RULE_ACTOR = ProbeSpec("rule.actor", "Rule's actor is active", rule_actor, frozenset({Need.ORG_KEY}),
                       build=(ORG,), judge=(ACTOR,))
AS_SENT = ProbeSpec("request.as_sent", "Request as the rule sends it", request_as_sent,
                    judge=(ACTOR, ACTOR_EMAIL, TOKENS_ASKED, TOKENS, CREDENTIAL, ACCESS))


def rule_probes(request: CheckRequest) -> list[ProbeSpec]:
    """The chain of a rule run: the rule read after the site, the usual probes, then the request as sent
    (without the credential replays when the request carries no credential)."""
    left_out = _NOT_IN_RULE_RUNS + (() if request.actor_secret else _REPLAYS)
    specs = [s for s in REGISTRY.values() if s.id not in left_out]
    at = next(i for i, s in enumerate(specs) if s.id == "site.tenant") + 1
    provided = {k.name for s in specs for k in s.provides}
    as_sent = replace(AS_SENT, judge=tuple(k for k in AS_SENT.judge if k.name in provided))  # the rest: Unknown
    chain = [*specs[:at], RULE_READ, *specs[at:], RULE_ACTOR, as_sent]
    validate(chain)
    return chain


def unreadable_probes() -> list[ProbeSpec]:
    """When the rule could not be read: the site, the bot's own login, and the rule read that says why."""
    chain = [REGISTRY[i] for i in ("site.tenant", "platform.status", "inspector.site_login")] + [RULE_READ]
    validate(chain)
    return chain
