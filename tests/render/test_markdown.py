"""Markdown support bundle: sections, escaping, fences, and scrub as the last line of defence."""

from __future__ import annotations

from typing import Any

import pytest

from bot.model import CauseCode, Confidence, FindingSummary, StepStatus
from bot.render import MARKDOWN, MARKDOWN_PENDING, MASK, escape_cell, format_markdown, scrub
from tests.samples import ACTOR, CANARY, FIX, PRODUCT_ACCESS, RENDER_T0, SITE_URL, sample_run

ATATT = "ATATT3xFfGF0" + "Zx9Yw8Vu7" * 5
BUNDLE: dict[str, Any] = {  # sample_run() arguments: the run every bundle test renders
    "run_id": "r_01JMD",
    "started_at": RENDER_T0,
    "cause": CauseCode.SCOPED_TOKEN_SITE_URL,
    "confidence": Confidence.CONFIRMED,
    "title": "Scoped API token sent to the site URL",
    "explanation": "Accepted at the gateway, refused at the site.",
    "fix": (FIX,),
    "replay_title": "Replay | as `actor`",
    "replay_excerpt": '{"message": "caller cannot access Confluence"}',
    "replay_fix": "Call the gateway URL instead",
    "pending": [PRODUCT_ACCESS],
    "findings": [
        FindingSummary(
            CauseCode.TOKEN_EXPIRED,
            Confidence.POSSIBLE,
            "API token expired",
            "one token expired",
            ("credential.tokens",),
        )
    ],
    "request": {
        "actor": ACTOR,
        "endpoint": f"GET {SITE_URL}/wiki/rest/api/space",
        "status": 403,
        "body": "```\nRequest rejected because caller cannot access Confluence",
        "space": "ENG",
        "actor_token_given": True,
    },
}


def test_every_status_has_a_distinct_markdown_glyph() -> None:
    assert set(MARKDOWN) == set(StepStatus)
    marks = [*MARKDOWN.values(), MARKDOWN_PENDING]
    assert len(set(marks)) == len(marks)
    assert all(status.value in MARKDOWN[status] for status in StepStatus)


def test_bundle_has_title_summary_fix_steps_and_input() -> None:
    text = format_markdown(sample_run(**BUNDLE))
    assert text.startswith(
        "# confluence-check: automation@acme.com — Problem: Scoped API token sent to the site URL\n"
    )
    for row in (
        "| Run | r_01JMD |",
        f"| Site | {SITE_URL} |",
        "| Started | 2026-11-26 20:00:00 UTC |",
        "| Duration | 840 ms |",
        "| Outcome | problem |",
        "| Cause | scoped_token_site_url |",
        "| Confidence | confirmed |",
    ):
        assert row in text
    assert f"### Fix\n\n1. {FIX}" in text
    assert "| ✅ pass | Site is reachable (site.reachable) | cloudId 3f1c |" in text
    assert "| ⏳ pending | Has Confluence access (product.access) | not finished |" in text
    assert f"- Endpoint: `GET {SITE_URL}/wiki/rest/api/space`" in text
    assert "- Observed status: 403" in text and "- Actor token given: yes" in text


def test_failed_step_evidence_is_a_code_block_with_its_fix() -> None:
    text = format_markdown(sample_run(**BUNDLE))
    assert "### ❌ fail — Replay | as `actor` (actor.replay)\n\nFix: Call the gateway URL instead" in text
    assert (
        f"```\nGET {SITE_URL}/wiki/rest/api/space → 403 (auth: actor)\n"
        '{"message": "caller cannot access Confluence"}\n```'
    ) in text


def test_findings_and_not_checked_are_listed() -> None:
    text = format_markdown(sample_run(**BUNDLE))
    assert "- **API token expired** (token_expired, possible): one token expired" in text
    assert "## Not checked\n\n- **org policies**: ATLASSIAN_ORG_API_KEY is not set" in text


def test_table_cells_escape_pipes_and_backticks() -> None:
    text = format_markdown(sample_run(**BUNDLE, replay_summary="got `403` | retry"))
    assert r"| ❌ fail | Replay \| as \`actor\` (actor.replay) | got \`403\` \| retry |" in text
    assert escape_cell("a|b`c\nd") == r"a\|b\`c d"


def test_body_with_backticks_cannot_close_its_fence() -> None:
    text = format_markdown(sample_run(**BUNDLE))
    assert "````\n```\nRequest rejected because caller cannot access Confluence\n````" in text


def test_in_progress_run_renders_without_a_verdict() -> None:
    text = format_markdown(sample_run(**BUNDLE, finished=False, done=3))
    assert "running (3 of 4 steps finished)" in text.splitlines()[0]
    assert "## Verdict" not in text and "| Duration | — |" in text


def test_canary_given_as_a_secret_never_reaches_the_bundle() -> None:
    text = format_markdown(sample_run(**BUNDLE, replay_summary=f"replayed with {CANARY}"), secrets=[CANARY])
    assert CANARY not in text and f"replayed with {MASK}" in text


@pytest.mark.parametrize(
    ("leak", "kept"),
    [
        (f"Authorization: Basic {'dXNlckBhY21lLmNvbTpBVEFUVDN4'}", "Authorization: Basic"),
        ("authorization: bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig", "authorization: bearer"),
        (f"token={ATATT}", "token="),
        ("xoxb-1234-5678-abcdefghij", ""),
        ("Authorization: 0123456789abcdefXYZ", "Authorization:"),
    ],
    ids=["basic", "bearer", "atlassian-token", "slack-token", "bare-header"],
)
def test_scrub_masks_credential_shaped_text(leak: str, kept: str) -> None:
    out = scrub(f"before {leak} after")
    secret = leak[len(kept) :].strip()
    assert secret not in out and MASK in out and out.startswith(f"before {kept}".rstrip())


@pytest.mark.parametrize(
    "text",
    [
        "Send `Authorization: Basic base64(email:api_token)`",
        "Bearer <token> works only for OAuth",
        "Bearer authentication is not supported here",
        FIX,
    ],
)
def test_scrub_keeps_fix_instructions_readable(text: str) -> None:
    assert scrub(text) == text


def test_scrub_replaces_each_given_secret_and_ignores_empty_ones() -> None:
    assert scrub(f"a {CANARY} b {CANARY}", [CANARY, ""]) == f"a {MASK} b {MASK}"
