"""Block Kit: Slack's limits hold for any run (https://docs.slack.dev/reference/block-kit/blocks), user text is
escaped, glyphs cover the enum."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bot.engine import new_run_id
from bot.model import (
    CauseCode,
    Confidence,
    Evidence,
    FindingSummary,
    NotChecked,
    Run,
    StepResult,
    StepStatus,
    utcnow,
)
from bot.render.markdown import format_markdown
from bot.slack import blocks, steps
from bot.slack.escape import clip, escape, unescape
from bot.slack.ids import RunRef, parse_ref
from tests.samples import sample_run
from tests.slack.helpers import texts_in

EVIL = "<!channel> <http://evil.example|click me> &"
STATUSES = list(StepStatus)
HUGE_EVIDENCE = tuple(Evidence(request=f"GET https://acme.atlassian.net/wiki/{EVIL}", status=403, auth="actor",
                               excerpt=EVIL + "e" * 50_000, note=EVIL + "n" * 5_000) for _ in range(5))
HUGE_STEPS = [  # everything too long: titles, summaries, evidence, fixes
    StepResult(id=f"layer.probe{i}", title=f"Probe {i} {EVIL}", status=STATUSES[i % len(STATUSES)],
               summary=EVIL + "s" * 5_000, evidence=HUGE_EVIDENCE, fix=EVIL + "f" * 3_000)
    for i in range(60)
]
HUGE_RUNNING: dict[str, Any] = {  # sample_run() arguments: a run in progress, half its huge steps done
    "actor": f"x{EVIL}@acme.com",
    "steps": HUGE_STEPS,
    "done": len(HUGE_STEPS) // 2,
    "cause": None,
    "not_checked": [],
    "request": {"endpoint": f"GET /wiki/{EVIL}", "body": EVIL * 100, "actor_token_given": True},
}
HUGE: dict[str, Any] = HUGE_RUNNING | {  # ... and finished, with too long a verdict, findings, not-checked
    "done": None,
    "cause": CauseCode.NO_CONFLUENCE_ACCESS,
    "confidence": Confidence.CONFIRMED,
    "title": "T" * 400 + EVIL,
    "explanation": EVIL + "x" * 9_000,
    "fix": tuple(EVIL + "y" * 3_000 for _ in range(10)),
    "decided_by": tuple(s.id for s in HUGE_STEPS),
    "duration_ms": 1234,
    "findings": [FindingSummary(CauseCode.TOKEN_EXPIRED, Confidence.LIKELY, EVIL * 20, EVIL, ())] * 30,
    "not_checked": [NotChecked(EVIL * 10, EVIL * 10)] * 50,
}


def fresh() -> dict[str, Any]:
    """What each huge run gets anew: a run id, a start (now), a previous run id."""
    return {"run_id": new_run_id(), "started_at": utcnow(), "previous_run_id": new_run_id()}


def messages(run: Run) -> Iterator[tuple[str, dict[str, Any]]]:
    runs = [run] * 40
    links = {run.run_id: "https://fake.slack.com/archives/C1/p1"}
    yield "parent", blocks.parent_message(run, user="U0ALICE001", rev=3)
    yield "steps", steps.steps_message(run, rev=7)
    if run.finished:
        yield "verdict", blocks.verdict_message(run)
        yield "final", steps.final_message(run, rev=8)
        yield "private verdict", blocks.private_verdict_message(run)
        yield "share", blocks.share_message(run, "https://fake.slack.com/archives/C1/p1", format_markdown(run))
    yield "interrupted", blocks.interrupted_message(run)
    yield "cannot post", blocks.cannot_post_message(run, "not_in_channel", bot_user="UBOT00001")
    yield "history", blocks.history_message(run.actor, runs, links)
    yield "help", blocks.help_message(EVIL * 500)
    yield "notice", blocks.notice_message(EVIL * 500)
    yield "shared", blocks.shared_message(run, "C0SUPPORT1")
    yield "failed", blocks.failed_message("abc123")
    yield "refusal", blocks.refusal_message()


def check_block(block: dict[str, Any]) -> None:
    assert len(block.get("block_id", "")) <= 255
    kind = block["type"]
    if kind == "section":
        assert 1 <= len(block["text"]["text"]) <= 3000
    elif kind == "header":
        assert len(block["text"]["text"]) <= 150 and block["text"]["type"] == "plain_text"
    elif kind == "context":
        assert len(block["elements"]) <= 10 and all(len(e["text"]) <= 3000 for e in block["elements"])
    elif kind == "actions":
        assert len(block["elements"]) <= 25
        for button in block["elements"]:
            assert len(button["text"]["text"]) <= 75 and len(button["value"]) <= 2000
            assert len(button["action_id"]) <= 255
            assert parse_ref(button["value"])  # small typed JSON, never a token
    elif kind == "input":
        assert len(block["label"]["text"]) <= 2000
    else:
        assert kind == "divider"


def check_escaped(node: Any) -> None:
    """No displayed text (button values are data, never shown) carries live mrkdwn syntax."""
    everything = "\n".join(texts_in(node))
    assert "<!channel>" not in everything and "<http://evil" not in everything
    assert "<!" not in everything


@pytest.mark.parametrize("finished", [True, False], ids=["finished", "in-progress"])
def test_every_message_stays_inside_slacks_limits_even_with_huge_evidence(finished: bool) -> None:
    run = sample_run(**(HUGE if finished else HUGE_RUNNING), **fresh())
    for name, message in messages(run):
        assert 0 < len(message["text"]) <= 4000, name
        assert len(message["blocks"]) <= 50, name
        ids = [b["block_id"] for b in message["blocks"]]
        assert len(ids) == len(set(ids)), f"{name}: duplicate block_id"
        for block in message["blocks"]:
            check_block(block)
        assert sum(len(t) for t in texts_in(message["blocks"])) <= 12_000, name  # msg_blocks_too_long
        check_escaped([{"text": message["text"]}, *message["blocks"]])


def test_a_verdict_message_needs_a_verdict() -> None:
    with pytest.raises(ValueError):
        blocks.verdict_message(sample_run(**HUGE_RUNNING, **fresh()))


def test_long_evidence_is_cut_with_a_marker_and_the_buttons_survive() -> None:
    message = blocks.verdict_message(sample_run(**HUGE, **fresh()))
    text = "\n".join(texts_in(message["blocks"]))
    assert "truncated" in text and "Share with support sends all of it" in text and "confluence-check show" not in text
    assert message["blocks"][-1]["type"] == "actions" and len(message["blocks"][-1]["elements"]) == 4


def test_the_final_message_keeps_the_verdict_whole_and_trims_only_the_step_list() -> None:
    run = sample_run(**HUGE, **fresh())
    verdict = blocks.verdict_message(run)["blocks"]
    final = steps.final_message(run, rev=1)["blocks"]
    assert final[:len(verdict)] == verdict  # the verdict reply as it is, buttons included
    listed = "\n".join(texts_in(final[len(verdict):]))
    assert f"{len(run.planned)} of {len(run.planned)} finished" in listed
    assert "s" * 300 not in listed  # summaries shortened to make room for the verdict


def test_a_long_final_step_list_collapses_its_passing_steps_first() -> None:
    many = [StepResult(id=f"layer.p{i}", title=f"Probe number {i} " + "t" * 120,
                       status=StepStatus.FAIL if i == 7 else StepStatus.PASS, summary="s" * 200) for i in range(120)]
    run = sample_run(**HUGE | {"steps": many}, **fresh())
    final = steps.final_message(run)["blocks"]
    listed = "\n".join(texts_in(final))
    assert ":x: *Probe number 7 " in listed  # the failing step stays, by name
    assert f"{blocks.SLACK_GLYPHS[StepStatus.PASS]} 119 steps passed" in listed
    assert len(final) <= 50 and all(len(t) <= 3000 for t in texts_in(final))


def test_views_stay_inside_their_limits() -> None:
    run = sample_run(**HUGE, **fresh())
    home = blocks.home_view([run] * 30, [run] * 30, {})
    assert home["type"] == "home" and len(home["blocks"]) <= 100
    shown = "\n".join(texts_in(home["blocks"]))
    assert "Accounts failing now" in shown and "Latest runs" in shown and "more_" in shown
    for block in home["blocks"]:
        check_block(block)
    check_escaped(home["blocks"])
    modal = blocks.token_modal(RunRef(run.run_id, "automation@acme.com"))
    assert all(len(modal[k]["text"]) <= 24 for k in ("title", "submit", "close"))
    assert len(modal["private_metadata"]) <= 3000 and len(modal["blocks"]) <= 100
    assert parse_ref(modal["private_metadata"]) == RunRef(run.run_id, "automation@acme.com")
    for block in modal["blocks"]:
        check_block(block)


def test_every_edit_of_a_message_gets_new_block_ids() -> None:
    run = sample_run(**HUGE_RUNNING, **fresh())
    for build in (steps.steps_message, blocks.parent_message):
        first = {b["block_id"] for b in build(run, rev=1)["blocks"]}
        second = {b["block_id"] for b in build(run, rev=2)["blocks"]}
        assert not first & second


def test_each_step_status_has_its_own_slack_glyph() -> None:
    assert set(blocks.SLACK_GLYPHS) == set(StepStatus)
    glyphs = [*blocks.SLACK_GLYPHS.values(), blocks.PENDING_GLYPH]
    assert len(set(glyphs)) == len(glyphs) and all(g.startswith(":") and g.endswith(":") for g in glyphs)
    few = HUGE_STEPS[: len(STATUSES) + 1]
    run = sample_run(**HUGE_RUNNING | {"steps": few, "done": len(few) // 2}, **fresh())
    run.steps = [StepResult(id=pid, title=t, status=s, summary="ok") for (pid, t), s in zip(run.planned, STATUSES,
                                                                                            strict=False)]
    shown = "\n".join(texts_in(steps.steps_message(run)["blocks"]))
    assert all(glyph in shown for glyph in glyphs)


@pytest.mark.parametrize(("typed", "escaped"), [
    ("<!channel>", "&lt;!channel&gt;"),
    ("<http://evil|x>", "&lt;http://evil|x&gt;"),
    ("a & b", "a &amp; b"),
    ("<@U123>", "&lt;@U123&gt;"),
])
def test_user_text_is_escaped_for_mrkdwn(typed: str, escaped: str) -> None:
    assert escape(typed) == escaped and unescape(escaped) == typed


def test_clipping_never_leaves_half_an_entity() -> None:
    text = escape("<" * 100)
    for limit in range(1, 40):
        cut = clip(text, limit)
        assert len(cut) <= limit and not cut.rstrip("…").endswith(("&", "&l", "&lt"))
