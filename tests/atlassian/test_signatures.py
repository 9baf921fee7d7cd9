"""Each error body of docs/atlassian.md §0.1 (quoted as Atlassian sends it) is classified as its signature."""

import pytest

from bot.atlassian.signatures import SIGNATURES, Kind, classify
from bot.model import CauseCode

STACKLESS = ('{"statusCode":403,"message":"com.atlassian.confluence.mvc.rest.common.exception.'
             'StacklessResponseStatusException: 403 FORBIDDEN \\"Request rejected because caller cannot access '
             'Confluence\\""}')

CASES = [
    (401, "Basic authentication with passwords is deprecated.  For more information, see: https://confluence."
          "atlassian.com/cloud/deprecation-of-basic-authentication-with-passwords-for-jira-and-confluence-apis-"
          "972355348.html", Kind.PASSWORD, CauseCode.PASSWORD_USED),
    (403, '{"error": "Failed to parse Connect Session Auth Token"}', Kind.BEARER_PARSE,
     CauseCode.BEARER_WITH_API_TOKEN),
    (401, '{"code":401,"message":"Unauthorized; scope does not match"}', Kind.SCOPE_MISMATCH, CauseCode.MISSING_SCOPE),
    (403, "XSRF check failed", Kind.XSRF, CauseCode.XSRF_CHECK_FAILED),
    (403, '{"errorMessages":["The IP address has been rejected because it is not on the allowed list. See your '
          'admin for more information."],"errors":{}}', Kind.IP_ALLOWLIST, CauseCode.IP_NOT_ALLOWLISTED),
    (410, '{"statusCode":410,"data":{"authorized":true,"valid":true,"errors":[],"successful":true},"message":'
          '"com.atlassian.confluence.api.service.exceptions.pagesmodes.GoneException: This deprecated endpoint has '
          'been removed."}', Kind.GONE, CauseCode.ENDPOINT_GONE),
    (410, "", Kind.GONE, CauseCode.ENDPOINT_GONE),
    (404, "<status><status-code>404</status-code><message>null for uri: https://acme.atlassian.net/rest/api/"
          "content</message></status>", Kind.UNKNOWN_PATH, CauseCode.ENDPOINT_NOT_FOUND),
    (404, '{"type":"about:blank","title":"Not Found","status":404,"detail":"No endpoint GET /rest/api/3/nosuch",'
          '"instance":"/rest/api/3/nosuch"}', Kind.UNKNOWN_PATH, CauseCode.ENDPOINT_NOT_FOUND),
    (403, '{"message":"Basic Authentication has been disabled on this instance."}', Kind.BASIC_DISABLED,
     CauseCode.API_TOKEN_AUTH_DISABLED),
    (429, "Too Many Requests", Kind.RATE_LIMITED, CauseCode.RATE_LIMITED),
    (401, "<!doctype html><html><head><title>HTTP Status 401 – Unauthorized</title></head><body>The request has not "
          "been applied to the target resource because it lacks valid authentication credentials for that "
          "resource.</body></html>", Kind.SCOPED_ON_SITE, None),
    (403, STACKLESS, Kind.HEADLINE_403, None),
    (403, '{"message":"Current user not permitted to use Confluence","statusCode":403}', Kind.HEADLINE_403, None),
    (403, '{"statusCode":403,"data":{"authorized":false,"valid":true,"errors":[],"successful":false},"message":'
          '"com.atlassian.confluence.api.service.exceptions.PermissionException: Could not create content with type '
          'page"}', Kind.PERMISSION_EXCEPTION, CauseCode.SPACE_PERMISSION_MISSING),
    (404, '{"errors":[{"status":404,"code":"NOT_FOUND","title":"Not Found","detail":null}]}', Kind.V2_NOT_FOUND,
     None),
    (401, '{"code":401,"message":"Unauthorized"}', Kind.GATEWAY_UNAUTHORIZED, None),
    (404, '{"errorMessage": "Site temporarily unavailable"}', Kind.SITE_UNAVAILABLE, None),
    (503, "", Kind.SERVER_ERROR, None),
    (418, "I'm a teapot", Kind.UNRECOGNISED, None),
]


@pytest.mark.parametrize("status,body,kind,cause", CASES, ids=[f"{c[0]}-{c[2].value}" for c in CASES])
def test_each_signature_is_recognised(status: int, body: str, kind: Kind, cause: CauseCode | None) -> None:
    sig = classify(status, body)
    assert sig.kind is kind
    assert sig.cause is cause


def test_the_headline_403_never_names_a_cause_by_itself() -> None:
    # docs/causes.md rule 1: the body alone cannot tell a refused credential from missing product access
    assert classify(403, STACKLESS).cause is None


def test_a_v2_404_naming_its_object_is_not_the_ambiguous_one() -> None:
    body = '{"errors":[{"status":404,"code":"NOT_FOUND","title":"Cannot find a page with id [42]","detail":null}]}'
    assert classify(404, body).kind is Kind.UNRECOGNISED


@pytest.mark.parametrize("status,body,kind,cause", [c for c in CASES if c[0] not in (None,)],
                         ids=[f"no-status-{c[2].value}" for c in CASES if c[0] not in (None,)])
def test_a_body_reported_without_its_status_is_still_classified(status: int, body: str, kind: Kind,
                                                                 cause: CauseCode | None) -> None:
    sig = classify(None, body)
    patterned = [s for s in SIGNATURES if s.kind is kind and s.pattern is not None and s.pattern.search(body)]
    if patterned:  # a body pattern decides without the status
        assert sig.kind is kind
    else:  # a status-only signature (410, 429, 5xx) cannot match without the status
        assert sig.kind is not kind or kind is Kind.UNRECOGNISED
