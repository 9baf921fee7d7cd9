"""The step list in Slack: the live list, and a finished run's final message (verdict, then steps).

Built from `bot.slack.blocks` (its Block Kit helpers and limits, https://docs.slack.dev/reference/block-kit/blocks):
the step list gets whatever room the verdict leaves and is trimmed to fit, never failed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from bot.model import Run, StepResult, StepStatus
from bot.render.glyphs import NEEDS_DETAIL, Slot, slots
from bot.render.words import Surface, reword
from bot.slack.blocks import (
    MAX_BLOCKS,
    MESSAGE_BUDGET,
    PENDING_GLYPH,
    SLACK_GLYPHS,
    Message,
    _chunks,
    _fit,
    _message,
    _section,
    _text_size,
    _within,
    verdict_message,
)
from bot.slack.escape import clip, escape
from bot.slack.ids import BlockId, block_id


def steps_message(run: Run, *, rev: int = 0) -> Message:
    """The step list: every planned step, pending or with its glyph and summary, in declared order."""
    fallback, step_blocks = _step_list(run, rev, MESSAGE_BUDGET)
    return _message(fallback, step_blocks)


def final_message(run: Run, *, rev: int = 0) -> Message:
    """A finished run's thread reply: the verdict with its buttons (`verdict_message`), then the
    complete step list. The verdict is kept whole; the step list gets what is left of the block
    count and text budget (https://docs.slack.dev/reference/block-kit/blocks) and is trimmed (summaries shortened,
    passing steps
    collapsed) to fit rather than fail.

    :raises ValueError: for a run without a verdict.
    """
    verdict = verdict_message(run)
    head = verdict["blocks"]
    # one block spare for `_fit`'s "truncated" marker, should the verdict itself have been trimmed
    room = MAX_BLOCKS - len(head) - 1
    _, step_blocks = _step_list(run, rev, MESSAGE_BUDGET - _text_size(head))
    return {"text": verdict["text"], "blocks": _fit([*head, *step_blocks[:max(0, room)]])}


def _step_list(run: Run, rev: int, budget: int) -> tuple[str, list[dict[str, Any]]]:
    """The step list's fallback text and blocks, their text within `budget` characters."""
    items = slots(run)
    done = sum(1 for slot in items if slot.step is not None)
    counts = _status_counts(run.steps)
    head = f"*Steps* · {done} of {len(items)} finished" + (f" · {counts}" if counts else "")
    lines = _fit_lines(items, budget - len(head))
    step_blocks = [_section(head, block_id(BlockId.STEPS, "head", rev))]
    step_blocks += [_section(chunk, block_id(BlockId.STEPS, n, rev)) for n, chunk in enumerate(_chunks(lines))]
    return f"Steps: {done} of {len(items)} finished" + (f" ({counts})" if counts else ""), step_blocks


def _status_counts(steps: Iterable[StepResult]) -> str:
    counts: dict[StepStatus, int] = {}
    for step in steps:
        counts[step.status] = counts.get(step.status, 0) + 1
    shown = (StepStatus.FAIL, StepStatus.WARN, StepStatus.ERROR)
    return ", ".join(f"{counts[s]} {s.value}" for s in shown if counts.get(s))


def _slot_line(slot: Slot, limit: int) -> str:
    if slot.step is None:
        return f"{PENDING_GLYPH} {escape(slot.title)}"
    step = slot.step
    line = f"{SLACK_GLYPHS[step.status]} *{escape(step.title)}*"
    if limit and step.summary:
        line += f": {clip(escape(reword(step.summary, Surface.SLACK)), limit)}"
    if limit and step.fix and step.status in NEEDS_DETAIL:
        line += f"\n        ↳ _fix:_ {clip(escape(reword(step.fix, Surface.SLACK)), limit)}"
    return line


def _fit_lines(items: Sequence[Slot], budget: int = MESSAGE_BUDGET) -> list[str]:
    """Step lines within `budget` characters: summaries shortened, then dropped; then the passing
    steps collapsed into one line; then the list cut (saying how many lines were left out)."""
    def fits(lines: list[str]) -> bool:
        return sum(len(line) + 1 for line in lines) <= budget

    for limit in (300, 120, 40, 0):
        lines = [_slot_line(slot, limit) for slot in items]
        if fits(lines):
            return lines
    passed = [slot for slot in items if slot.step is not None and slot.step.status is StepStatus.PASS]
    if passed:
        others = [slot for slot in items if slot.step is None or slot.step.status is not StepStatus.PASS]
        collapsed = f"{SLACK_GLYPHS[StepStatus.PASS]} {len(passed)} steps passed"
        for limit in (120, 40, 0):
            lines = [collapsed, *(_slot_line(slot, limit) for slot in others)]
            if fits(lines):
                return lines
    return _within(lines, max(0, budget - 40))
