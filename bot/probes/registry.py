"""Probe registry and the context a probe runs in.

A probe is a small async function registered with `@probe(...)`: it declares what it
`needs` (settings or inputs; the engine turns a missing one into `skip` naming it), which
probes must have succeeded first (`after`: their failure makes it `skip`, naming them), and
which it only waits for (`wait_for`: it reads their facts if there are any).
Ids are dotted `layer.name` and never change: they appear in `decided_by`, JSON and tests.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.atlassian import Atlassian, Auth, Reply, RequestFailed, Role
from bot.config import Settings
from bot.model import CauseCode, Confidence, Evidence, Finding, StepResult, StepStatus
from bot.request import CheckRequest, page_id_of, space_key_of


class Need(StrEnum):
    INSPECTOR = "inspector"
    ORG_KEY = "org_key"
    ACTOR_TOKEN = "actor_token"
    ENDPOINT = "endpoint"
    REPORT = "report"
    SPACE = "space"
    PAGE = "page"


# Why a probe could not run, naming the setting or input that would let it (DESIGN.md).
NEED_REASON: Mapping[Need, str] = {
    Need.INSPECTOR: "ATLASSIAN_EMAIL and ATLASSIAN_API_TOKEN are not set",
    Need.ORG_KEY: "ATLASSIAN_ORG_API_KEY is not set",
    Need.ACTOR_TOKEN: "no actor token given (--actor-token-stdin, or 'Test with the actor's token' in Slack)",
    Need.ENDPOINT: "no failing endpoint given (--endpoint \"METHOD URL\")",
    Need.REPORT: "no observed status or body given (--status, --body)",
    Need.SPACE: "no space given (--space KEY, or an endpoint naming a space)",
    Need.PAGE: "the failing endpoint names no page id",
}


def has_need(need: Need, settings: Settings, request: CheckRequest) -> bool:
    return {
        Need.INSPECTOR: settings.has_inspector,
        Need.ORG_KEY: settings.org_api_key is not None,
        Need.ACTOR_TOKEN: request.actor_secret is not None,
        Need.ENDPOINT: request.failing is not None,
        Need.REPORT: request.observed_status is not None or bool(request.observed_body),
        Need.SPACE: space_key_of(request) is not None,
        Need.PAGE: page_id_of(request) is not None,
    }[need]


NOT_NEEDED = "not needed: "

ProbeFn = Callable[["ProbeContext"], Awaitable[StepResult]]


@dataclass(frozen=True)
class ProbeSpec:
    id: str
    title: str
    fn: ProbeFn
    needs: frozenset[Need] = frozenset()
    after: tuple[str, ...] = ()
    wait_for: tuple[str, ...] = ()


REGISTRY: dict[str, ProbeSpec] = {}


def probe(id: str, *, title: str, needs: set[Need] | frozenset[Need] = frozenset(),
          after: tuple[str, ...] = (), wait_for: tuple[str, ...] = ()) -> Callable[[ProbeFn], ProbeFn]:
    """Register a probe; a duplicate id or an unknown dependency fails at import."""

    def register(fn: ProbeFn) -> ProbeFn:
        if id in REGISTRY:
            raise ValueError(f"duplicate probe id {id!r}")
        unknown = [d for d in (*after, *wait_for) if d not in REGISTRY]
        if unknown:  # dependencies must be registered first, so declared order is a valid order
            raise ValueError(f"probe {id!r} depends on unregistered {unknown}")
        REGISTRY[id] = ProbeSpec(id, title, fn, frozenset(needs), after, wait_for)
        return fn

    return register


@dataclass
class ProbeContext:
    """What one probe sees: input, settings, clients, upstream facts and results. No Slack."""

    spec: ProbeSpec
    request: CheckRequest
    settings: Settings
    http: Atlassian
    facts: dict[str, Any]
    results: Mapping[str, StepResult]
    evidence: list[Evidence] = field(default_factory=list)

    async def call(self, role: Role, method: str, target: str, *, auth: Auth = Auth.NONE,
                   **kwargs: Any) -> Reply:
        """Send a request; its evidence is attached to this step (also when it fails)."""
        try:
            reply = await self.http.call(role, method, target, auth=auth, **kwargs)
        except RequestFailed as exc:
            self.evidence.append(exc.evidence)
            raise
        self.evidence.append(reply.evidence)
        return reply

    def finding(self, cause: CauseCode, confidence: Confidence, detail: str, **facts: str) -> Finding:
        return Finding(cause, confidence, detail, (self.spec.id,), facts)

    def result(self, status: StepStatus, summary: str, *findings: Finding, fix: str | None = None) -> StepResult:
        return StepResult(self.spec.id, self.spec.title, status, summary,
                          evidence=tuple(self.evidence), findings=findings, fix=fix)

    def passed(self, summary: str) -> StepResult:
        return self.result(StepStatus.PASS, summary)

    def warned(self, summary: str, *findings: Finding, fix: str | None = None) -> StepResult:
        return self.result(StepStatus.WARN, summary, *findings, fix=fix)

    def failed(self, summary: str, *findings: Finding, fix: str | None = None) -> StepResult:
        return self.result(StepStatus.FAIL, summary, *findings, fix=fix)

    def skipped(self, why: str) -> StepResult:
        return StepResult(self.spec.id, self.spec.title, StepStatus.SKIP, why, evidence=tuple(self.evidence))

    def not_needed(self, why: str) -> StepResult:
        """A skip that leaves no gap: another probe answers the question (kept out of 'Not checked')."""
        return self.skipped(f"{NOT_NEEDED}{why}")

    def errored(self, how: str) -> StepResult:
        return StepResult.errored(self.spec.id, self.spec.title, how, tuple(self.evidence))

    def upstream_ok(self, probe_id: str) -> bool:
        r = self.results.get(probe_id)
        return r is not None and r.status in (StepStatus.PASS, StepStatus.WARN)
