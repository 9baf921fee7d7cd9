"""The cause catalogue: codes, layers, titles and fixes, as data (docs/causes.md).

Catalogue order is position in `CATALOGUE` (outer layers first): it breaks ties between equally
supported causes and orders what is shown. Probes observe; only `bot.judge` turns observations into
a verdict. Fix lines are templates filled from facts that probes and settings provide
(`{gateway}`, `{admin_user_page}`...); an unknown fact stays readable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.model import CauseCode, Outcome, outcome_of

TOKENS_PAGE = "https://id.atlassian.com/manage-profile/security/api-tokens"
SERVICE_ACCOUNTS = "Atlassian Administration > Directory > Service accounts"
AUTH_POLICIES = "Atlassian Administration > Security > Authentication policies"


@dataclass(frozen=True)
class Cause:
    code: CauseCode
    layer: str
    title: str
    fix: tuple[str, ...]

    @property
    def outcome(self) -> Outcome:
        return outcome_of(self.code)


C = CauseCode
CATALOGUE: tuple[Cause, ...] = (
    Cause(C.SITE_NOT_FOUND, "site", "The site URL does not point at an Atlassian Cloud site", (
        "Check ATLASSIAN_SITE_URL and the URL the failing caller uses: {site}/_edge/tenant_info must "
        "answer with a cloudId.",
        "Use the site's own address, https://<name>.atlassian.net (no /wiki, no custom path).",
    )),
    Cause(C.NOT_A_CLOUD_SITE, "site", "The URL is a Confluence Data Center/Server instance, not a Cloud site", (
        "{site} answers like Confluence Data Center/Server ({site}/status says the node is running; there is no "
        "/_edge/tenant_info): Cloud API tokens and OAuth credentials mean nothing there.",
        "If the integration should talk to Confluence Cloud, point it (and ATLASSIAN_SITE_URL) at the Cloud site "
        "https://<name>.atlassian.net; Cloud REST paths start with /wiki/rest/api or /wiki/api/v2.",
        "If it really talks to Data Center, use a Data Center credential there (a personal access token or a "
        "Data Center service account); confluence-check diagnoses Cloud sites only.",
    )),
    Cause(C.INSPECTOR_MISCONFIGURED, "bot", "confluence-check's own credentials are refused", (
        "Fix the bot's settings: {inspector_setting} was refused ({inspector_detail}).",
        "ATLASSIAN_EMAIL/ATLASSIAN_API_TOKEN must be a site admin with a classic (unscoped) API token "
        f"from {TOKENS_PAGE}; ATLASSIAN_ORG_API_KEY must be an organization API key from "
        "admin.atlassian.com > Settings > API keys.",
        "Run the check again; nothing was concluded about {actor}.",
    )),
    Cause(C.ATLASSIAN_INCIDENT, "platform", "Atlassian reports an incident affecting Confluence", (
        "Wait for the incident to be resolved: {incident_url}",
        "Retry the failing call afterwards; do not change the account meanwhile.",
    )),
    Cause(C.ACTOR_NOT_FOUND, "identity", "No such account in this organization or site", (
        "Check the address or account id: {actor}.",
        "An account from outside the organization must be invited to the site first "
        "(Atlassian Administration > Directory > Users > Invite users).",
    )),
    Cause(C.ACCOUNT_DEACTIVATED, "identity", "The account is deactivated", (
        "Reactivate the account: {admin_user_page} > Activate account "
        "(API: POST {api}/users/{account_id}/manage/lifecycle/enable).",
        "Its existing API tokens start working again once it is active.",
    )),
    Cause(C.ACCOUNT_SUSPENDED, "identity", "The account has no active membership in the organization's directory", (
        "Restore the account's access: {admin_user_page} > Restore access "
        "(API: POST {api}/admin/v2/orgs/{org_id}/directories/-/users/{account_id}/restore).",
    )),
    Cause(C.PASSWORD_USED, "credential", "A password (or the org API key) is sent instead of an API token", (
        f"Create an API token at {TOKENS_PAGE} and send it as the Basic password: "
        "Authorization: Basic base64(<email>:<api token>).",
        "An organization API key only works as Bearer on {api}/admin/...; it is not a product credential.",
    )),
    Cause(C.BEARER_WITH_API_TOKEN, "credential", "An API token is sent as a Bearer token", (
        "Send the token with Basic auth: Authorization: Basic base64(<email>:<api token>) — "
        "Bearer is only for OAuth 2.0 access tokens.",
    )),
    Cause(C.AUTH_HEADER_MISSING, "credential", "The request carries no Authorization header", (
        "Add this header to {action}: Authorization: Basic {header_value} (tick Hidden, so the value is "
        "masked in the rule editor).",
        "Build the value on one line, e.g. printf '%s' '{header_email}:<API token>' | base64 — "
        f"the API token of {{header_email}} (create one at {TOKENS_PAGE} while logged in as that account).",
        "Confluence adds no credential of its own to a Send web request: without the header every call is "
        "anonymous.",
    )),
    Cause(C.AUTH_HEADER_MALFORMED, "credential", "The Authorization header is not Basic base64(email:token)", (
        "Replace the Authorization header of {action} with: Authorization: Basic {header_value} "
        "(tick Hidden).",
        "Build the value on one line, e.g. printf '%s' '{header_email}:<API token>' | base64 — the scheme "
        "word Basic, one space, then the base64 of email:token with no space or line break inside.",
    )),
    Cause(C.OAUTH_CLIENT_REJECTED, "credential", "The token host refuses the OAuth 2.0 client id and secret", (
        "The token host answered {oauth_error} to POST {auth}/oauth/token: the client id and secret do not make "
        "a live credential that may use the client-credentials grant.",
        f"Open {SERVICE_ACCOUNTS} > the service account > Credentials: if the credential is gone or its secret "
        "was not copied whole, create a new OAuth 2.0 credential and copy the client id and secret exactly "
        "(the secret is shown once).",
        "An app's (3LO) client id cannot use this grant: a service account's OAuth 2.0 credential can.",
    )),
    Cause(C.SCOPED_TOKEN_SITE_URL, "credential", "A scoped API token is sent to the site URL", (
        "Call the gateway instead of the site: {gateway_url}",
        "Keep the same header (Authorization: Basic base64(<email>:<token>)); scoped and service-account "
        "tokens are only accepted at {gateway}.",
        f"Or, for a person's account, use a classic token without scopes from {TOKENS_PAGE}.",
    )),
    Cause(C.OAUTH_TOKEN_SITE_URL, "credential", "An OAuth 2.0 access token is sent to the site URL", (
        "Call the gateway instead of the site: {gateway_url}",
        "Send the token as Authorization: Bearer <access token>; the site URL ({site}) accepts no OAuth token, "
        "only the gateway {gateway} does.",
    )),
    Cause(C.TOKEN_EXPIRED, "credential", "The account's API token has expired or none is left", (
        f"Create a new API token for {{actor}} at {TOKENS_PAGE} (while logged in as that account).",
        "Replace the secret in the failing caller (the automation rule's Authorization header, the "
        "integration's settings) and run the check again.",
    )),
    Cause(C.OAUTH_TOKEN_EXPIRED, "credential", "The OAuth 2.0 access token has expired", (
        "The access token expired {token_expiry}: fetch a new one (POST {auth}/oauth/token with the client "
        "credentials, or the app's refresh token) before each run, and again whenever the gateway answers 401.",
        "Access tokens from a service account's client credentials live about an hour: an integration must "
        "not store one.",
    )),
    Cause(C.CREDENTIAL_REJECTED, "credential", "The credential the caller sends is not accepted", (
        "{oauth_rejected_note}",
        "Send the token exactly as: Authorization: Basic base64({actor_email}:<api token>) — one line, "
        "no spaces or newline inside the base64.",
        "In a Confluence automation rule's Send web request, add that header yourself: the rule adds "
        "no credential of its own.",
        "Check that the email is the token owner's current email, and the token value is complete "
        f"({TOKENS_PAGE}).",
    )),
    Cause(C.OAUTH_SITE_NOT_AUTHORIZED, "credential", "The OAuth 2.0 credential does not reach this site", (
        "The token is good, but its accessible resources ({oauth_sites}) do not include {site_name} "
        "(cloudId {cloud_id}).",
        f"For a service account: {SERVICE_ACCOUNTS} > the account > give it a Confluence role on {{site_name}} "
        "(it reaches only the sites it has a role on), then fetch a new token.",
        "For an app (3LO): install the app on this site, or have the user consent to it for this site, "
        "then fetch a new token.",
    )),
    Cause(C.API_TOKEN_BLOCKED, "policy", "An organization policy blocks API tokens for this user", (
        "Atlassian Administration > Security > User security > External users: set "
        "'API token access for external users' to Allow for this user's policy, or add an exception.",
        "Or run the integration under a managed account (or a service account with an OAuth credential).",
    )),
    Cause(C.API_TOKEN_AUTH_DISABLED, "policy", "An authentication policy turns API tokens off for this account", (
        f"{AUTH_POLICIES}: the policy that holds {{actor}} does not allow API tokens. Allow them there, or "
        "move the account into a policy that does (changes take a few minutes).",
        "Or move the integration to a service account's OAuth 2.0 credential (client credentials), which "
        f"authentication policies do not turn off: {SERVICE_ACCOUNTS}.",
        "{inspector_policy_note}",
    )),
    Cause(C.IP_NOT_ALLOWLISTED, "policy", "The caller's IP address is not on the site's IP allowlist", (
        "Atlassian Administration > Security > IP allowlists: add the caller's egress address range.",
        "For a Confluence automation rule calling back into the site, allow Atlassian's egress ranges "
        "(https://ip-ranges.atlassian.com).",
    )),
    Cause(C.NO_CONFLUENCE_ACCESS, "product", "The account has no Confluence access on this site", (
        "Grant access: {admin_user_page} > Grant access > Confluence on {site_name} > User.",
        "Or add the account to a group that holds the Confluence role (e.g. confluence-users).",
    )),
    Cause(C.GUEST_ACCESS_ONLY, "product", "The account is a Confluence guest", (
        "Change the account's Confluence role from Guest to User: {admin_user_page} > Confluence > Change role.",
        "Or, to keep it a guest, assign it the one space it needs (guests reach one space only).",
    )),
    Cause(C.MISSING_SCOPE, "scope", "The token lacks a scope this endpoint needs", (
        "{endpoint_scopes}",
        "{held_scopes}",
        "Scopes are fixed when a token or credential is created: create a new scoped token "
        f"({TOKENS_PAGE}) or a new OAuth 2.0 credential ({SERVICE_ACCOUNTS}) with one of those sets.",
    )),
    Cause(C.XSRF_CHECK_FAILED, "request", "The POST is refused by XSRF protection", (
        "Add the header X-Atlassian-Token: no-check to the request.",
    )),
    Cause(C.ENDPOINT_GONE, "request", "The endpoint has been removed", (
        "Move to the REST v2 equivalent of {path} (https://developer.atlassian.com/cloud/confluence/rest/v2/).",
    )),
    Cause(C.ENDPOINT_NOT_FOUND, "request", "The URL is not a Confluence REST endpoint", (
        "Correct the path: Confluence routes start with /wiki (e.g. /wiki/rest/api/... or /wiki/api/v2/...); "
        "{suggested_path}",
    )),
    Cause(C.SPACE_PERMISSION_MISSING, "content", "The account has no permission on the space", (
        "A space admin grants the permission: {space_permissions_page}",
        "Grant it to the account or to a group it belongs to.",
    )),
    Cause(C.PAGE_RESTRICTED, "content", "A page restriction denies the account", (
        "Edit the page's restrictions (the padlock on the page, or its parent's: restrictions are "
        "inherited) and add the account or one of its groups: {page_url}",
    )),
    Cause(C.RATE_LIMITED, "request", "The caller is rate limited", (
        "Back off: wait the Retry-After seconds, then retry with exponential back-off and jitter.",
        "This is not an access problem; reduce concurrency or request volume.",
    )),
    Cause(C.REQUEST_NOT_AS_TESTED, "request", "The failing request is not the one that was tested", (
        "The account and the credential work as tested: the failing caller must present something else — "
        "another Authorization header, token, email or URL.",
        "If the call comes from a Confluence automation rule, check the rule itself: confluence-check rule "
        "<the rule's URL or UUID> (it reads the Send web request's headers as sent).",
        'Give the exact failing call: --endpoint "METHOD URL" with the URL the caller uses (site or gateway), '
        "and replay it with the caller's token (--actor-token-stdin).",
        "Compare the header the caller sends with Authorization: Basic base64({actor_email}:<api token>): the "
        "email must be the token owner's, the token one of theirs, on one line.",
    )),
    Cause(C.OK, "-", "No problem found", ()),
    Cause(C.INCONCLUSIVE, "-", "Not enough evidence to decide", (
        "Provide what the list under 'Not checked' names, then run the check again.",
    )),
)

BY_CODE: Mapping[CauseCode, Cause] = {c.code: c for c in CATALOGUE}
_POSITION = {c.code: i for i, c in enumerate(CATALOGUE)}

_FACT_DEFAULTS = {
    "gateway": "https://api.atlassian.com/ex/confluence/<cloudId>",
    "gateway_url": "https://api.atlassian.com/ex/confluence/<cloudId>/wiki/...",
    "admin_user_page": "Atlassian Administration > Directory > Users > the account",
    "account_id": "<accountId>",
    "org_id": "<orgId>",
    "actor_email": "<email>",
    "site_name": "this site",
    "incident_url": "the Confluence status page",
    "path": "the endpoint",
    "suggested_path": "",
    "space_permissions_page": "Space settings > Permissions",
    "page_url": "the page",
    "inspector_setting": "a setting",
    "inspector_detail": "see the steps",
    "action": "the failing request (in an automation rule: its Send web request action)",
    "header_email": "<email>",
    "header_value": "<base64 of email:API token>",
    "endpoint_scopes": "Give the failing endpoint (--endpoint \"METHOD URL\") to see the scopes it accepts: "
                       "v2 endpoints need granular scopes (e.g. read:space:confluence); classic scopes only cover v1.",
    "held_scopes": "A scoped API token's scopes cannot be read through any API: compare the list above with the "
                   "scopes shown for the token at id.atlassian.com (or the service account's credential).",
    "oauth_error": "a refusal",
    "auth": "https://auth.atlassian.com",
    "token_expiry": "before the call",
    "oauth_sites": "none listed",
    "cloud_id": "<cloudId>",
    "inspector_policy_note": "",
    "oauth_rejected_note": "",
}


class _Facts(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return _FACT_DEFAULTS.get(key, f"<{key}>")


def fill_fix(cause: Cause, facts: Mapping[str, str]) -> tuple[str, ...]:
    filled = _Facts({k: v for k, v in facts.items() if v})
    lines = (line.format_map(filled).rstrip("; ").strip() for line in cause.fix)
    return tuple(line for line in lines if line)  # a line whose fact says "nothing to add" is dropped


def position(code: CauseCode) -> int:
    """Catalogue order: ties between equally supported causes go to the earlier one."""
    return _POSITION[code]
