"""Reading one rule with the inspector's credential and turning each Send web request into a run's input.

The rule is read through the Automation REST API with the bot's Basic email:classic-token on the API
host (docs/atlassian.md §A.0, §1.2). This read is in clear text and stays in memory: it is the only way to
replay the exact headers (§5); anything shown or stored comes from the redacted read the `rule.read`
probe makes, or from `RuleOrigin`, which holds no secret. A 404 is a usage error naming the UUID; a
401/403 (or a failed read) is the bot's own configuration, diagnosed by a short run (`RuleUnreadable`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from bot.atlassian import Atlassian, Auth, Reply, RequestFailed, Role
from bot.atlassian.clients import RUN_DEADLINE_S
from bot.atlassian.limits import cloud_id_of
from bot.atlassian.transport import Transport
from bot.automation.analysis import Target, check_authorization, check_url, check_write
from bot.automation.reference import RuleRef, resolve
from bot.automation.rule import Rule, RuleShapeError, WebRequestAction, parse_rule
from bot.config import Settings
from bot.errors import ConfigError, UsageError
from bot.redact import secret_in_path
from bot.request import ActorSecret, CheckRequest, FailingRequest, RuleOrigin

MAX_SUMMARY_PAGES = 20  # 100 rules a page (§2.1): 2,000 rules before a name lookup gives up
INSPECTOR_NEEDED = ("`rule` reads the rule as the bot's inspector: set ATLASSIAN_EMAIL and ATLASSIAN_API_TOKEN "
                    "(a site or Confluence admin with a classic API token)")


def automation_path(cloud_id: str, tail: str) -> str:
    """`/automation/public/confluence/{cloudId}/rest/v1` + tail, on the API host (§1.1)."""
    return f"/automation/public/confluence/{cloud_id}/rest/v1{tail}"


def rule_link(site_url: str, uuid: str) -> str:
    """The rule in Confluence's global automation admin; the per-rule route is the editor's
    `#/rule/{uuid}` (§2.7 [I]: not confirmed for Confluence)."""
    return f"{site_url.rstrip('/')}/wiki/admin/automation#/rule/{uuid}"


async def read_rule(http: Atlassian, cloud_id: str, uuid: str, *, redacted: bool) -> Reply:
    params = {"redactSensitiveFields": "true"} if redacted else None
    return await http.call(Role.API, "GET", automation_path(cloud_id, f"/rule/{uuid}"), auth=Auth.INSPECTOR,
                           params=params)


async def list_summaries(http: Atlassian, cloud_id: str) -> list[dict[str, Any]] | Reply:
    """Every rule summary (paged by `links.next`, §2.1), or the reply that refused the listing."""
    rows: list[dict[str, Any]] = []
    target = automation_path(cloud_id, "/rule/summary")
    params: dict[str, str] | None = {"limit": "100"}
    for _ in range(MAX_SUMMARY_PAGES):
        reply = await http.call(Role.API, "GET", target, auth=Auth.INSPECTOR, params=params)
        body = reply.json()
        if reply.status != 200 or not isinstance(body, dict):
            return reply
        rows += [r for r in body.get("data") or [] if isinstance(r, dict)]
        following = (body.get("links") or {}).get("next")
        if not following:
            return rows
        # Since Aug 2025 `next` is a query string ("?cursor=…"); before, an absolute URL (§2.1)
        query = following.split("?", 1)[1] if "?" in following else following
        params = {}
        for key, value in parse_qsl(query, keep_blank_values=True):
            params.setdefault(key, value)  # the first of a repeated key, as the cursor was read before
    return rows


def refusal(reply: Reply) -> str | None:
    """Why the Automation API refused the inspector (§1.2, §1.3, §4), or None when it did not."""
    if reply.status == 401 and "scope does not match" in reply.text:
        return ("the Automation API answered 401 'scope does not match': ATLASSIAN_API_TOKEN is a scoped token "
                "(or a service account's); the rule API only accepts a classic (unscoped) API token")
    if reply.status == 401:
        return "the Automation API answered 401: ATLASSIAN_EMAIL/ATLASSIAN_API_TOKEN is not a working API token"
    if reply.status == 403:
        return ("the Automation API answered 403 'not a global admin': the inspector account must be a site admin "
                "or a Confluence admin to read rules")
    return None


@dataclass(frozen=True)
class RulePlan:
    """The rule (parsed from the clear read, in memory) and one run input per Send web request."""

    rule: Rule
    requests: tuple[CheckRequest, ...]


@dataclass(frozen=True)
class RuleUnreadable:
    """The rule could not be read: `request` starts the short run that says why (the bot's configuration,
    the site, or a failed request)."""

    request: CheckRequest


async def load_rule(ref: RuleRef, settings: Settings, *, transport: Transport | None = None,
                    cloud_id: str | None = None, deadline_s: float = RUN_DEADLINE_S) -> RulePlan | RuleUnreadable:
    """Read the rule `ref` names (`cloud_id`: the site's, when already known), within `deadline_s` (what is
    left of the command's deadline: a site that trickles its answers makes the rule unreadable, never a
    command that hangs). :raises UsageError: unknown UUID, a name that matches no or several rules, a rule
    without Send web request. :raises ConfigError: no inspector configured."""
    if not settings.has_inspector:
        raise ConfigError(INSPECTOR_NEEDED)
    assert settings.site_url is not None
    async with Atlassian(settings, transport=transport, deadline_s=deadline_s) as http:
        try:
            cloud_id = cloud_id or await _cloud_id(http)
            if cloud_id is None:
                return _unreadable(ref.uuid or "", settings)
            uuid = ref.uuid
            if uuid is None:
                summaries = await list_summaries(http, cloud_id)
                if isinstance(summaries, Reply):
                    return _unreadable("", settings)
                uuid = resolve(ref, summaries)
            reply = await read_rule(http, cloud_id, uuid, redacted=False)
        except RequestFailed:
            return _unreadable(ref.uuid or "", settings)
    if reply.status == 404:
        raise UsageError(f"no Confluence automation rule {uuid} on {settings.site_url} (the Automation API "
                         "answered 404): check the UUID in the rule's URL (…#/rule/<uuid>)")
    if reply.status != 200:
        return _unreadable(uuid, settings)
    try:
        rule = parse_rule(reply.json())
    except RuleShapeError:
        return _unreadable(uuid, settings)
    if not rule.actions:
        seen = ", ".join(rule.component_types) or "none"
        raise UsageError(f"rule '{rule.name}' ({uuid}) has no Send web request action, so there is no request to "
                         f"diagnose (component types seen: {seen})")
    return RulePlan(rule, tuple(build_request(rule, a, settings) for a in rule.actions))


async def _cloud_id(http: Atlassian) -> str | None:
    reply = await http.call(Role.SITE, "GET", "/_edge/tenant_info")  # docs/atlassian.md §2.1, §A.0
    return cloud_id_of(reply.json()) if reply.status == 200 else None


def _unreadable(uuid: str, settings: Settings) -> RuleUnreadable:
    origin = RuleOrigin(uuid=uuid, name="(not read)", state="?", scope="?",
                        link=rule_link(settings.site_url or "", uuid) if uuid else "", action_index=0,
                        action_count=0, action_path="", action_type=None, method="", url="", header="", target="")
    return RuleUnreadable(CheckRequest(actor=f"rule {uuid}" if uuid else "rule", rule=origin))


def build_request(rule: Rule, action: WebRequestAction, settings: Settings) -> CheckRequest:
    """The run's input for one action: the request as the rule sends it (headers in memory only), the
    credential its Authorization header carries as the actor's secret, and as the account the header's
    email — the identity the request really runs as (docs/atlassian.md §A.3, docs/atlassian.md §1.14) — or, without a
    usable email, the rule's actor."""
    assert settings.site_url is not None
    headers = {h.name: h.value for h in action.headers if h.value is not None}
    auth = check_authorization([(h.name, h.value) for h in action.headers])
    url = check_url(action.url, settings.site_url, settings.api_url, secret=action.url_secure)
    write = check_write(action.method, headers, action.content_type)
    origin = RuleOrigin(
        uuid=rule.uuid, name=rule.name, state=rule.state, scope=rule.scope,
        link=rule_link(settings.site_url, rule.uuid),
        action_index=action.index, action_count=len(rule.actions), action_path=action.path, action_type=action.type,
        method=action.method, url=url.shown, header=auth.shown, target=url.target.value,
        actor_account_id=rule.actor_account_id, notes=(*url.notes, *([write.note] if write.note else [])),
        safe_url=url.safe_url, xsrf_token_missing=write.needs_token,
    )
    # A request to another host carries another system's credential (a GitHub token, say): it is never
    # replayed anywhere, and the account diagnosed is the rule's actor, not whoever that credential names.
    foreign = url.target is Target.OTHER_HOST
    actor = auth.email if auth.email and auth.token and not foreign else (
        rule.actor_account_id or rule.author_account_id)
    if not actor:
        raise UsageError(f"rule '{rule.name}' names no actor and its request carries no email: there is no account "
                         "to diagnose")
    secret = ActorSecret(token=auth.token, email=auth.email) if auth.token and not foreign else None
    failing = None
    if url.replay_url is not None and url.target in (Target.SITE, Target.GATEWAY):
        method = "GET" if url.smart_values else action.method
        failing = FailingRequest(method=method, url=url.replay_url, headers=headers)
    return CheckRequest(actor=actor, failing=failing, actor_secret=secret, rule=origin, headers_as_sent=headers,
                        held_secrets=(*url_secrets(action), *([auth.token.reveal()] if auth.token and foreign else [])))


def url_secrets(action: WebRequestAction) -> tuple[str, ...]:
    """The secrets a rule's URL holds, masked wherever they appear: the whole URL and each long path
    segment of one the rule marks `urlSecure` or whose path is the secret (a Slack webhook)."""
    if not (action.url_secure or secret_in_path(action.url)):
        return ()
    segments = [s for s in urlsplit(action.url).path.split("/") if len(s) >= 8]
    return (action.url, *segments)
