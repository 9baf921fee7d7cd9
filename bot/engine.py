"""Runs the probe graph concurrently, streams step results, builds the verdict.

Each probe starts as soon as the probes it depends on are done (flutter doctor's
`startValidatorTasks`, with dependencies). Every probe is guarded: an exception or the run
deadline becomes an `error` step naming the exception type, with a redacted message. Steps
stream in completion order; `Run.steps` keeps declared order.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from bot import judge
from bot.atlassian import Atlassian, Redactor, RequestFailed, RetryPolicy
from bot.atlassian.clients import REQUEST_TIMEOUT_S, RUN_DEADLINE_S
from bot.atlassian.transport import Transport
from bot.config import Settings
from bot.errors import HostNotAllowed
from bot.facts import ACTOR_EMAIL, ActorEmail, FactKey, OwnUse, Unknown
from bot.model import NotChecked, Run, StepResult, StepStatus, utcnow
from bot.needs import NEED_REASON, Need
from bot.observations import FailingCall, Unreadable, Where
from bot.probes import NOT_NEEDED, REGISTRY, ProbeContext, ProbeSpec, has_need
from bot.probes.oauth import scope_facts
from bot.probes.registry import FactMissing, FactStore
from bot.probes.target import GATEWAY_PREFIX
from bot.request import CheckRequest, SecretKind, is_email

PROBE_TIMEOUT_S = 25.0
Assumed = Mapping[FactKey[object], object]  # facts kept from earlier runs, each of its key's type
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_run_id() -> str:
    """`r_` + a 26-char ULID (time-ordered, random tail)."""
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "r_" + "".join(reversed(chars))


class RunHandle:
    """A run in progress: iterate it for steps as they finish; `await wait()` for the Run."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self._queue: asyncio.Queue[StepResult | None] = asyncio.Queue()
        self._done = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.facts: FactStore | None = None  # the run's facts, once its probes are done
        self.actor_first_use: datetime | None = None  # when the run first sent the actor's credential

    def __aiter__(self) -> AsyncIterator[StepResult]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[StepResult]:
        while True:
            step = await self._queue.get()
            if step is None:
                return
            yield step

    async def wait(self) -> Run:
        await self._done.wait()
        if self._task is not None:
            await asyncio.wait({self._task})  # it ends right after closing the stream
            failure = self._task.exception()
            if failure is not None:
                raise failure
        return self.run

    def _emit(self, step: StepResult) -> None:
        self._queue.put_nowait(step)

    def _finish(self) -> None:
        self._queue.put_nowait(None)
        self._done.set()


def start(
    request: CheckRequest,
    settings: Settings,
    *,
    run_id: str | None = None,
    transport: Transport | None = None,
    probes: Iterable[ProbeSpec] | None = None,
    on_finish: Callable[[Run], object] | None = None,
    retry: RetryPolicy | None = None,
    timeout_s: float = REQUEST_TIMEOUT_S,
    assume: Callable[[], Awaitable[Assumed]] | None = None,
    deadline_s: float | None = None,
    own_use: Callable[[], Awaitable[OwnUse | None]] | None = None,
) -> RunHandle:
    """Start a run on the current event loop and return its handle at once. `retry` and
    `timeout_s` (per request) override the defaults (tests use short ones); `deadline_s` the run's
    deadline (what is left of its command's). `assume` gives facts kept from earlier runs
    (`bot.site_facts`): see `_run_graph`; `own_use` this tool's last use of the actor's credential in
    an earlier run (the history), so the token list does not read it as the caller's."""
    specs = list(probes if probes is not None else REGISTRY.values())
    run = Run(
        run_id=run_id or new_run_id(),
        actor=request.actor,
        site=settings.site_url or "",
        started_at=utcnow(),
        planned=[(s.id, s.title) for s in specs],
        request=describe_request(request, settings),
    )
    handle = RunHandle(run)
    handle._task = asyncio.create_task(
        _execute(handle, request, settings, specs, transport, on_finish, retry, timeout_s, assume, deadline_s,
                 own_use))
    return handle


def describe_request(request: CheckRequest, settings: Settings) -> dict[str, Any]:
    """The run's input as stored from its first save on: a pasted body is redacted too."""
    redact = Redactor([*settings.secrets(), *request.secrets()])
    described = request.describe()
    described["body"] = redact(described.get("body"))
    return described


async def _execute(handle: RunHandle, request: CheckRequest, settings: Settings,
                   specs: list[ProbeSpec], transport: Transport | None,
                   on_finish: Callable[[Run], object] | None, retry: RetryPolicy | None = None,
                   timeout_s: float = REQUEST_TIMEOUT_S,
                   assume: Callable[[], Awaitable[Assumed]] | None = None,
                   deadline_s: float | None = None,
                   own_use: Callable[[], Awaitable[OwnUse | None]] | None = None) -> None:
    started = time.monotonic()
    run = handle.run
    secret = request.actor_secret
    try:
        async with Atlassian(settings, actor_token=secret.token if secret and not secret.is_oauth else None,
                             access_token=secret.token if secret and secret.kind is SecretKind.ACCESS_TOKEN else None,
                             client=(secret.client_id or "", secret.token)
                             if secret and secret.kind is SecretKind.CLIENT_CREDENTIALS else None,
                             transport=transport, extra_secrets=request.secrets(), retry=retry,
                             timeout_s=timeout_s,
                             deadline_s=RUN_DEADLINE_S if deadline_s is None else deadline_s) as http:
            assumed = dict(await assume()) if assume is not None else {}
            if own_use is not None:
                request = replace(request, own_use=await own_use())
            shown: set[str] = set()
            try:
                _, store = await _run_graph(handle, request, settings, specs, http, assumed, shown)
            except* AssumptionContradicted:  # the run is done again as if nothing were known
                run.steps.clear()
                _, store = await _run_graph(handle, request, settings, specs, http, {}, shown)
        handle.facts = store
        handle.actor_first_use = http.actor_first_use
        facts = _fix_facts(settings, request, store)
        if facts.get("account_id"):  # the account the run resolved: history files an email and an id as one
            run.request = {**run.request, "account_id": facts["account_id"]}
        run.not_checked = _not_checked(run.steps, request)
        assessment = judge.assess(_seen(run.steps, request, settings), _context(request, facts, run.not_checked))
        run.verdict, run.findings = assessment.verdict, list(assessment.findings)
    finally:
        run.duration_ms = int((time.monotonic() - started) * 1000)
        try:
            if run.verdict is not None and on_finish is not None:
                on_finish(run)
        finally:
            # The stream always ends, even when saving the run fails: `wait()` then raises that
            # failure instead of a listener hanging on a stream that never closes.
            handle._finish()


def _seed(store: FactStore, request: CheckRequest) -> None:
    """Facts the input already establishes. The actor's email for Basic email:token comes from
    `email:token`, or from an email-address actor; otherwise identity.lookup provides it."""
    secret = request.actor_secret
    email = (secret.email if secret and secret.email else None) or (
        request.actor if is_email(request.actor) else None)
    if email:
        store.set(ACTOR_EMAIL, ActorEmail(email.lower()))


class AssumptionContradicted(Exception):
    """A fact assumed from an earlier run differs from what this run's own probe established."""


async def _run_graph(handle: RunHandle, request: CheckRequest, settings: Settings, specs: list[ProbeSpec],
                     http: Atlassian, assumed: Assumed | None = None,
                     shown: set[str] | None = None) -> tuple[dict[str, StepResult], FactStore]:
    """Run every probe as soon as what it reads is resolved.

    `assumed` facts (kept from earlier runs: a site's cloudId, an org key's org id) are resolved
    before any probe starts, so the probes reading them do not wait for the probes providing them.
    Those providers still run, and check the assumption: until each has settled, the steps that
    depend on an assumption are held back; if one established something else (or nothing), the
    run raises `AssumptionContradicted` and is done again without assumptions. `shown`: steps
    already streamed (not streamed twice)."""
    store = FactStore()
    _seed(store, request)
    results: dict[str, StepResult] = {}
    shown = set() if shown is None else shown
    order = {s.id: i for i, s in enumerate(specs)}
    provided = {k.name for s in specs for k in s.provides}
    for spec in specs:  # a fact no probe of this run provides is unknown from the start
        for key in spec.reads:
            if key.name not in provided:
                store.set(key, Unknown(f"no check of this run establishes {key.what}"))
    missing = {spec.id: _missing_needs(spec, settings, request) for spec in specs}
    checker_of = {k.name: s.id for s in specs for k in s.provides if missing[s.id] is None}
    assumed = {k: v for k, v in (assumed or {}).items() if k.name in checker_of}  # only what this run checks
    for key, value in assumed.items():
        store.assume(key, value)
    unchecked = {checker_of[k.name] for k in assumed}
    dependent = _reading(specs, {k.name for k in assumed}) - unchecked
    held: list[StepResult] = []

    def show(result: StepResult) -> None:
        _insert_ordered(handle.run.steps, result, order)
        if result.id not in shown:
            shown.add(result.id)
            handle._emit(result)

    def settle(spec: ProbeSpec, result: StepResult) -> None:
        for key in spec.provides:  # whatever the probe did not establish is unknown, and says why
            store.set(key, Unknown(_why_unknown(result)))
        results[spec.id] = result
        if unchecked and spec.id in dependent:
            held.append(result)
            return
        show(result)
        if spec.id in unchecked:
            unchecked.discard(spec.id)
            if not unchecked:
                if any(store.observed.get(k.name) != v for k, v in assumed.items()):
                    raise AssumptionContradicted
                for waiting in held:
                    show(waiting)

    async def run_one(spec: ProbeSpec) -> None:
        ctx = ProbeContext(spec, request, settings, http, store)
        t0 = time.monotonic()
        result = await _guarded(spec, ctx, settings, request, http)
        settle(spec, _with_duration(result, int((time.monotonic() - t0) * 1000)))

    # A probe whose input this run lacks (no actor token, no space) is settled at once, not as a task
    runnable = []
    for spec in specs:
        lacking = missing[spec.id]
        if lacking is None:
            runnable.append(spec)
        else:
            settle(spec, _with_duration(lacking, 0))
    async with asyncio.TaskGroup() as group:
        for spec in runnable:
            group.create_task(run_one(spec))
    return results, store


def _reading(specs: list[ProbeSpec], names: set[str]) -> set[str]:
    """The probes that read one of these facts, or a fact provided by such a probe (declared order
    is a valid order, so one pass finds them all)."""
    reached, out = set(names), set()
    for spec in specs:
        if any(k.name in reached for k in spec.reads):
            out.add(spec.id)
            reached.update(k.name for k in spec.provides)
    return out


def _why_unknown(result: StepResult) -> str:
    summary = result.summary.removeprefix(NOT_NEEDED)
    if result.status is StepStatus.SKIP:
        return f"'{result.title}' did not run ({summary})"
    return f"'{result.title}' ended {result.status.value}: {summary}"


def _missing_needs(spec: ProbeSpec, settings: Settings, request: CheckRequest) -> StepResult | None:
    """The probe's step as skipped when this run lacks an input it needs, else None."""
    missing = [n for n in sorted(spec.needs) if not has_need(n, settings, request)]
    if missing:
        return StepResult.skipped(spec.id, spec.title, "; ".join(NEED_REASON[n] for n in missing))
    return None


async def _guarded(spec: ProbeSpec, ctx: ProbeContext, settings: Settings, request: CheckRequest,
                   http: Atlassian) -> StepResult:
    skipped = _missing_needs(spec, settings, request)
    if skipped is not None:
        return skipped
    try:
        async with asyncio.timeout(max(0.1, min(PROBE_TIMEOUT_S, http.deadline.remaining()))):
            return await spec.fn(ctx)
    except FactMissing as exc:
        return ctx.skipped(str(exc))
    except RequestFailed as exc:
        return ctx.errored(f"{http.redact(str(exc)) or 'request failed'}: not evidence either way")
    except TimeoutError:
        return ctx.errored("TimeoutError: the run deadline passed before this probe finished")
    except HostNotAllowed as exc:
        return ctx.errored(f"HostNotAllowed: {exc}")
    except Exception as exc:  # a probe bug must become an error step, never a crash or a pass
        return ctx.errored(f"{type(exc).__name__}: {http.redact(str(exc)) or ''}".rstrip(": "))


def _with_duration(result: StepResult, ms: int) -> StepResult:
    return replace(result, duration_ms=ms)


def _insert_ordered(steps: list[StepResult], result: StepResult, order: dict[str, int]) -> None:
    position = order[result.id]
    index = next((i for i, s in enumerate(steps) if order.get(s.id, 0) > position), len(steps))
    steps.insert(index, result)


def _not_checked(steps: list[StepResult], request: CheckRequest) -> list[NotChecked]:
    """Skipped steps and steps whose answers could not be read (errors), those sharing a reason
    grouped into one line (the reason names the fix or what failed); and the failing call itself
    when nothing describes it (no endpoint, status, body or rule)."""
    by_reason: dict[str, list[str]] = {}
    for s in steps:
        if s.status is StepStatus.SKIP and not s.summary.startswith(NOT_NEEDED):
            by_reason.setdefault(s.summary, []).append(s.title)
        elif s.status is StepStatus.ERROR:
            by_reason.setdefault(f"could not be read: {s.summary}", []).append(s.title)
    out = [NotChecked(what=", ".join(titles), why=why) for why, titles in by_reason.items()]
    described = (request.failing is not None or request.observed_status is not None or bool(request.observed_body)
                 or request.rule is not None)
    if not described:
        out.append(NotChecked(what="The failing call", why="not described: " + NEED_REASON[Need.ENDPOINT] + "; "
                              + NEED_REASON[Need.REPORT]))
    return out


def _seen(steps: list[StepResult], request: CheckRequest, settings: Settings) -> list[judge.Seen]:
    """Every observation of the run, with the step that made it; the failing call as described first."""
    seen = [judge.Seen("input", call) for call in _failing_call(request, settings)]
    for step in steps:
        seen += [judge.Seen(step.id, o) for o in step.observations]
        if step.status is StepStatus.ERROR and not any(isinstance(o, Unreadable) for o in step.observations):
            seen.append(judge.Seen(step.id, Unreadable(step.title)))  # a probe that broke or timed out: a fault
    return seen


def _failing_call(request: CheckRequest, settings: Settings) -> list[FailingCall]:
    failing = request.failing
    if failing is None:
        return []
    parts, site = urlsplit(failing.url), urlsplit(settings.site_url or "")
    where = (Where.GATEWAY if parts.path.startswith(GATEWAY_PREFIX) else
             Where.SITE if parts.netloc == site.netloc else None)
    return [FailingCall(failing.method, failing.path, where, failing.describe())]


def _context(request: CheckRequest, facts: dict[str, str], not_checked: list[NotChecked]) -> judge.Context:
    return judge.Context(
        reported_status=request.observed_status,
        reported_body=bool(request.observed_body),
        endpoint=request.failing is not None,
        rule=request.rule is not None,
        replayed_exactly=request.replayed_exactly,
        oauth=request.actor_secret is not None and request.actor_secret.is_oauth,
        facts=facts,
        not_checked=tuple(not_checked),
    )


def _fix_facts(settings: Settings, request: CheckRequest, store: FactStore) -> dict[str, str]:
    """Values for fix templates, from the typed facts that were established."""
    out: dict[str, str] = {}
    for value in store.known():
        template = getattr(value, "template", None)
        if callable(template):
            out.update(template())
    out.setdefault("actor", request.actor)
    out.setdefault("site", settings.site_url or "")
    out.setdefault("api", settings.api_url)
    out.setdefault("auth", settings.auth_url)
    out.update(scope_facts(request, store.known()))
    if is_email(request.actor):
        out.setdefault("actor_email", request.actor)
    if request.actor_secret is not None and request.actor_secret.is_oauth:
        out["oauth_rejected_note"] = (
            "This is an OAuth 2.0 access token: fetch a new one (the client credentials at "
            f"{settings.auth_url}/oauth/token, or the app's refresh token) and send it as Authorization: Bearer "
            "to the gateway. (The Basic lines below are for API tokens.)")
    if "gateway" in out:  # the failing call as it would be sent through the gateway
        failing = request.failing
        parts = urlsplit(failing.url) if failing else None
        path = parts.path if parts and parts.path.startswith("/wiki") else "/wiki/rest/api/..."
        out["gateway_url"] = out["gateway"] + path + (f"?{parts.query}" if parts and parts.query else "")
    return out
