"""The terminal rendering of runs, history and timelines: plain lines, ANSI colour on request.

Pure functions: they return strings and the CLI prints them. `color` is decided by the caller
(a terminal and no `NO_COLOR`). Output passes through `scrub` as a last line of defence.

Text from outside (a display name, an error body, a rule's name) is made inert first (`bot.redact.inert`):
its control characters are shown as `\\x1b`-style escapes, so the only escape sequences that reach a
terminal are the colours painted here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.model import Evidence, Outcome, Run, StepResult
from bot.redact import inert
from bot.render.glyphs import NEEDS_DETAIL, TERMINAL, TERMINAL_PENDING, Glyph, Slot, slots
from bot.render.markdown import scrub

if TYPE_CHECKING:
    from bot.store import Change

_RESET = "\x1b[0m"
_BOLD = "1"
_DIM = "2"
_GLYPH_WIDTH = max(len(g.mark) for g in (*TERMINAL.values(), TERMINAL_PENDING))
_INDENT = " " * (_GLYPH_WIDTH + 3)
_OUTCOME = {
    Outcome.OK: ("No blocker found", "32"),
    Outcome.PROBLEM: ("Problem", "31"),
    Outcome.INCONCLUSIVE: ("Inconclusive", "33"),
}
_EXCERPT_LIMIT = 160


def format_step(step: StepResult, *, color: bool) -> str:
    """One line (glyph, title, summary); evidence and fix follow when it failed, warned or broke."""
    step = _inert_step(step)
    lines = [_line(TERMINAL[step.status], step.title, step.summary, color=color)]
    if step.status in NEEDS_DETAIL:
        lines += [_INDENT + _paint(_evidence_line(ev), _DIM, color) for ev in step.evidence]
        if step.fix:
            lines.append(f"{_INDENT}{_paint('fix:', _BOLD, color)} {step.fix}")
    return scrub("\n".join(lines))


def format_verdict(run: Run, *, color: bool) -> str:
    """The verdict with its fix, other findings and what was not checked; or where the run is."""
    run = _inert_run(run)
    lines = _verdict_lines(run, color=color) + _findings_lines(run) + _not_checked_lines(run)
    return scrub("\n".join(lines))


def format_rule_heading(rule: Mapping[str, Any]) -> str:
    """Which rule and action a run diagnoses (`CheckRequest.rule.describe()`, stored as `run.request["rule"]`)."""
    if not rule.get("actions"):
        return f"Automation rule {rule.get('uuid') or '(unknown)'}: could not be read"
    lines = [f"Rule '{rule['name']}' ({str(rule['state']).lower()}, {rule['scope']}) · {rule['link']}",
             f"  Send web request #{rule['action']} of {rule['actions']} ({rule['path']}): "
             f"{rule['method']} {rule['url']}",
             f"  {rule['header']}"]
    lines += [f"  note: {note}" for note in rule.get("notes") or ()]
    return inert(scrub("\n".join(lines)))


def format_run(run: Run, *, color: bool) -> str:
    """Header, every step in declared order (pending ones too), then the verdict."""
    run = _inert_run(run)
    header = f"confluence-check · {run.actor} on {run.site} · run {run.run_id}"
    if run.request.get("rule"):
        header += "\n" + format_rule_heading(run.request["rule"])
    started = f"started {_when(run.started_at)} UTC"
    if run.duration_ms is not None:
        started += f", took {run.duration_ms} ms"
    parts = [_paint(header, _BOLD, color), _paint(started, _DIM, color), ""]
    parts += [_format_slot(slot, color=color) for slot in slots(run)]
    parts += ["", format_verdict(run, color=color)]
    return scrub("\n".join(parts))


def format_history(runs: Sequence[Run]) -> str:
    """A table of runs: started, actor, outcome, cause, confidence, run id."""
    if not runs:
        return "No runs in history."
    header = ("STARTED (UTC)", "ACTOR", "OUTCOME", "CAUSE", "CONFIDENCE", "RUN")
    rows = [header] + [_history_row(run) for run in runs]
    rows = [tuple(inert(cell) for cell in row) for row in rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return scrub(
        "\n".join(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            for row in rows
        )
    )


def format_timeline(actor: str, changes: Sequence[Change]) -> str:
    """One line per period: "failing since …", "fixed at …", oldest first."""
    if not changes:
        return f"No finished runs for {actor}."
    lines = [f"{actor}:"]
    previous: Change | None = None
    for change in changes:
        lines.append(f"  {_period_phrase(change, previous)}")
        previous = change
    return inert(scrub("\n".join(lines)))


# --- helpers --------------------------------------------------------------------------------


def _inert_value(value: Any) -> Any:
    if isinstance(value, str):
        return inert(value)
    if isinstance(value, dict):
        return {k: _inert_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_inert_value(v) for v in value]
    return value


def _inert_step(step: StepResult) -> StepResult:
    """The step as shown: every string in it inert (what a step renders survives `to_dict`)."""
    return StepResult.from_dict(_inert_value(step.to_dict()))


def _inert_run(run: Run) -> Run:
    """The run as shown: every string in it inert (its plan too, which `to_dict` leaves out)."""
    shown = Run.from_dict(_inert_value(run.to_dict()))
    shown.planned = [(step_id, inert(title)) for step_id, title in run.planned]
    return shown


def _paint(text: str, ansi: str, color: bool) -> str:
    return f"\x1b[{ansi}m{text}{_RESET}" if color else text


def _when(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%d %H:%M")


def _line(glyph: Glyph, title: str, summary: str, *, color: bool) -> str:
    mark = _paint(glyph.mark.ljust(_GLYPH_WIDTH), glyph.ansi, color)
    return f"  {mark} {title}: {summary}" if summary else f"  {mark} {title}"


def _format_slot(slot: Slot, *, color: bool) -> str:
    if slot.step is None:
        return _line(TERMINAL_PENDING, slot.title, _paint("pending", _DIM, color), color=color)
    return format_step(slot.step, color=color)


def _evidence_line(ev: Evidence) -> str:
    status = str(ev.status) if ev.status is not None else "no response"
    line = f"{ev.request} → {status}"
    if ev.auth != "none":
        line += f" (as {ev.auth})"
    if ev.excerpt:
        excerpt = " ".join(ev.excerpt.split())
        if len(excerpt) > _EXCERPT_LIMIT:
            excerpt = excerpt[: _EXCERPT_LIMIT - 1] + "…"
        line += f"  {excerpt}"
    if ev.note:
        line += f"  ({ev.note})"
    return line


def _verdict_lines(run: Run, *, color: bool) -> list[str]:
    verdict = run.verdict
    if verdict is None:
        if run.interrupted:
            return [
                _paint("Interrupted: the run stopped before a verdict. Run the check again.", "33", color)
            ]
        return [f"Running… {len(run.steps)} of {len(slots(run))} steps finished."]
    label, ansi = _OUTCOME[verdict.outcome]
    lines = [
        _paint(f"{label}: {verdict.title}", f"{_BOLD};{ansi}", color),
        f"  cause {verdict.cause.value} · confidence {verdict.confidence.value}",
    ]
    if verdict.explanation:
        lines.append(f"  {verdict.explanation}")
    if verdict.fix:
        lines.append(_paint("Fix:", _BOLD, color))
        lines += [f"  {n}. {line}" for n, line in enumerate(verdict.fix, 1)]
    if verdict.decided_by:
        lines.append(f"Decided by: {', '.join(verdict.decided_by)}")
    return lines


def _findings_lines(run: Run) -> list[str]:
    decided = run.verdict.cause if run.verdict else None
    others = [f for f in run.findings if f.cause != decided]
    if not others:
        return []
    return ["Other findings:"] + [
        f"  - {f.title} ({f.cause.value}, {f.confidence.value})" + (f": {f.detail}" if f.detail else "")
        for f in others
    ]


def _not_checked_lines(run: Run) -> list[str]:
    if not run.not_checked:
        return []
    return ["Not checked:"] + [f"  - {item.what}: {item.why}" for item in run.not_checked]


def _history_row(run: Run) -> tuple[str, ...]:
    if run.verdict is not None:
        outcome, cause, confidence = (
            run.verdict.outcome.value,
            run.verdict.cause.value,
            run.verdict.confidence.value,
        )
    else:
        outcome, cause, confidence = ("interrupted" if run.interrupted else "running"), "-", "-"
    return (_when(run.started_at), run.actor, outcome, cause, confidence, run.run_id)


def _period_phrase(change: Change, previous: Change | None) -> str:
    runs = f"{change.runs} run" + ("" if change.runs == 1 else "s")
    ids = change.first_run_id if change.runs == 1 else f"{change.first_run_id} … {change.last_run_id}"
    since = _when(change.since)
    if change.outcome is Outcome.PROBLEM:
        head = f"failing since {since} ({change.cause.value}, {runs}"
    elif change.outcome is Outcome.OK and previous is not None and previous.outcome is Outcome.PROBLEM:
        head = f"fixed at {since} (ok, {runs}"
    elif change.outcome is Outcome.OK:
        head = f"ok since {since} ({runs}"
    else:
        head = f"inconclusive since {since} ({change.cause.value}, {runs}"
    return f"{head}; {ids})"
