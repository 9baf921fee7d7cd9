"""What every renderer shares: the glyph of each step status, and the order steps are shown in.

One table per renderer keyed by `StepStatus` (flutter's `[✓] [!] [✗]`, gh's icons); a step
that is planned but not finished yet is pending and has its own glyph. Tests walk the whole
enum, so a new status cannot ship without a glyph.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from bot.model import Run, StepResult, StepStatus


@dataclass(frozen=True, slots=True)
class Glyph:
    """A terminal marker and the ANSI SGR code that colours it."""

    mark: str
    ansi: str


TERMINAL: Mapping[StepStatus, Glyph] = MappingProxyType(
    {
        StepStatus.PASS: Glyph("✓", "32"),
        StepStatus.WARN: Glyph("!", "33"),
        StepStatus.FAIL: Glyph("✗", "31"),
        StepStatus.SKIP: Glyph("– skip", "2"),
        StepStatus.ERROR: Glyph("☠ error", "35"),
    }
)
TERMINAL_PENDING = Glyph("…", "2")

MARKDOWN: Mapping[StepStatus, str] = MappingProxyType(
    {
        StepStatus.PASS: "✅ pass",
        StepStatus.WARN: "⚠️ warn",
        StepStatus.FAIL: "❌ fail",
        StepStatus.SKIP: "⏭️ skip",
        StepStatus.ERROR: "💥 error",
    }
)
MARKDOWN_PENDING = "⏳ pending"

# Statuses whose evidence and fix are shown under the step (the others only say what they saw).
NEEDS_DETAIL = frozenset({StepStatus.FAIL, StepStatus.WARN, StepStatus.ERROR})


@dataclass(frozen=True, slots=True)
class Slot:
    """One line of a run's step list: a finished step, or a planned one still pending."""

    id: str
    title: str
    step: StepResult | None


def slots(run: Run) -> list[Slot]:
    """The run's steps in declared order, pending ones included; unplanned steps go last."""
    done = {step.id: step for step in run.steps}
    out = [Slot(step_id, title, done.pop(step_id, None)) for step_id, title in run.planned]
    out += [Slot(step.id, step.title, step) for step in run.steps if step.id in done]
    return out
