"""Probe registry and the context a probe runs in.

A probe is a small async function registered with `@probe(...)`. It declares:
- `needs`: settings or inputs (a missing one makes it `skip`, naming the setting);
- `build`: the typed facts its requests are built from (`await ctx.require(KEY)`: when one is
  unknown the probe is skipped with that fact's reason);
- `judge`: the facts it only needs to interpret the answers (`await ctx.fact(KEY)`, awaited
  after its requests have been sent, so they do not delay them);
- `provides`: the facts it establishes (`ctx.provide(KEY, value)`; a key it leaves unset is
  resolved as unknown with the step's outcome as the reason).
The declarations are data: `bot.probes.graph` prints them, and a probe may only read what it
declared. Ids are dotted `layer.name` and never change: they appear in `decided_by`, JSON and tests.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TypedDict, TypeVar, Unpack

from bot.atlassian import Atlassian, Auth, Reply, RequestFailed, Role
from bot.config import Settings
from bot.facts import FactKey, Unknown
from bot.model import Evidence, StepResult, StepStatus
from bot.needs import Need
from bot.observations import Observation, Unreadable
from bot.request import CheckRequest, page_id_of, space_key_of

T = TypeVar("T")
Keys = tuple[FactKey[object], ...]  # any facts (FactKey is covariant)


def has_need(need: Need, settings: Settings, request: CheckRequest) -> bool:
    return {
        Need.INSPECTOR: settings.has_inspector,
        Need.ORG_KEY: settings.org_api_key is not None,
        Need.ACTOR_TOKEN: request.actor_secret is not None,
        Need.ENDPOINT: request.failing is not None,
        Need.REPORT: request.observed_status is not None or bool(request.observed_body),
        Need.SPACE: space_key_of(request) is not None or page_id_of(request) is not None,
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
    build: Keys = ()
    judge: Keys = ()
    provides: Keys = ()

    @property
    def reads(self) -> Keys:
        return (*self.build, *self.judge)


REGISTRY: dict[str, ProbeSpec] = {}


def probe(id: str, *, title: str, needs: Iterable[Need] = (), build: Keys = (), judge: Keys = (),
          provides: Keys = ()) -> Callable[[ProbeFn], ProbeFn]:
    """Register a probe. Fails at import for a duplicate id, a fact provided twice, or a fact read
    before a probe providing it is registered (so declared order is a valid order: no cycles)."""

    def register(fn: ProbeFn) -> ProbeFn:
        spec = ProbeSpec(id, title, fn, frozenset(needs), build, judge, provides)
        validate([*REGISTRY.values(), spec])
        REGISTRY[id] = spec
        return fn

    return register


def validate(specs: list[ProbeSpec]) -> None:
    """Raise ValueError unless ids are unique, each fact has one provider, and every fact read is
    provided by an earlier probe."""
    provider: dict[str, str] = {}
    seen: set[str] = set()
    for spec in specs:
        if spec.id in seen:
            raise ValueError(f"duplicate probe id {spec.id!r}")
        seen.add(spec.id)
        unknown = [k.name for k in spec.reads if k.name not in provider]
        if unknown:
            raise ValueError(f"probe {spec.id!r} reads {unknown}, which no earlier probe provides")
        for key in spec.provides:
            if key.name in provider:
                raise ValueError(f"fact {key.name!r} is provided by {provider[key.name]!r} and {spec.id!r}")
            provider[key.name] = spec.id


class FactMissing(Exception):
    """A build fact is unknown: the probe cannot build its request (the engine makes it `skip`)."""

    def __init__(self, key: FactKey[object], unknown: Unknown) -> None:
        super().__init__(f"needs {key.what}, which is unknown: {unknown.reason}")
        self.key = key
        self.unknown = unknown


class FactStore:
    """Each fact resolved once: a value or `Unknown`. Readers await it.

    A fact may be *assumed* (kept from an earlier run, `bot.site_facts`): it is resolved before any
    probe starts, and what its providing probe establishes later is kept in `observed`, to be
    compared with the assumption, instead of being dropped."""

    def __init__(self) -> None:
        self._futures: dict[str, asyncio.Future[object]] = {}
        self._assumed: set[str] = set()
        self.observed: dict[str, object] = {}

    def _future(self, key: FactKey[object]) -> asyncio.Future[object]:
        if key.name not in self._futures:
            self._futures[key.name] = asyncio.get_running_loop().create_future()
        return self._futures[key.name]

    def set(self, key: FactKey[T], value: T | Unknown) -> bool:
        """Resolve `key` (first value wins; False when it was already resolved)."""
        if not isinstance(value, key.type | Unknown):
            raise TypeError(f"fact {key.name} must be {key.type.__name__} or Unknown, got {type(value).__name__}")
        future = self._future(key)
        if future.done():
            if key.name in self._assumed:
                self.observed.setdefault(key.name, value)
            return False
        future.set_result(value)
        return True

    def assume(self, key: FactKey[T], value: T) -> None:
        """Resolve `key` now with a value kept from before; its provider's answer goes to `observed`."""
        self.set(key, value)
        self._assumed.add(key.name)

    def peek(self, key: FactKey[T]) -> T | Unknown | None:
        """The fact if it is resolved, else None (without waiting)."""
        future = self._futures.get(key.name)
        return _typed(key, future.result()) if future is not None and future.done() else None

    async def get(self, key: FactKey[T]) -> T | Unknown:
        future = self._future(key)
        if future.done():  # most reads come after the fact is settled: no waiting, nothing to shield
            return _typed(key, future.result())
        return _typed(key, await asyncio.shield(future))

    def known(self) -> list[object]:
        """Every value established so far (unknowns left out)."""
        return [f.result() for f in self._futures.values()
                if f.done() and not isinstance(f.result(), Unknown)]


def _typed(key: FactKey[T], value: object) -> T | Unknown:
    """A stored fact as its key's type (`set` let in nothing else, so this never raises)."""
    if isinstance(value, key.type | Unknown):
        return value
    raise TypeError(f"fact {key.name} holds {type(value).__name__}")


class CallOptions(TypedDict, total=False):
    """The options of `Atlassian.call` a probe may pass on."""

    params: Mapping[str, object] | None
    json: object
    headers: Mapping[str, str] | None
    as_email: str | None
    shared: bool
    form: Mapping[str, str] | None
    bearer_at_site: bool


@dataclass
class ProbeContext:
    """What one probe sees: input, settings, the run's HTTP session, the facts it declared. No Slack."""

    spec: ProbeSpec
    request: CheckRequest
    settings: Settings
    http: Atlassian
    store: FactStore
    evidence: list[Evidence] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)

    async def fact(self, key: FactKey[T]) -> T | Unknown:
        """A declared fact, once it is resolved (a value or Unknown)."""
        if key not in self.spec.reads:
            raise LookupError(f"probe {self.spec.id} reads undeclared fact {key.name!r}")
        return await self.store.get(key)

    async def require(self, key: FactKey[T]) -> T:
        """A declared fact that must be known; an unknown one ends the probe as `skip` with its reason."""
        value = await self.fact(key)
        if isinstance(value, Unknown):
            raise FactMissing(key, value)
        return value

    def provide(self, key: FactKey[T], value: T | Unknown) -> None:
        if key not in self.spec.provides:
            raise LookupError(f"probe {self.spec.id} provides undeclared fact {key.name!r}")
        self.store.set(key, value)

    async def call(self, role: Role, method: str, target: str, *, auth: Auth = Auth.NONE,
                   **kwargs: Unpack[CallOptions]) -> Reply:
        """Send a request; its evidence is attached to this step (also when it fails)."""
        try:
            reply = await self.http.call(role, method, target, auth=auth, **kwargs)
        except RequestFailed as exc:
            self.evidence.append(exc.evidence)
            raise
        self.evidence.append(reply.evidence)
        return reply

    def observe(self, *observations: Observation) -> None:
        """Record what this step saw; the judge (`bot.judge`) alone turns observations into a verdict."""
        self.observations.extend(observations)

    def result(self, status: StepStatus, summary: str, fix: str | None = None) -> StepResult:
        return StepResult(self.spec.id, self.spec.title, status, summary, evidence=tuple(self.evidence),
                          observations=tuple(self.observations), fix=fix)

    def passed(self, summary: str) -> StepResult:
        return self.result(StepStatus.PASS, summary)

    def warned(self, summary: str, fix: str | None = None) -> StepResult:
        return self.result(StepStatus.WARN, summary, fix=fix)

    def failed(self, summary: str, fix: str | None = None) -> StepResult:
        return self.result(StepStatus.FAIL, summary, fix=fix)

    def skipped(self, why: str) -> StepResult:
        return StepResult(self.spec.id, self.spec.title, StepStatus.SKIP, why, evidence=tuple(self.evidence),
                          observations=tuple(self.observations))

    def not_needed(self, why: str) -> StepResult:
        """A skip that leaves no gap: another probe answers the question (kept out of 'Not checked')."""
        return self.skipped(f"{NOT_NEEDED}{why}")

    def errored(self, how: str) -> StepResult:
        return replace(StepResult.errored(self.spec.id, self.spec.title, how, tuple(self.evidence)),
                       observations=tuple(self.observations))

    def unreadable(self, what: str, reply: Reply) -> StepResult:
        """An answer that is not evidence (a 5xx, a 429 after retries, a body that does not parse)."""
        self.observe(Unreadable(what))
        return self.errored(f"{what} could not be read ({_answer(reply)}): not evidence either way")


def _answer(reply: Reply) -> str:
    if 200 <= reply.status < 300:
        return f"{reply.status} with a body that is not the expected JSON"
    return f"answered {reply.status}"
