"""Report layer: what the status and body the user saw already tell (docs/atlassian.md §0.1).

A body given without its status is still classified (by its body pattern). What the report weighs
against the product's own replay is the judge's: a reported body is an indirect observation.
"""

from __future__ import annotations

from bot.atlassian.signatures import Kind, classify
from bot.model import StepResult
from bot.needs import Need
from bot.observations import ReportedBody
from bot.probes.registry import ProbeContext, probe

# What a person is told about the ambiguous reported bodies (the later steps tell them apart).
_AMBIGUOUS = {
    Kind.HEADLINE_403: "a refused credential and missing product access give the same body; the steps below tell "
                       "them apart",
    Kind.V2_NOT_FOUND: "v2 hides objects from unresolved credentials as 404",
}


@probe("report.classify", title="Reported error matches a known signature", needs={Need.REPORT})
async def report_classify(ctx: ProbeContext) -> StepResult:
    status, body = ctx.request.observed_status, ctx.request.observed_body
    sig = classify(status, body)
    ctx.observe(ReportedBody(status, sig.kind, sig.label))
    seen = f"{status or '?'}: {sig.label}"
    if sig.kind in _AMBIGUOUS:
        return ctx.warned(f"{seen} — {_AMBIGUOUS[sig.kind]}")
    if sig.cause is not None or sig.kind in (Kind.SCOPED_ON_SITE, Kind.GATEWAY_UNAUTHORIZED):
        return ctx.failed(seen)
    return ctx.warned(seen)
