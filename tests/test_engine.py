"""The engine with small test probes: typed facts, build vs judge waits, needs, guards, ordering."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx
import pytest

from bot import engine
from bot.config import Settings
from bot.facts import FactKey, Unknown
from bot.model import CauseCode, Confidence, Run, StepResult, StepStatus
from bot.observations import Absent, Answer, EndpointReplay, PageCheck, ReplayAnswer, TokenList, Where
from bot.probes import REGISTRY, Need, ProbeContext, ProbeSpec
from bot.probes.graph import build_depth, describe
from bot.probes.registry import validate
from bot.request import CheckRequest
from tests.fakes.atlassian_http import MockTransport

SETTINGS = Settings.load({"ATLASSIAN_SITE_URL": "https://acme.atlassian.net", "ATLASSIAN_API_TOKEN": "SECRET-XYZ-1"})
REQUEST = CheckRequest("a@acme.com")
ACCEPTED = ReplayAnswer(Where.SITE, 200, Answer.KNOWN, None, "accepted as A")
TRANSPORT = MockTransport(lambda r: httpx.Response(200))


@dataclass(frozen=True)
class Thing:
    name: str


A = FactKey("a", Thing, "thing A")
B = FactKey("b", Thing, "thing B")


def spec(id: str, fn, **kw) -> ProbeSpec:
    return ProbeSpec(id=id, title=id.upper(), fn=fn, **kw)


async def run(*specs: ProbeSpec, request: CheckRequest = REQUEST):
    handle = engine.start(request, SETTINGS, probes=specs, transport=TRANSPORT)
    streamed = [s.id async for s in handle]
    return streamed, await handle.wait()


async def test_independent_probes_overlap_and_builders_wait_for_their_facts() -> None:
    events: list[str] = []

    async def slow_provider(ctx: ProbeContext) -> StepResult:
        events.append("start a")
        await asyncio.sleep(0.05)
        ctx.provide(A, Thing("from a"))
        events.append("end a")
        return ctx.passed("a")

    async def fast(ctx: ProbeContext) -> StepResult:
        events.append("start b")
        return ctx.passed("b")

    async def builder(ctx: ProbeContext) -> StepResult:
        thing = await ctx.require(A)
        events.append(f"request c with {thing.name}")
        return ctx.passed("c")

    streamed, result = await run(spec("a.slow", slow_provider, provides=(A,)), spec("b.fast", fast),
                                 spec("c.needs_a", builder, build=(A,)))
    assert events.index("start b") < events.index("end a")  # b did not wait for a
    assert events.index("request c with from a") > events.index("end a")  # c did
    assert streamed == ["b.fast", "a.slow", "c.needs_a"]  # completion order
    assert [s.id for s in result.steps] == ["a.slow", "b.fast", "c.needs_a"]  # declared order


async def test_requests_go_out_before_judge_facts_exist() -> None:
    events: list[str] = []

    async def slow_provider(ctx: ProbeContext) -> StepResult:
        await asyncio.sleep(0.05)
        events.append("a known")
        ctx.provide(A, Thing("x"))
        return ctx.passed("a")

    async def judge(ctx: ProbeContext) -> StepResult:
        events.append("request sent")
        value = await ctx.fact(A)
        events.append("judged")
        return ctx.passed(f"judged with {value}")

    await run(spec("a.slow", slow_provider, provides=(A,)), spec("j.judge", judge, judge=(A,)))
    assert events == ["request sent", "a known", "judged"]


async def test_missing_need_and_unknown_build_fact_become_skips_that_say_why() -> None:
    async def fail(ctx: ProbeContext) -> StepResult:
        return ctx.failed("boom")  # provides nothing: A becomes unknown, with this outcome as the reason

    async def dependent(ctx: ProbeContext) -> StepResult:
        await ctx.require(A)
        raise AssertionError("must not get here")

    async def never(ctx: ProbeContext) -> StepResult:
        raise AssertionError("must not run")

    _, result = await run(spec("x.org", never, needs=frozenset({Need.ORG_KEY}), provides=(B,)),
                          spec("x.fail", fail, provides=(A,)), spec("x.dep", dependent, build=(A,)))
    org, _, dep = result.steps
    assert org.status is StepStatus.SKIP and "ATLASSIAN_ORG_API_KEY is not set" in org.summary
    assert dep.status is StepStatus.SKIP and "thing A" in dep.summary and "X.FAIL" in dep.summary
    assert "boom" in dep.summary and "fail" in dep.summary
    assert {n.why for n in result.not_checked if n.what != "The failing call"} == {org.summary, dep.summary}
    assert any(n.what == "The failing call" and "not described" in n.why for n in result.not_checked)


async def test_a_judge_fact_that_stays_unknown_is_handed_over_as_unknown_with_its_reason() -> None:
    seen: list[object] = []

    async def judge(ctx: ProbeContext) -> StepResult:
        seen.append(await ctx.fact(A))
        return ctx.passed("judged")

    await run(spec("j.judge", judge, judge=(A,)))  # nothing in this run provides A
    [value] = seen
    assert isinstance(value, Unknown) and "thing A" in value.reason


async def test_reading_or_providing_an_undeclared_fact_is_an_error_step() -> None:
    async def sneaky(ctx: ProbeContext) -> StepResult:
        await ctx.fact(B)
        return ctx.passed("read B")

    async def liar(ctx: ProbeContext) -> StepResult:
        ctx.provide(B, Thing("b"))
        return ctx.passed("gave B")

    _, result = await run(spec("a.a", liar, provides=(A,)), spec("s.sneaky", sneaky, judge=(A,)))
    assert [s.status for s in result.steps] == [StepStatus.ERROR, StepStatus.ERROR]
    assert all("undeclared" in s.summary for s in result.steps)


async def test_a_fact_must_have_its_declared_type() -> None:
    async def wrong(ctx: ProbeContext) -> StepResult:
        ctx.provide(A, "yes")  # type: ignore[arg-type]  # the old blackboard's strings are refused
        return ctx.passed("gave a string")

    _, result = await run(spec("a.a", wrong, provides=(A,)))
    assert result.steps[0].status is StepStatus.ERROR and "TypeError" in result.steps[0].summary


def test_the_registry_refuses_reads_before_provides_and_two_providers() -> None:
    async def fn(ctx: ProbeContext) -> StepResult:
        return ctx.passed("")

    with pytest.raises(ValueError, match="no earlier probe provides"):
        validate([spec("x.reader", fn, judge=(A,)), spec("x.giver", fn, provides=(A,))])
    with pytest.raises(ValueError, match="provided by"):
        validate([spec("x.one", fn, provides=(A,)), spec("x.two", fn, provides=(A,))])
    validate(list(REGISTRY.values()))  # the real graph is valid


def test_the_graph_prints_who_waits_for_whom() -> None:
    text = describe()
    lines = {line.split()[0]: line for line in text.splitlines()}
    assert set(lines) == set(REGISTRY)
    # content.space fetches as soon as it knows the space; the actor and groups only judge the answer
    assert "builds on -" in lines["content.space"] and "actor<-identity.lookup" in lines["content.space"]
    assert "site<-site.tenant" in lines["replay.gateway"].split("judges with")[0]
    depth = build_depth(REGISTRY.values())
    assert depth["content.space"] == 1 and depth["product.role"] == 3


async def test_a_crashing_probe_is_an_error_step_with_the_secret_redacted() -> None:
    async def crash(ctx: ProbeContext) -> StepResult:
        raise RuntimeError("token SECRET-XYZ-1 exploded")

    _, result = await run(spec("x.crash", crash))
    step = result.steps[0]
    assert step.status is StepStatus.ERROR
    assert "RuntimeError" in step.summary and "SECRET-XYZ-1" not in step.summary
    assert result.verdict is not None and result.verdict.cause is CauseCode.INCONCLUSIVE


async def test_observations_become_the_verdict_and_an_inner_problem_stays_a_finding() -> None:
    async def inner(ctx: ProbeContext) -> StepResult:
        ctx.observe(PageCheck("42", "read", may=False, space_granted=True))
        return ctx.failed("inner")

    async def outer(ctx: ProbeContext) -> StepResult:
        ctx.observe(TokenList(total=0, live=0, never_used=False, last_used=None, ours=None, labels=""))
        return ctx.failed("outer")

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


async def test_a_reported_failure_that_every_checked_layer_passes_is_not_as_tested_never_ok() -> None:
    async def accepted(ctx: ProbeContext) -> StepResult:
        ctx.observe(ACCEPTED)
        return ctx.passed("credential accepted")

    _, result = await run(spec("replay.site", accepted), request=CheckRequest("a@acme.com", observed_status=403))
    assert (result.verdict.cause, result.verdict.confidence) == (CauseCode.REQUEST_NOT_AS_TESTED, Confidence.LIKELY)
    assert any("confluence-check rule" in line for line in result.verdict.fix)
    _, quiet = await run(spec("replay.site", accepted))  # nothing reported: ok, and it says what was not described
    assert quiet.verdict.cause is CauseCode.OK and quiet.verdict.title == "No blocker found in the account"
    assert any(n.what == "The failing call" for n in quiet.not_checked)


async def test_a_doubtful_warning_keeps_the_run_from_ok() -> None:
    async def fine(ctx: ProbeContext) -> StepResult:
        return ctx.passed("fine")

    async def odd(ctx: ProbeContext) -> StepResult:
        ctx.observe(Absent("space NOPE does not exist"))
        return ctx.warned("space NOPE does not exist")

    async def ok_evidence(ctx: ProbeContext) -> StepResult:
        ctx.observe(ACCEPTED)
        return ctx.passed("credential accepted")

    _, result = await run(spec("replay.credential", ok_evidence), spec("x.fine", fine), spec("x.odd", odd))
    assert result.verdict.cause is CauseCode.INCONCLUSIVE and "NOPE" in result.verdict.explanation
    _, clean = await run(spec("replay.credential", ok_evidence), spec("x.fine", fine))
    assert clean.verdict.cause is CauseCode.OK  # the same run without the warning is ok


async def test_the_stream_ends_even_when_saving_the_run_fails() -> None:
    async def fine(ctx: ProbeContext) -> StepResult:
        return ctx.passed("fine")

    def broken_save(run: Run) -> None:
        raise OSError("disk full")

    handle = engine.start(REQUEST, SETTINGS, probes=[spec("x.fine", fine)], transport=TRANSPORT,
                          on_finish=broken_save)
    streamed = [s.id async for s in handle]  # would hang if the stream were never closed
    assert streamed == ["x.fine"]
    with pytest.raises(OSError, match="disk full"):
        await asyncio.wait_for(handle.wait(), 5)


def test_run_ids_are_unique_and_sortable() -> None:
    ids = [engine.new_run_id() for _ in range(50)]
    assert len(set(ids)) == 50 and all(i.startswith("r_") and len(i) == 28 for i in ids)


async def test_an_answer_lost_to_a_fault_keeps_ok_from_being_confirmed() -> None:
    async def accepted(ctx: ProbeContext) -> StepResult:
        ctx.observe(ACCEPTED, EndpointReplay("GET", "/wiki/rest/api/space", 200, None, "200"))
        return ctx.passed("credential accepted, and the call works")

    async def lost(ctx: ProbeContext) -> StepResult:
        return ctx.errored("the status page could not be read (answered 503): not evidence either way")

    _, clean = await run(spec("replay.credential", accepted))
    _, faulted = await run(spec("replay.credential", accepted), spec("x.lost", lost))
    assert (clean.verdict.cause, clean.verdict.confidence) == (CauseCode.OK, Confidence.CONFIRMED)
    assert (faulted.verdict.cause, faulted.verdict.confidence) == (CauseCode.OK, Confidence.LIKELY)
    assert any("could not be read" in n.why for n in faulted.not_checked)  # and it says what was lost
