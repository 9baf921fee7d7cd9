"""Plain data of a diagnosis run: statuses, evidence, findings, steps, verdict, the run itself.

No I/O here. Every adapter (terminal, Slack, Markdown, SQLite) renders or stores these objects;
`Run.to_dict()` is the one serialisation (`confluence-check/run@1`, docs/architecture.md §Run JSON) and
`Run.from_dict()` reads it back from history.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, NotRequired, TypedDict

SCHEMA = "confluence-check/run@1"

# The run@1 document's parts, as `to_dict` writes them and `from_dict` reads them back. A document
# stored by an older version may lack a later field: `from_dict` reads those with `.get` and a default.


class EvidenceDoc(TypedDict):
    request: str
    status: int | None
    auth: str
    excerpt: NotRequired[str]
    duration_ms: NotRequired[int]
    note: NotRequired[str]


class StepDoc(TypedDict):
    id: str
    title: str
    status: str
    summary: str
    duration_ms: int
    evidence: list[EvidenceDoc]
    fix: NotRequired[str]


class RuledOutDoc(TypedDict):
    cause: str
    by: str


class OpenDoc(TypedDict):
    cause: str
    would_decide: str


class NotCheckedDoc(TypedDict):
    what: str
    why: str


class VerdictDoc(TypedDict):
    cause: str
    confidence: str
    title: str
    explanation: str
    fix: list[str]
    decided_by: list[str]
    observed: list[str]
    ruled_out: list[RuledOutDoc]
    not_ruled_out: list[OpenDoc]


class FindingDoc(TypedDict):
    cause: str
    confidence: str
    title: str
    detail: str
    decided_by: list[str]


class RunDoc(TypedDict):
    schema: str
    run_id: str
    actor: str
    site: str
    started_at: str
    duration_ms: int | None
    outcome: str | None
    verdict: VerdictDoc | None
    findings: list[FindingDoc]
    not_checked: list[NotCheckedDoc]
    steps: list[StepDoc]
    request: dict[str, Any]  # CheckRequest.describe(), plus what the run or the command added
    interrupted: bool
    previous_run_id: str | None


class StepStatus(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"
    SKIP = "skip"  # could not run: the summary says why
    ERROR = "error"  # the probe itself broke: the summary says how


class Confidence(StrEnum):
    CONFIRMED = "confirmed"  # direct evidence
    LIKELY = "likely"
    POSSIBLE = "possible"

    @property
    def rank(self) -> int:
        return {Confidence.CONFIRMED: 3, Confidence.LIKELY: 2, Confidence.POSSIBLE: 1}[self]


class Outcome(StrEnum):
    OK = "ok"
    PROBLEM = "problem"
    INCONCLUSIVE = "inconclusive"


class CauseCode(StrEnum):
    """The cause codes of docs/causes.md, in catalogue order (outer layers first).

    The catalogue (titles, fixes, layers) is `bot.causes.CATALOGUE`; the order here is the
    order there, and a test compares both with the docs/causes.md table.
    """

    SITE_NOT_FOUND = "site_not_found"
    NOT_A_CLOUD_SITE = "not_a_cloud_site"
    INSPECTOR_MISCONFIGURED = "inspector_misconfigured"
    ATLASSIAN_INCIDENT = "atlassian_incident"
    ACTOR_NOT_FOUND = "actor_not_found"
    ACCOUNT_DEACTIVATED = "account_deactivated"
    ACCOUNT_SUSPENDED = "account_suspended"
    PASSWORD_USED = "password_used"
    BEARER_WITH_API_TOKEN = "bearer_with_api_token"
    AUTH_HEADER_MISSING = "auth_header_missing"
    AUTH_HEADER_MALFORMED = "auth_header_malformed"
    OAUTH_CLIENT_REJECTED = "oauth_client_rejected"
    SCOPED_TOKEN_SITE_URL = "scoped_token_site_url"
    OAUTH_TOKEN_SITE_URL = "oauth_token_site_url"
    TOKEN_EXPIRED = "token_expired"
    OAUTH_TOKEN_EXPIRED = "oauth_token_expired"
    CREDENTIAL_REJECTED = "credential_rejected"
    OAUTH_SITE_NOT_AUTHORIZED = "oauth_site_not_authorized"
    API_TOKEN_BLOCKED = "api_token_blocked"
    API_TOKEN_AUTH_DISABLED = "api_token_auth_disabled"
    IP_NOT_ALLOWLISTED = "ip_not_allowlisted"
    NO_CONFLUENCE_ACCESS = "no_confluence_access"
    GUEST_ACCESS_ONLY = "guest_access_only"
    MISSING_SCOPE = "missing_scope"
    XSRF_CHECK_FAILED = "xsrf_check_failed"
    ENDPOINT_GONE = "endpoint_gone"
    ENDPOINT_NOT_FOUND = "endpoint_not_found"
    SPACE_PERMISSION_MISSING = "space_permission_missing"
    PAGE_RESTRICTED = "page_restricted"
    RATE_LIMITED = "rate_limited"
    REQUEST_NOT_AS_TESTED = "request_not_as_tested"
    OK = "ok"
    INCONCLUSIVE = "inconclusive"


def outcome_of(cause: CauseCode) -> Outcome:
    """`ok` for ok; `inconclusive` when the bot could not decide (docs/architecture.md §Missing evidence);
    `problem` otherwise."""
    if cause is CauseCode.OK:
        return Outcome.OK
    if cause in (CauseCode.INCONCLUSIVE, CauseCode.INSPECTOR_MISCONFIGURED):
        return Outcome.INCONCLUSIVE
    return Outcome.PROBLEM


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class Evidence:
    """One request a probe made and what came back. Built only through redaction
    (`bot.atlassian.redact`), so it never holds a secret."""

    request: str  # "GET https://acme.atlassian.net/wiki/rest/api/user/current"
    status: int | None = None  # None: no response (timeout, connection error)
    auth: str = "none"  # which credential was presented: none, inspector, org_key, actor, actor_bearer, …
    excerpt: str | None = None  # the start of the body, redacted
    duration_ms: int | None = None
    note: str | None = None

    def to_dict(self) -> EvidenceDoc:
        out: EvidenceDoc = {"request": self.request, "status": self.status, "auth": self.auth}
        if self.excerpt is not None:
            out["excerpt"] = self.excerpt
        if self.duration_ms is not None:
            out["duration_ms"] = self.duration_ms
        if self.note is not None:
            out["note"] = self.note
        return out

    @classmethod
    def from_dict(cls, data: EvidenceDoc) -> Evidence:
        return cls(
            request=data["request"],
            status=data.get("status"),
            auth=data.get("auth", "none"),
            excerpt=data.get("excerpt"),
            duration_ms=data.get("duration_ms"),
            note=data.get("note"),
        )


class Observation:
    """Base of what a probe saw (the kinds are in `bot.observations`): no cause, no confidence; only the
    judge (`bot.judge`) turns observations into a verdict."""

    __slots__ = ()

    def template(self) -> dict[str, str]:
        """Values this observation gives the fix templates (`{page_url}`...)."""
        return {}


@dataclass(frozen=True, slots=True)
class NotChecked:
    what: str
    why: str  # names the setting or input that would decide it

    def to_dict(self) -> NotCheckedDoc:
        return {"what": self.what, "why": self.why}


@dataclass(frozen=True, slots=True)
class StepResult:
    """The result of one probe. Use the constructors; a skip or error always says why."""

    id: str
    title: str
    status: StepStatus
    summary: str
    duration_ms: int = 0
    evidence: tuple[Evidence, ...] = ()
    observations: tuple[Observation, ...] = ()  # what the step saw, for the judge (not stored)
    fix: str | None = None  # what to do about a fail/warn, when the step knows

    @classmethod
    def skipped(cls, id: str, title: str, why: str) -> StepResult:
        if not why:
            raise ValueError("a skipped step must say why")
        return cls(id=id, title=title, status=StepStatus.SKIP, summary=why)

    @classmethod
    def errored(cls, id: str, title: str, how: str, evidence: tuple[Evidence, ...] = ()) -> StepResult:
        if not how:
            raise ValueError("an errored step must say how")
        return cls(id=id, title=title, status=StepStatus.ERROR, summary=how, evidence=evidence)

    def to_dict(self) -> StepDoc:
        out: StepDoc = {
            "id": self.id,
            "title": self.title,
            "status": self.status.value,
            "summary": self.summary,
            "duration_ms": self.duration_ms,
            "evidence": [e.to_dict() for e in self.evidence],
        }
        if self.fix:
            out["fix"] = self.fix
        return out

    @classmethod
    def from_dict(cls, data: StepDoc) -> StepResult:
        return cls(
            id=data["id"],
            title=data["title"],
            status=StepStatus(data["status"]),
            summary=data.get("summary", ""),
            duration_ms=data.get("duration_ms", 0),
            evidence=tuple(Evidence.from_dict(e) for e in data.get("evidence", [])),
            fix=data.get("fix"),
        )


@dataclass(frozen=True, slots=True)
class RuledOut:
    """A rival cause the run considered, and the observation that excluded it, in plain words."""

    cause: CauseCode
    by: str

    def to_dict(self) -> RuledOutDoc:
        return {"cause": self.cause.value, "by": self.by}


@dataclass(frozen=True, slots=True)
class Open:
    """A rival cause the run could not exclude, and what would decide it."""

    cause: CauseCode
    would_decide: str

    def to_dict(self) -> OpenDoc:
        return {"cause": self.cause.value, "would_decide": self.would_decide}


@dataclass(frozen=True, slots=True)
class Verdict:
    cause: CauseCode
    confidence: Confidence
    title: str
    explanation: str
    fix: tuple[str, ...]
    decided_by: tuple[str, ...]  # step ids (kept for compatibility; `observed` says it in words)
    observed: tuple[str, ...] = ()  # what decided it, in plain words
    ruled_out: tuple[RuledOut, ...] = ()
    not_ruled_out: tuple[Open, ...] = ()

    @property
    def outcome(self) -> Outcome:
        return outcome_of(self.cause)

    def to_dict(self) -> VerdictDoc:
        return {
            "cause": self.cause.value,
            "confidence": self.confidence.value,
            "title": self.title,
            "explanation": self.explanation,
            "fix": list(self.fix),
            "decided_by": list(self.decided_by),
            "observed": list(self.observed),
            "ruled_out": [r.to_dict() for r in self.ruled_out],
            "not_ruled_out": [o.to_dict() for o in self.not_ruled_out],
        }

    @classmethod
    def from_dict(cls, data: VerdictDoc) -> Verdict:
        """A stored verdict; one stored before `observed`/`ruled_out`/`not_ruled_out` existed reads
        back with them empty (the fields are additive in run@1)."""
        return cls(
            cause=CauseCode(data["cause"]),
            confidence=Confidence(data["confidence"]),
            title=data["title"],
            explanation=data.get("explanation", ""),
            fix=tuple(data.get("fix", [])),
            decided_by=tuple(data.get("decided_by", [])),
            observed=tuple(data.get("observed", [])),
            ruled_out=tuple(RuledOut(CauseCode(r["cause"]), r["by"]) for r in data.get("ruled_out", [])),
            not_ruled_out=tuple(Open(CauseCode(o["cause"]), o["would_decide"])
                                for o in data.get("not_ruled_out", [])),
        )


@dataclass(frozen=True, slots=True)
class FindingSummary:
    """A finding as stored in a finished run (title resolved, facts dropped)."""

    cause: CauseCode
    confidence: Confidence
    title: str
    detail: str
    decided_by: tuple[str, ...]

    def to_dict(self) -> FindingDoc:
        return {
            "cause": self.cause.value,
            "confidence": self.confidence.value,
            "title": self.title,
            "detail": self.detail,
            "decided_by": list(self.decided_by),
        }

    @classmethod
    def from_dict(cls, data: FindingDoc) -> FindingSummary:
        return cls(
            cause=CauseCode(data["cause"]),
            confidence=Confidence(data["confidence"]),
            title=data.get("title", ""),
            detail=data.get("detail", ""),
            decided_by=tuple(data.get("decided_by", [])),
        )


@dataclass(slots=True)
class Run:
    """One diagnosis: in progress while `verdict` is None, finished after.

    `steps` keeps the declared probe order; a step not yet finished is absent.
    `planned` lists (id, title) of every probe in the run, in declared order, so a live
    view can show pending steps.
    """

    run_id: str
    actor: str
    site: str
    started_at: datetime
    planned: list[tuple[str, str]] = field(default_factory=list)
    steps: list[StepResult] = field(default_factory=list)
    duration_ms: int | None = None
    verdict: Verdict | None = None
    findings: list[FindingSummary] = field(default_factory=list)
    not_checked: list[NotChecked] = field(default_factory=list)
    request: Mapping[str, Any] = field(default_factory=dict)  # CheckRequest.describe(): no secrets
    interrupted: bool = False
    previous_run_id: str | None = None

    @property
    def finished(self) -> bool:
        return self.verdict is not None

    @property
    def outcome(self) -> Outcome | None:
        return self.verdict.outcome if self.verdict else None

    def step(self, step_id: str) -> StepResult | None:
        return next((s for s in self.steps if s.id == step_id), None)

    def to_dict(self) -> RunDoc:
        return {
            "schema": SCHEMA,
            "run_id": self.run_id,
            "actor": self.actor,
            "site": self.site,
            "started_at": iso(self.started_at),
            "duration_ms": self.duration_ms,
            "outcome": self.outcome.value if self.outcome else None,
            "verdict": self.verdict.to_dict() if self.verdict else None,
            "findings": [f.to_dict() for f in self.findings],
            "not_checked": [n.to_dict() for n in self.not_checked],
            "steps": [s.to_dict() for s in self.steps],
            "request": dict(self.request),
            "interrupted": self.interrupted,
            "previous_run_id": self.previous_run_id,
        }

    @classmethod
    def from_dict(cls, data: RunDoc) -> Run:
        if data.get("schema") != SCHEMA:
            raise ValueError(f"not a {SCHEMA} document: {data.get('schema')!r}")
        steps = [StepResult.from_dict(s) for s in data.get("steps", [])]
        verdict = data.get("verdict")
        return cls(
            run_id=data["run_id"],
            actor=data["actor"],
            site=data["site"],
            started_at=datetime.strptime(data["started_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC),
            planned=[(s.id, s.title) for s in steps],
            steps=steps,
            duration_ms=data.get("duration_ms"),
            verdict=Verdict.from_dict(verdict) if verdict else None,
            findings=[FindingSummary.from_dict(f) for f in data.get("findings", [])],
            not_checked=[NotChecked(**n) for n in data.get("not_checked", [])],
            request=data.get("request", {}),
            interrupted=data.get("interrupted", False),
            previous_run_id=data.get("previous_run_id"),
        )
