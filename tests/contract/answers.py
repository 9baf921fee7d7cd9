"""Checking simulator answers against Atlassian's response schemas, with the few answers docs/atlassian.md
records on statuses the Confluence specs leave out (named, body for body)."""

from __future__ import annotations

from bot.simulator import LoggedRequest, bodies
from tests.contract import openapi
from tests.contract.openapi import Api
from tests.contract.routing import spec_path

_CONFLUENCE = (Api.CONFLUENCE_V1, Api.CONFLUENCE_V2)
# status → (the bodies docs/atlassian.md records for it, why); Confluence routes only.
RECORDED_ONLY: dict[int, tuple[tuple[str, ...], str]] = {
    401: ((bodies.PASSWORD_DEPRECATED_BODY, bodies.TOMCAT_401_HTML, bodies.GATEWAY_UNAUTHORIZED_BODY,
           bodies.SCOPE_MISMATCH_BODY, bodies.DC_TOMCAT_401_HTML),
          "docs/atlassian.md §0.1/§1.4/§1.5: password or scoped token on the site; §1.6/§8 A8: the gateway's refusals; "
          "a Data Center server's Tomcat 401 where a Cloud site was expected (the not_a_cloud_site look-alike)"),
    403: ((bodies.BASIC_AUTH_DISABLED_BODY, bodies.IP_REJECTED_BODY, bodies.STACKLESS_403_BODY),
          "docs/atlassian.md §8 A1 external-user token block, §1.11 IP allowlist, §0 the headline 403 on any v1 route"),
    404: ((bodies.SITE_UNAVAILABLE_BODY, bodies.DC_TOMCAT_404_HTML),
          "docs/atlassian.md §8 A8: an unknown site answers this on every route; a Data Center server's Tomcat 404"),
    405: ((), "docs/atlassian.md §0.1: a wrong method on a Confluence route (METHOD_NOT_ALLOWED)"),
    410: ((bodies.GONE_410_BODY,), "docs/atlassian.md §1.15/§8 A11: a removed v1 route"),
}


def facts_only(api: Api, status: int, text: str | None) -> str | None:
    """The reason when this is an answer docs/atlassian.md records on a status the spec leaves out."""
    known = RECORDED_ONLY.get(status)
    if api not in _CONFLUENCE or known is None:
        return None
    allowed, why = known
    if status == 405:
        return why if text is not None and '"code":"METHOD_NOT_ALLOWED"' in text else None
    return why if text in allowed else None


def check(api: Api, request: LoggedRequest, path: str) -> list[str]:
    op = openapi.find(api, request.method, path)
    if op is None or request.status is None:
        return []  # no operation: the request-side test reports it; no answer: nothing to check
    documented, _ = openapi.response_schema(api, op, request.status)
    if not documented and facts_only(api, request.status, request.reply_body):
        return []
    return openapi.answer_problems(api, op, request.status, request.reply_type, request.reply_body)


def collect(logs: list[tuple[str, list[LoggedRequest]]]) -> tuple[int, dict[str, set[str]]]:
    problems: dict[str, set[str]] = {}
    checked = 0
    for name, log in logs:
        for request in log:
            where = spec_path(request)
            if isinstance(where, str) or where is None:
                continue
            checked += 1
            api, path = where
            for problem in check(api, request, path):
                problems.setdefault(f"{request.method} {request.path} → {request.status}", set()).add(
                    f"{name}: {problem}")
    return checked, problems


def report(problems: dict[str, set[str]]) -> str:
    return "\n".join(f"{label}\n    " + "\n    ".join(sorted(found)[:6]) for label, found in sorted(problems.items()))
