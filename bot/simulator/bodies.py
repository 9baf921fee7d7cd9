"""Canned Atlassian response bodies and the helpers that send them.

Every constant cites the docs/atlassian.md section it comes from; bodies quoted there are byte-for-byte
copies of what was recorded. Where a shape is inferred [I], the comment says so and which reading was picked.
"""

from __future__ import annotations

import json
import secrets
from typing import Any
from xml.sax.saxutils import escape as _xml_escape

from aiohttp import web

# -- Confluence v1 -----------------------------------------------------------------------------

# §0 / §0.1: anonymous or unresolved caller, and a caller without Confluence access, on most v1 routes.
STACKLESS_403_BODY = (
    '{"statusCode":403,"message":"com.atlassian.confluence.mvc.rest.common.exception.'
    'StacklessResponseStatusException: 403 FORBIDDEN \\"Request rejected because caller cannot access '
    'Confluence\\""}'
)

# §0: the same refusal on search/CQL-style routes (/wiki/rest/api/search, /content?spaceKey=).
NOT_PERMITTED_403_BODY = '{"message":"Current user not permitted to use Confluence","statusCode":403}'

# §8 A11 (supersedes §0.1/§1.15): removed v1 endpoint, `pagesmodes` package, with auth flags.
GONE_410_BODY = (
    '{"statusCode":410,"data":{"authorized":true,"valid":true,"errors":[],"successful":true},'
    '"message":"com.atlassian.confluence.api.service.exceptions.pagesmodes.GoneException: '
    'This deprecated endpoint has been removed."}'
)

# §1.13 [R] community 2753839: v1 create without the space permission.
PERMISSION_EXCEPTION_CREATE_BODY = (
    '{"statusCode":403,"data":{"authorized":false,"valid":true,"errors":[],"successful":false},'
    '"message":"com.atlassian.confluence.api.service.exceptions.PermissionException: '
    'Could not create content with type page"}'
)

# §1.12 [D]: XSRF-protected POST without `X-Atlassian-Token: no-check` (text).
XSRF_FAILED_BODY = "XSRF check failed"

# §0.1 / §1.17 [R] backlot #285: unknown v1 path or missing /wiki prefix (application/xml).
NOT_FOUND_XML_TEMPLATE = "<status><status-code>404</status-code><message>null for uri: {url}</message></status>"

# §0.1 [R] backlot #233: wrong method. the recorded title is truncated ("org.springframework.web…");
# the rest is the Spring 6 exception text [I].
METHOD_NOT_ALLOWED_TEMPLATE = (
    '{{"errors":[{{"status":405,"code":"METHOD_NOT_ALLOWED","title":"org.springframework.web.'
    "HttpRequestMethodNotSupportedException: Request method '{method}' is not supported\"}}]}}"
)

# §1.13 says v1 answers 404 for a hidden or missing space/content; the envelope follows the v1
# `{"statusCode","data","message"}` family of §8 A11, message text [I].
V1_NOT_FOUND_TEMPLATE = (
    '{{"statusCode":404,"data":{{"authorized":false,"valid":true,"errors":[],"successful":false}},'
    '"message":"{message}"}}'
)
V1_BAD_REQUEST_TEMPLATE = (
    '{{"statusCode":400,"data":{{"authorized":false,"valid":false,"errors":[],"successful":false}},'
    '"message":"{message}"}}'
)

# -- Confluence v2 -----------------------------------------------------------------------------

# §0.1 [R] markfluence: unresolved credential / no "Can use" on v2 — bare "Not Found" title.
V2_NOT_FOUND_BODY = '{"errors":[{"status":404,"code":"NOT_FOUND","title":"Not Found","detail":null}]}'

# §0.1: "a genuine missing object names itself (e.g. `Cannot find a page with id [..]`)".
V2_NAMED_NOT_FOUND_TEMPLATE = (
    '{{"errors":[{{"status":404,"code":"NOT_FOUND","title":"Cannot find a {kind} with id [{id}]","detail":null}}]}}'
)
# §2.4 error envelope; code/title for a bad body [I].
V2_BAD_REQUEST_TEMPLATE = (
    '{{"errors":[{{"status":400,"code":"INVALID_REQUEST_PARAMETER","title":"{title}","detail":null}}]}}'
)

# -- credentials on the site (§0.1, §1.3–§1.5) -------------------------------------------------

# §0.1 / §1.4 [D][R]: password or org API key as the Basic password (text/plain; two spaces).
PASSWORD_DEPRECATED_BODY = (
    "Basic authentication with passwords is deprecated.  For more information, see: "
    "https://confluence.atlassian.com/cloud/deprecation-of-basic-authentication-with-passwords-for-jira-"
    "and-confluence-apis-972355348.html"
)

# §0.1 / §1.5 [R]: scoped (or service-account) token sent to {site} → Tomcat HTML page, not JSON.
# The page layout is Tomcat's standard status report [I]; the description is the sentence docs/atlassian.md §0.1 quotes.
TOMCAT_401_HTML = (
    '<!doctype html><html lang="en"><head><title>HTTP Status 401 – Unauthorized</title>'
    '<style type="text/css">body {font-family:Tahoma,Arial,sans-serif;} h1, h2, h3, b '
    "{color:white;background-color:#525D76;} h1 {font-size:22px;} p {font-size:12px;} "
    "a {color:black;} .line {height:1px;background-color:#525D76;border:none;}</style></head>"
    "<body><h1>HTTP Status 401 – Unauthorized</h1><hr class=\"line\" /><p><b>Type</b> Status Report</p>"
    "<p><b>Description</b> The request has not been applied to the target resource because it lacks "
    'valid authentication credentials for that resource.</p><hr class="line" /><h3>Apache Tomcat</h3>'
    "</body></html>"
)

# §8 A1 [R]: the only Cloud body for "API-token use disabled"; status not shown → 403 [I].
BASIC_AUTH_DISABLED_BODY = '{"message":"Basic Authentication has been disabled on this instance."}'

# §1.11 / §8 A2 [D]: IP not on the allowlist; status not documented → 403 [I].
IP_REJECTED_BODY = (
    '{"errorMessages":["The IP address has been rejected because it is not on the allowed list. '
    'See your admin for more information."],"errors":{}}'
)

# §8 A8 [R]: unknown site name (every site route).
SITE_UNAVAILABLE_BODY = '{"errorMessage": "Site temporarily unavailable"}'

# -- Jira /rest/api/3/myself (§2.5, §0.1) -------------------------------------------------------

# §0.1 / §2.5 [R] backlot #123: rejected credential (text/html) with `WWW-Authenticate: OAuth realm=…`.
JIRA_UNAUTHENTICATED_BODY = "Client must be authenticated to access this resource."

# §0.1 / §1.3 [R] backlot #135: `Authorization: Bearer <classic token>` on Jira routes.
CONNECT_PARSE_ERROR_BODY = '{"error": "Failed to parse Connect Session Auth Token"}'

# §0.1 [R] backlot #285: unknown Jira path (application/problem+json).
JIRA_NOT_FOUND_TEMPLATE = (
    '{{"type":"about:blank","title":"Not Found","status":404,"detail":"No endpoint {method} {path}",'
    '"instance":"{path}"}}'
)

# -- gateway (api.atlassian.com/ex/confluence/{cloudId}) ---------------------------------------

# §0.1 / §1.6 [R]: scoped credential without the route's scope; with `x-failure-category`.
SCOPE_MISMATCH_BODY = '{"code":401,"message":"Unauthorized; scope does not match"}'
SCOPE_FAILURE_CATEGORY = "FAILURE_CLIENT_SCOPE_CHECK"

# §8 A8 [I]: `{code,message}` ProxyError family for a rejected/absent credential and unknown cloudId.
GATEWAY_UNAUTHORIZED_BODY = '{"code":401,"message":"Unauthorized"}'
GATEWAY_NOT_FOUND_BODY = '{"code":404,"message":"Not Found"}'

# -- rate limits and injected errors (§1.16, §4) -----------------------------------------------

# §4: headers are documented, the body "varies" [I].
RATE_LIMITED_BODY = '{"message":"Rate limit exceeded","statusCode":429}'
RATE_LIMIT_REASON = "confluence-quota-tenant-based"  # §4 [R]
RATE_LIMIT_LIMIT = "100"  # §4: numbers are not published [I]
# Injected 5xx (world faults); body [I].
ERROR_FAULT_TEMPLATE = '{{"message":"Injected fault","statusCode":{status}}}'
# Admin APIs at api.atlassian.com: the edge's ProxyError `{code, message}` (admin-organization spec,
# `components.schemas.ProxyError`, the 401 and 429 bodies); messages [I].
PROXY_ERROR_MESSAGES = {401: "Unauthorized", 404: "Not Found", 405: "Method Not Allowed", 429: "Too Many Requests",
                        500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
                        504: "Gateway Timeout"}

# -- helpers -----------------------------------------------------------------------------------

JSON = "application/json"


def dumps(payload: Any) -> str:
    """Compact JSON, as Atlassian sends it."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def raw(body: str, status: int = 200, content_type: str = JSON,
        headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(text=body, status=status, content_type=content_type, headers=headers)


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return raw(dumps(payload), status=status, headers=headers)


def new_trace_id() -> str:
    return secrets.token_hex(16)


def _esc(text: str) -> str:
    """`text` as the inside of a JSON string literal."""
    return json.dumps(text, ensure_ascii=False)[1:-1]


def not_found_xml(url: str) -> web.Response:
    body = NOT_FOUND_XML_TEMPLATE.format(url=_xml_escape(url))
    return raw(body, status=404, content_type="application/xml")


def method_not_allowed(method: str) -> web.Response:
    return raw(METHOD_NOT_ALLOWED_TEMPLATE.format(method=_esc(method)), status=405)


def v1_not_found(message: str) -> web.Response:
    return raw(V1_NOT_FOUND_TEMPLATE.format(message=_esc(message)), status=404)


def v1_bad_request(message: str) -> web.Response:
    return raw(V1_BAD_REQUEST_TEMPLATE.format(message=_esc(message)), status=400)


def v2_named_not_found(kind: str, object_id: str) -> web.Response:
    return raw(V2_NAMED_NOT_FOUND_TEMPLATE.format(kind=kind, id=_esc(object_id)), status=404)


def v2_bad_request(title: str) -> web.Response:
    return raw(V2_BAD_REQUEST_TEMPLATE.format(title=_esc(title)), status=400)


def proxy_error(status: int, message: str) -> str:
    return dumps({"code": status, "message": message})


def jira_not_found(method: str, path: str) -> web.Response:
    body = JIRA_NOT_FOUND_TEMPLATE.format(method=_esc(method), path=_esc(path))
    return raw(body, status=404, content_type="application/problem+json")


# -- OAuth 2.0 (token host, accessible-resources) and look-alikes --------------------------------
# The token host answers in OAuth 2.0's error shape (RFC 6749 §5.2,
# https://www.rfc-editor.org/rfc/rfc6749#section-5.2). Atlassian documents one such answer itself
# (403 {"error": "invalid_grant", "error_description": "Unknown or invalid refresh token."},
# https://developer.atlassian.com/cloud/confluence/oauth-2-3lo-apps/). For a client-credentials request
# with an unknown client or a wrong secret no Atlassian capture was found: the 401 `access_denied` /
# "Unauthorized" below is what an Auth0-hosted token endpoint answers, recorded in public code against a live
# tenant [I: that auth.atlassian.com answers the same]. `unauthorized_client` (403) is the grant refused to a
# client that may not use it (an app's 3LO client id) [I, same wording family].
OAUTH_ACCESS_DENIED_BODY = '{"error":"access_denied","error_description":"Unauthorized"}'
OAUTH_INVALID_CLIENT_BODY = '{"error":"invalid_client","error_description":"Client authentication failed"}'
OAUTH_UNAUTHORIZED_CLIENT_BODY = ('{"error":"unauthorized_client","error_description":"Grant type '
                                  "'client_credentials' not allowed for the client.\"}")
OAUTH_UNSUPPORTED_GRANT_BODY = ('{"error":"unsupported_grant_type","error_description":"Unsupported grant type: '
                                'only client_credentials is simulated"}')
# Avatar URL shape of accessible-resources entries (an example value, [I]).
SITE_AVATAR_URL = "https://site-admin-avatar-cdn.prod.public.atl-paas.net/avatars/240/rocket.png"

# Confluence Data Center/Server look-alike [R]: /status answers 200 {"state":"RUNNING"} on a running node
# (https://jira.atlassian.com/browse/CONFSERVER-102144; the Jira KB "Jira 'status' endpoint response
# meanings" lists the same states); a refused credential on /rest/api gets Tomcat's 401 page with
# "Basic Authentication Failure - Reason : AUTHENTICATED_FAILED" (a DC reply recorded in
# https://github.com/markdown-confluence/markdown-confluence/issues/621). The 404 page for anything else
# (/_edge/tenant_info, /wiki/...) is Tomcat's standard report [I].
DC_STATUS_RUNNING_BODY = '{"state":"RUNNING"}'
DC_TOMCAT_401_HTML = (
    '<!doctype html><html lang="en"><head><title>HTTP Status 401 – Unauthorized</title></head><body>'
    "<h1>HTTP Status 401 – Unauthorized</h1><hr class=\"line\" /><p><b>Type</b> Status Report</p>"
    "<p><b>Message</b> Basic Authentication Failure - Reason : AUTHENTICATED_FAILED</p><p><b>Description</b> "
    "The request has not been applied to the target resource because it lacks valid authentication "
    'credentials for that resource.</p><hr class="line" /><h3>Apache Tomcat/9.0.82</h3></body></html>'
)
DC_TOMCAT_404_HTML = (
    '<!doctype html><html lang="en"><head><title>HTTP Status 404 – Not Found</title></head><body>'
    "<h1>HTTP Status 404 – Not Found</h1><hr class=\"line\" /><p><b>Type</b> Status Report</p>"
    "<p><b>Description</b> The origin server did not find a current representation for the target resource "
    'or is not willing to disclose that one exists.</p><hr class="line" /><h3>Apache Tomcat/9.0.82</h3>'
    "</body></html>"
)
