"""Terminal renderer: glyphs for every status, evidence and fixes, verdicts, history, timeline."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.model import CauseCode, Confidence, Evidence, FindingSummary, Outcome, StepResult, StepStatus
from bot.render import (
    TERMINAL,
    TERMINAL_PENDING,
    format_history,
    format_run,
    format_step,
    format_timeline,
    format_verdict,
)
from bot.store import Change
from tests.samples import FIX, PRODUCT_ACCESS, RENDER_T0, SITE_URL, sample_run

ANSI = re.compile(r"\x1b\[")


def step(status: StepStatus, **extra: object) -> StepResult:
    """A step of the given status with one piece of evidence."""
    fields: dict[str, object] = {
        "id": f"layer.{status.value}",
        "title": f"Check that {status.value}s",
        "status": status,
        "summary": f"summary of {status.value}",
        "duration_ms": 12,
        "evidence": (
            Evidence(
                f"GET {SITE_URL}/wiki/rest/api/user/current",
                403,
                auth="actor",
                excerpt='{"message": "Request rejected because caller cannot access Confluence"}',
            ),
        ),
    }
    return StepResult(**(fields | extra))  # type: ignore[arg-type]


FINISHED: dict[str, Any] = {  # sample_run() arguments: a finished run with a step of every status
    "run_id": "r_01JFIN",
    "started_at": RENDER_T0,
    "steps": [step(s, fix="Send the header X-Atlassian-Token: no-check" if s is StepStatus.FAIL else None)
              for s in StepStatus],
    "cause": CauseCode.SCOPED_TOKEN_SITE_URL,
    "confidence": Confidence.CONFIRMED,
    "title": "Scoped API token sent to the site URL",
    "explanation": "The token works at the gateway and is refused at the site.",
    "fix": (FIX, "Keep the header Authorization: Basic base64(email:api_token)"),
    "findings": [
        FindingSummary(CauseCode.SCOPED_TOKEN_SITE_URL, Confidence.CONFIRMED, "Scoped", "", ()),
        FindingSummary(
            CauseCode.TOKEN_EXPIRED,
            Confidence.POSSIBLE,
            "API token expired",
            "one token expired yesterday",
            ("credential.tokens",),
        ),
    ],
    "request": {},
}
RUNNING: dict[str, Any] = {  # sample_run() arguments: a run with one step done and one pending
    "run_id": "r_01JRUN",
    "actor": "5b10ac8d82e05b22cc7d4ef5",
    "started_at": RENDER_T0,
    "steps": [step(StepStatus.PASS)],
    "pending": [PRODUCT_ACCESS],
    "cause": None,
    "not_checked": [],
    "request": {},
}


def test_every_status_has_a_distinct_terminal_glyph() -> None:
    assert set(TERMINAL) == set(StepStatus)
    marks = [TERMINAL[s].mark for s in StepStatus] + [TERMINAL_PENDING.mark]
    assert len(set(marks)) == len(marks)
    assert TERMINAL[StepStatus.PASS].mark == "✓" and TERMINAL[StepStatus.FAIL].mark == "✗"
    assert "skip" in TERMINAL[StepStatus.SKIP].mark and "error" in TERMINAL[StepStatus.ERROR].mark


@pytest.mark.parametrize("status", list(StepStatus), ids=str)
def test_format_step_starts_with_its_glyph_title_and_summary(status: StepStatus) -> None:
    first = format_step(step(status), color=False).splitlines()[0]
    assert first.strip().startswith(TERMINAL[status].mark)
    assert f"Check that {status.value}s: summary of {status.value}" in first


@pytest.mark.parametrize(
    ("status", "detailed"),
    [
        (StepStatus.PASS, False),
        (StepStatus.SKIP, False),
        (StepStatus.FAIL, True),
        (StepStatus.WARN, True),
        (StepStatus.ERROR, True),
    ],
    ids=str,
)
def test_evidence_is_shown_for_failed_warned_and_broken_steps(status: StepStatus, detailed: bool) -> None:
    text = format_step(step(status, fix="Grant Confluence access"), color=False)
    assert (f"GET {SITE_URL}/wiki/rest/api/user/current → 403" in text) is detailed
    assert ("fix: Grant Confluence access" in text) is detailed


def test_evidence_without_a_response_says_so() -> None:
    text = format_step(step(StepStatus.ERROR, evidence=(Evidence(f"GET {SITE_URL}/x", None),)), color=False)
    assert f"GET {SITE_URL}/x → no response" in text


def test_finished_run_shows_steps_in_declared_order_then_verdict_and_fix() -> None:
    run = sample_run(**FINISHED)
    text = format_run(run, color=False)
    assert text.splitlines()[0] == f"confluence-check · automation@acme.com on {SITE_URL} · run r_01JFIN"
    positions = [text.index(f"Check that {s.value}s") for s in StepStatus]
    assert positions == sorted(positions)
    assert text.index("Problem: Scoped API token sent to the site URL") > positions[-1]
    assert f"1. {FIX}" in text
    assert "2. Keep the header Authorization: Basic base64(email:api_token)" in text
    assert "fix: Send the header X-Atlassian-Token: no-check" in text


def test_verdict_names_cause_confidence_findings_and_what_was_not_checked() -> None:
    text = format_verdict(sample_run(**FINISHED), color=False)
    assert "cause scoped_token_site_url · confidence confirmed" in text
    assert "Decided by: actor.replay" in text
    assert "API token expired (token_expired, possible): one token expired yesterday" in text
    assert text.count("scoped_token_site_url") == 1  # the verdict's own finding is not repeated
    assert "Not checked:\n  - org policies: ATLASSIAN_ORG_API_KEY is not set" in text


def test_running_run_shows_pending_steps_and_progress() -> None:
    text = format_run(sample_run(**RUNNING), color=False)
    assert f"{TERMINAL_PENDING.mark}" in text and "Has Confluence access: pending" in text
    assert "Running… 1 of 2 steps finished." in text


def test_interrupted_run_says_so() -> None:
    run = sample_run(**RUNNING)
    run.interrupted = True
    assert "Interrupted" in format_verdict(run, color=False)


def test_colour_codes_only_when_asked() -> None:
    run = sample_run(**FINISHED)
    assert not ANSI.search(format_run(run, color=False))
    assert not ANSI.search(format_run(sample_run(**RUNNING), color=False))
    coloured = format_run(run, color=True)
    assert ANSI.search(coloured)
    assert ANSI.sub("", re.sub(r"\x1b\[[0-9;]*m", "", coloured)) == format_run(run, color=False)


def test_history_table_lists_each_run() -> None:
    interrupted = sample_run(**RUNNING)
    interrupted.interrupted = True
    text = format_history([sample_run(**FINISHED), sample_run(**RUNNING), interrupted])
    header, *rows = text.splitlines()
    assert header.split() == ["STARTED", "(UTC)", "ACTOR", "OUTCOME", "CAUSE", "CONFIDENCE", "RUN"]
    assert rows[0].split() == [
        "2026-11-26",
        "20:00",
        "automation@acme.com",
        "problem",
        "scoped_token_site_url",
        "confirmed",
        "r_01JFIN",
    ]
    assert "running" in rows[1] and "interrupted" in rows[2]
    assert format_history([]) == "No runs in history."


def test_timeline_reads_failing_since_then_fixed_at() -> None:
    day1, day2 = datetime(2026, 11, 20, 10, 2, tzinfo=UTC), datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    changes = [
        Change(day1, day2, Outcome.PROBLEM, CauseCode.CREDENTIAL_REJECTED, 3, "r_a", "r_c"),
        Change(day2, None, Outcome.OK, CauseCode.OK, 1, "r_d", "r_d"),
    ]
    lines = format_timeline("automation@acme.com", changes).splitlines()
    assert lines == [
        "automation@acme.com:",
        "  failing since 2026-11-20 10:02 (credential_rejected, 3 runs; r_a … r_c)",
        "  fixed at 2026-11-21 09:00 (ok, 1 run; r_d)",
    ]
    assert format_timeline("x@acme.com", []) == "No finished runs for x@acme.com."


def test_terminal_output_is_scrubbed_of_credentials() -> None:
    token = "ATATT3xFfGF0" + "a1b2c3d4" * 6
    leaky = step(StepStatus.FAIL, summary=f"header was Authorization: Bearer {token}")
    text = format_step(leaky, color=False)
    assert token not in text and "Bearer ********" in text
