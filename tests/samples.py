"""Sample data shared by the tests: one run builder, `sample_run()`, and the constants tests assert against.

Every test that needs a `Run` builds it here, overriding only what it is about; the defaults are a
finished `credential_rejected` run for `automation@acme.com` with three steps (pass, fail, skip).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from bot.model import (
    CauseCode,
    Confidence,
    Evidence,
    FindingSummary,
    NotChecked,
    Run,
    StepResult,
    StepStatus,
    Verdict,
)
from bot.store import Owner, this_process

SITE_URL = "https://acme.atlassian.net"
ACTOR = "automation@acme.com"
CANARY = "CANARY-SECRET-7f3a"  # a secret that must never reach any output or store
T0 = datetime(2026, 11, 20, 10, 2, tzinfo=UTC)  # default start of a sample run
RENDER_T0 = datetime(2026, 11, 26, 20, 0, tzinfo=UTC)  # start of the runs the renderer tests show
FIX = "Call https://api.atlassian.com/ex/confluence/3f1c/wiki/rest/api/space instead of the site URL"
ORG_POLICIES_NOT_CHECKED = NotChecked("org policies", "ATLASSIAN_ORG_API_KEY is not set")
PRODUCT_ACCESS = ("product.access", "Has Confluence access")  # a planned step, often still pending


def sample_run(
    run_id: str = "r_1",
    *,
    actor: str = ACTOR,
    site: str = SITE_URL,
    started_at: datetime = T0,
    cause: CauseCode | None = CauseCode.CREDENTIAL_REJECTED,
    finished: bool = True,
    confidence: Confidence = Confidence.LIKELY,
    title: str | None = None,
    explanation: str = "why",
    fix: Sequence[str] | None = None,
    decided_by: Sequence[str] = ("actor.replay",),
    duration_ms: int = 840,
    steps: Sequence[StepResult] | None = None,
    done: int | None = None,
    pending: Sequence[tuple[str, str]] = (),
    replay_title: str = "Replay as the actor",
    replay_summary: str = "refused with 403",
    replay_excerpt: str = '{"message":"caller cannot access"}',
    replay_fix: str = "Send Authorization: Basic base64(email:api_token)",
    findings: Sequence[FindingSummary] = (),
    not_checked: Sequence[NotChecked] = (ORG_POLICIES_NOT_CHECKED,),
    request: Mapping[str, Any] | None = None,
    previous_run_id: str | None = None,
) -> Run:
    """A sample run; every argument overrides one part of it.

    Verdict: `cause=None` or `finished=False` leaves the run in progress (no verdict, no duration).
    Otherwise the verdict has `cause`, `confidence`, `title` (default: the cause code in words),
    `explanation`, `fix` (default: none for `ok`, one step otherwise) and `decided_by`.

    Steps: `steps` replaces the default three (site.reachable passes, actor.replay fails with the
    `replay_*` texts, policy.org is skipped). All of them are planned, then `pending`; `done` of them
    have finished: by default all of a finished run's, only the first of a run in progress.

    `request` defaults to what `CheckRequest.describe()` gives for `actor` with no token.
    """
    if steps is None:
        steps = (
            StepResult(
                "site.reachable",
                "Site is reachable",
                StepStatus.PASS,
                "cloudId 3f1c",
                41,
                evidence=(Evidence(f"GET {SITE_URL}/_edge/tenant_info", 200),),
            ),
            StepResult(
                "actor.replay",
                replay_title,
                StepStatus.FAIL,
                replay_summary,
                evidence=(
                    Evidence(f"GET {SITE_URL}/wiki/rest/api/space", 403, auth="actor", excerpt=replay_excerpt),
                ),
                fix=replay_fix,
            ),
            StepResult.skipped("policy.org", "Org policies", "ATLASSIAN_ORG_API_KEY is not set"),
        )
    verdict = None
    if finished and cause is not None:
        if fix is None:
            fix = () if cause is CauseCode.OK else ("Create a new API token and update the caller",)
        title = cause.value.replace("_", " ") if title is None else title
        verdict = Verdict(cause, confidence, title, explanation, tuple(fix), tuple(decided_by))
    if done is None:
        done = len(steps) if verdict else 1
    if request is None:
        request = {
            "actor": actor,
            "endpoint": f"GET {SITE_URL}/wiki/rest/api/space",
            "status": 403,
            "body": None,
            "space": None,
            "actor_token_given": False,
        }
    return Run(
        run_id=run_id,
        actor=actor,
        site=site,
        started_at=started_at,
        planned=[(s.id, s.title) for s in steps] + list(pending),
        steps=list(steps[:done]),
        duration_ms=duration_ms if verdict else None,
        verdict=verdict,
        findings=list(findings),
        not_checked=list(not_checked),
        request=dict(request),
        previous_run_id=previous_run_id,
    )


def gone_owner() -> Owner:
    """An owner of runs that no longer exists: a process of this host that has ended."""
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                           check=True)
    return Owner(this_process().host, int(ended.stdout), "ended")
