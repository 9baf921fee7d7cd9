"""Report layer: what the status and body the user saw already tell (FACTS §0.1)."""

from __future__ import annotations

from bot.atlassian.signatures import Kind, classify
from bot.model import CauseCode, Confidence, StepResult
from bot.probes.registry import Need, ProbeContext, probe
from bot.probes.target import caller_on_site


@probe("report.classify", title="Reported error matches a known signature", needs={Need.REPORT})
async def report_classify(ctx: ProbeContext) -> StepResult:
    status, body = ctx.request.observed_status, ctx.request.observed_body
    sig = classify(status, body)
    seen = f"{status or '?'}: {sig.label}"
    if sig.cause is not None and sig.confidence is not None:
        facts = _path_facts(ctx)
        return ctx.failed(seen, ctx.finding(sig.cause, sig.confidence,
                                            f"The reported response is {sig.label}.", **facts))
    # §0.1: Tomcat 401 page = a scoped/service-account token on the site; gateway replay confirms
    if sig.kind is Kind.SCOPED_ON_SITE and caller_on_site(ctx.request, ctx.settings) is not False:
        return ctx.failed(seen, ctx.finding(
            CauseCode.SCOPED_TOKEN_SITE_URL, Confidence.LIKELY,
            "The reported 401 is the HTML page the site returns to scoped tokens.",
            **_path_facts(ctx)))
    if sig.kind is Kind.GATEWAY_UNAUTHORIZED and not _oauth(ctx):
        # (an OAuth credential's 401 may be an expired token or another site's: the oauth steps tell)
        return ctx.failed(seen, ctx.finding(
            CauseCode.CREDENTIAL_REJECTED, Confidence.LIKELY,
            "The gateway answered 401 'Unauthorized': it did not accept the credential."))
    if sig.kind is Kind.HEADLINE_403:
        return ctx.warned(f"{seen} — a refused credential and missing product access give the same "
                          "body; the steps below tell them apart")
    if sig.kind is Kind.V2_NOT_FOUND:
        return ctx.warned(f"{seen} — v2 hides objects from unresolved credentials as 404")
    return ctx.warned(seen)


def _oauth(ctx: ProbeContext) -> bool:
    return ctx.request.actor_secret is not None and ctx.request.actor_secret.is_oauth


def _path_facts(ctx: ProbeContext) -> dict[str, str]:
    failing = ctx.request.failing
    if failing is None:
        return {}
    path = failing.path
    facts = {"path": path}
    if not path.startswith("/wiki/") and path.startswith("/rest/"):
        facts["suggested_path"] = f"did you mean /wiki{path}?"
    return facts
