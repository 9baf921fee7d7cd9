"""The engine with small test probes: concurrency, dependencies, needs, guards, ordering."""

from __future__ import annotations

import asyncio

import httpx

from bot import engine
from bot.config import Settings
from bot.model import CauseCode, Confidence, StepResult, StepStatus
from bot.probes import Need, ProbeContext, ProbeSpec
from bot.request import CheckRequest

SETTINGS = Settings.load({"ATLASSIAN_SITE_URL": "https://acme.atlassian.net", "ATLASSIAN_API_TOKEN": "SECRET-XYZ-1"})
REQUEST = CheckRequest("a@acme.com")
TRANSPORT = httpx.MockTransport(lambda r: httpx.Response(200))


def spec(id: str, fn, **kw) -> ProbeSpec:
    return ProbeSpec(id=id, title=id.upper(), fn=fn, **kw)


async def run(*specs: ProbeSpec, request: CheckRequest = REQUEST):
    handle = engine.start(request, SETTINGS, probes=specs, transport=TRANSPORT)
    streamed = [s.id async for s in handle]
    return streamed, await handle.wait()


async def test_independent_probes_overlap_and_dependents_wait() -> None:
    events: list[str] = []

    def sleeper(name: str, delay: float):
        async def fn(ctx: ProbeContext) -> StepResult:
            events.append(f"start {name}")
            await asyncio.sleep(delay)
            events.append(f"end {name}")
            return ctx.passed(name)
        return fn

    streamed, result = await run(spec("a.slow", sleeper("a", 0.05)), spec("b.fast", sleeper("b", 0.0)),
                                 spec("c.after_a", sleeper("c", 0.0), after=("a.slow",)))
    assert events.index("start b") < events.index("end a")  # b did not wait for a
    assert events.index("start c") > events.index("end a")  # c did
    assert streamed == ["b.fast", "a.slow", "c.after_a"]  # completion order
    assert [s.id for s in result.steps] == ["a.slow", "b.fast", "c.after_a"]  # declared order


async def test_missing_need_and_failed_upstream_become_skips_that_say_why() -> None:
    async def fail(ctx: ProbeContext) -> StepResult:
        return ctx.failed("boom")

    async def never(ctx: ProbeContext) -> StepResult:
        raise AssertionError("must not run")

    _, result = await run(spec("x.org", never, needs=frozenset({Need.ORG_KEY})), spec("x.fail", fail),
                          spec("x.dep", never, after=("x.fail",)))
    org, _, dep = result.steps
    assert org.status is StepStatus.SKIP and "ATLASSIAN_ORG_API_KEY is not set" in org.summary
    assert dep.status is StepStatus.SKIP and "x.fail" in dep.summary and "fail" in dep.summary
    assert {n.why for n in result.not_checked} == {org.summary, dep.summary}


async def test_a_crashing_probe_is_an_error_step_with_the_secret_redacted() -> None:
    async def crash(ctx: ProbeContext) -> StepResult:
        raise RuntimeError("token SECRET-XYZ-1 exploded")

    _, result = await run(spec("x.crash", crash))
    step = result.steps[0]
    assert step.status is StepStatus.ERROR
    assert "RuntimeError" in step.summary and "SECRET-XYZ-1" not in step.summary
    assert result.verdict is not None and result.verdict.cause is CauseCode.INCONCLUSIVE


async def test_findings_become_the_verdict_in_catalogue_order() -> None:
    async def inner(ctx: ProbeContext) -> StepResult:
        return ctx.failed("inner", ctx.finding(CauseCode.PAGE_RESTRICTED, Confidence.CONFIRMED, "page"))

    async def outer(ctx: ProbeContext) -> StepResult:
        return ctx.failed("outer", ctx.finding(CauseCode.TOKEN_EXPIRED, Confidence.CONFIRMED, "token"))

    _, result = await run(spec("x.inner", inner), spec("x.outer", outer))
    assert result.verdict.cause is CauseCode.TOKEN_EXPIRED
    assert result.verdict.decided_by == ("x.outer",)
    assert [f.cause for f in result.findings] == [CauseCode.TOKEN_EXPIRED, CauseCode.PAGE_RESTRICTED]
    assert result.verdict.fix and result.to_dict()["outcome"] == "problem"


async def test_an_unexplained_reported_failure_is_inconclusive_not_ok() -> None:
    async def fine(ctx: ProbeContext) -> StepResult:
        return ctx.passed("fine")

    _, result = await run(spec("x.fine", fine), request=CheckRequest("a@acme.com", observed_status=403))
    assert result.verdict.cause is CauseCode.INCONCLUSIVE and "403" in result.verdict.explanation


def test_run_ids_are_unique_and_sortable() -> None:
    ids = [engine.new_run_id() for _ in range(50)]
    assert len(set(ids)) == 50 and all(i.startswith("r_") and len(i) == 28 for i in ids)
