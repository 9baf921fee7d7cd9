"""The terminal rendering of runs, history and timelines: plain lines, ANSI colour on request.

Pure functions: they return strings and the CLI prints them. `color` is decided by the caller
(a terminal and no `NO_COLOR`). Output passes through `scrub` as a last line of defence.

Text from outside (a display name, an error body, a rule's name) is made inert first (`bot.redact.inert`):
its control characters are shown as `\\x1b`-style escapes, so the only escape sequences that reach a
terminal are the colours painted here.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.model import Evidence, Outcome, Run, StepResult, StepStatus, Verdict
from bot.redact import inert
from bot.render import rivals
from bot.render.glyphs import NEEDS_DETAIL, TERMINAL, TERMINAL_PENDING, Glyph, Slot, slots
from bot.render.markdown import scrub
from bot.render.words import AUTH_WORDS, Surface, missing_inputs, not_needed, reword, what_runs_it

if TYPE_CHECKING:
    from bot.store import Change
    from bot.store.runs import AccountHistory

_RESET = "\x1b[0m"
_BOLD = "1"
_DIM = "2"
_GLYPH_WIDTH = max(len(g.mark) for g in (*TERMINAL.values(), TERMINAL_PENDING))
_INDENT = " " * (_GLYPH_WIDTH + 3)
_OUTCOME = {
    Outcome.OK: ("OK", "32"),  # the title says what was found: "No problem found", "No blocker found in the account"
    Outcome.PROBLEM: ("Problem", "31"),
    Outcome.INCONCLUSIVE: ("Inconclusive", "33"),
}
_EXCERPT_LIMIT = 160
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def format_step(step: StepResult, *, color: bool) -> str:
    """One line (glyph, title, summary); evidence and fix follow when it failed, warned or broke."""
    step = _inert_step(step)
    summary = reword(step.summary, Surface.TERMINAL)
    lines = [_line(TERMINAL[step.status], step.title, summary, color=color)]
    if step.status in NEEDS_DETAIL:
        lines += [_INDENT + _paint(_evidence_line(ev), _DIM, color) for ev in step.evidence]
        if step.fix:
            lines.append(f"{_INDENT}{_paint('fix:', _BOLD, color)} {reword(step.fix, Surface.TERMINAL)}")
    return scrub("\n".join(lines))


# A layer's name in a collapsed line ("✓ Account: Actor exists, Account is active, Kind of account")
# and in a group of skipped steps ("– 5 replay steps skipped: …"); a layer not listed is shown by its id.
LAYER_TITLES: Mapping[str, tuple[str, str]] = {
    "site": ("Site", "site"),
    "platform": ("Atlassian status", "status"),
    "inspector": ("The bot's own access", "bot"),
    "report": ("The reported error", "report"),
    "identity": ("Account", "account"),
    "credential": ("API tokens", "token"),
    "replay": ("Replay as the actor", "replay"),
    "policy": ("Organization policies", "policy"),
    "product": ("Confluence access", "Confluence access"),
    "content": ("Space and page", "space and page"),
    "rule": ("Automation rule", "rule"),
    "request": ("The rule's request", "request"),
    "oauth": ("OAuth 2.0", "OAuth"),
}


def layer_of(step_id: str) -> str:
    """A step's layer: the first part of its dotted id (`replay.site` → `replay`)."""
    return step_id.split(".", 1)[0]


def format_layer(steps: Sequence[StepResult], *, color: bool, width: int | None = None) -> str:
    """One layer's steps as a colleague would tell them: the whole layer on one line when every
    step passed; skipped steps grouped by the one input that would run them; a step that failed,
    warned or broke in full (its evidence cut to the width). `width`: the terminal's columns."""
    return scrub("\n".join(_layer_lines([_inert_step(s) for s in steps], color=color, width=width)))


def _layer_lines(steps: list[StepResult], *, color: bool, width: int | None) -> Iterator[str]:
    if not steps:
        return
    layer = layer_of(steps[0].id)
    title, noun = LAYER_TITLES.get(layer, (layer, layer))
    # a step another step made unnecessary (an OAuth step when no OAuth credential was given) is left
    # out; a layer of only such steps is not shown at all (`--verbose` shows them)
    shown = [s for s in steps if not (s.status is StepStatus.SKIP and not_needed(s.summary))]
    if not shown:
        return
    if all(s.status is StepStatus.PASS for s in shown):
        if len(shown) == 1:
            yield _fit(_short(TERMINAL[StepStatus.PASS], shown[0].title, shown[0].summary, color), width)
        else:
            yield _fit(_short(TERMINAL[StepStatus.PASS], title, ", ".join(s.title for s in shown), color), width)
        return
    skipped_for: dict[tuple[Any, ...], list[StepResult]] = {}
    for step in shown:
        needs = missing_inputs(step.summary) if step.status is StepStatus.SKIP else None
        if needs is not None:
            skipped_for.setdefault(needs, []).append(step)
    told: set[tuple[Any, ...]] = set()
    for step in shown:
        needs = missing_inputs(step.summary) if step.status is StepStatus.SKIP else None
        if needs is not None:
            if needs in told:
                continue
            told.add(needs)
            group = skipped_for[needs]
            what = what_runs_it(needs, Surface.TERMINAL)
            label = (f"{group[0].title} (skipped)" if len(group) == 1
                     else f"{len(group)} {noun} steps skipped")
            yield _fit(_short(TERMINAL[StepStatus.SKIP], label, what, color), width)
        elif step.status is StepStatus.PASS:
            yield _fit(_short(TERMINAL[step.status], step.title, step.summary, color), width)
        else:
            yield from _full_step(step, color=color, width=width)


def _full_step(step: StepResult, *, color: bool, width: int | None) -> Iterator[str]:
    """A failed, warning, broken (or otherwise skipped) step: its summary whole, wrapped to the
    width; its evidence one line each, cut to the width; its fix."""
    glyph = TERMINAL[step.status]
    word = {StepStatus.SKIP: " (skipped)", StepStatus.ERROR: " (could not be checked)"}.get(step.status, "")
    head = f"{step.title}{word}: {reword(step.summary, Surface.TERMINAL)}"
    yield from _wrapped(head, width, first=f"  {_paint(glyph.mark[0], glyph.ansi, color)} ", rest="    ",
                        visible_first=4)
    if step.status in NEEDS_DETAIL:
        for ev in step.evidence:
            yield _paint(_fit("    " + _evidence_line(ev), width), _DIM, color)
        if step.fix:
            yield from _wrapped(f"fix: {reword(step.fix, Surface.TERMINAL)}", width, first="    ", rest="      ")


def _short(glyph: Glyph, title: str, summary: str, color: bool) -> str:
    mark = _paint(glyph.mark[0], glyph.ansi, color)
    summary = reword(summary, Surface.TERMINAL)
    return f"  {mark} {title}: {summary}" if summary else f"  {mark} {title}"


def _fit(line: str, width: int | None) -> str:
    """`line` cut to `width` visible columns (ANSI codes kept out of the count), ending in "…"."""
    if width is None or _visible(line) <= width:
        return line
    out, seen, i = [], 0, 0
    while i < len(line) and seen < width - 1:
        if line.startswith("\x1b[", i):
            end = line.index("m", i) + 1
            out.append(line[i:end])
            i = end
            continue
        out.append(line[i])
        seen += 1
        i += 1
    return "".join(out) + "…" + (_RESET if "\x1b[" in line else "")


def _visible(line: str) -> int:
    return len(_ANSI.sub("", line))


def _wrapped(text: str, width: int | None, *, first: str, rest: str, visible_first: int | None = None) -> Iterator[str]:
    """`text` after `first`, wrapped to `width` with `rest` before each further line."""
    if width is None:
        yield first + text
        return
    lead = visible_first if visible_first is not None else len(first)
    lines = textwrap.wrap(text, width=max(20, width), initial_indent=" " * lead, subsequent_indent=rest,
                          break_on_hyphens=False) or [" " * lead]
    yield first + lines[0][lead:]
    yield from lines[1:]


def format_verdict(run: Run, *, color: bool, verbose: bool = True, width: int | None = None) -> str:
    """The verdict with its fix, other findings and what was not checked; or where the run is.
    Without `verbose`, what was not checked is left out: the grouped step lines above say it."""
    run = _inert_run(run)
    lines = _verdict_lines(run, color=color, width=width, verbose=verbose) + _findings_lines(run)
    if verbose:
        lines += _not_checked_lines(run)
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


def format_account_history(actor: str, found: AccountHistory) -> str:
    """What happened to one account: one timeline per site and question ("fixed" only when the
    same question now passes), then the bot's own failures, apart: they say nothing of the account."""
    if not found.timelines and not found.bot:
        return f"No finished runs for {actor}."
    also = [key for key in found.identities if key != (actor.lower() if "@" in actor else actor)]
    lines = [f"{actor}" + (f" (also filed as {', '.join(also)})" if also else "") + ":"]
    sites = {t.site for t in found.timelines}
    for timeline in found.timelines:
        where = f"on {timeline.site}: " if len(sites) > 1 else ""
        lines.append(f"  {where}{timeline.question or 'the question was not recorded'}")
        previous: Change | None = None
        for change in timeline.changes:
            lines.append(f"    {_period_phrase(change, previous)}")
            previous = change
    if len(sites) == 1:
        lines.insert(1, f"  on {next(iter(sites))}")
    if found.bot:
        lines.append("The bot's own problems met while checking it (about the bot's settings, not this account):")
        lines += [f"    {change.cause.value} since {_when(change.since)} ({change.runs} run"
                  f"{'' if change.runs == 1 else 's'}; "
                  f"{change.first_run_id if change.runs == 1 else change.first_run_id + ' … ' + change.last_run_id})"
                  for change in found.bot]
    return scrub("\n".join(lines))


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
        line += f" ({AUTH_WORDS.get(ev.auth, 'as ' + ev.auth)})"
    if ev.excerpt:
        excerpt = " ".join(ev.excerpt.split())
        if len(excerpt) > _EXCERPT_LIMIT:
            excerpt = excerpt[: _EXCERPT_LIMIT - 1] + "…"
        line += f"  {excerpt}"
    if ev.note:
        line += f"  ({ev.note})"
    return line


def _verdict_lines(run: Run, *, color: bool, width: int | None = None, verbose: bool = True) -> list[str]:
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
        lines += _wrapped(reword(verdict.explanation, Surface.TERMINAL), width, first="  ", rest="  ")
    if verdict.fix:
        lines.append(_paint("Fix:", _BOLD, color))
        for n, line in enumerate(verdict.fix, 1):
            lines += _wrapped(reword(line, Surface.TERMINAL), width, first=f"  {n}. ", rest="     ")
    decided = decided_by_words(run)
    if decided:
        lines += _wrapped(", ".join(decided), width, first="Decided by: ", rest="  ")
    return lines + _rival_lines(verdict, verbose=verbose, color=color, width=width)


def _rival_lines(verdict: Verdict, *, verbose: bool, color: bool, width: int | None) -> list[str]:
    """The rivals ruled out and those left open: each with why (`verbose`), else their titles in a line."""
    lines: list[str] = []
    for heading, (items, more) in (("Ruled out:", rivals.ruled_out(verdict, None if verbose else 2)),
                                   ("Not ruled out:", rivals.not_ruled_out(verdict, None if verbose else 2))):
        if not items:
            continue
        if verbose:
            lines.append(_paint(heading, _BOLD, color))
            for item in items:
                lines += _wrapped(reword(item, Surface.TERMINAL), width, first="  - ", rest="    ")
            continue
        if heading == "Ruled out:":  # one line: the reasons are in --verbose
            lines.append(f"Ruled out: {len(verdict.ruled_out)} other cause(s) (--verbose: each, with what excluded it)")
            continue
        titles = "; ".join(item.split(" — ", 1)[0] for item in items) + (f" (+{more}, --verbose)" if more else "")
        lines += _wrapped(titles, width, first=f"{heading} ", rest="  ")
    return lines


def decided_by_words(run: Run) -> list[str]:
    """What decided the verdict, in words: each deciding step's title and what it saw (a step id
    is an internal name); an entry that names no step is already words and is kept."""
    if run.verdict is None:
        return []
    steps = {step.id: step for step in run.steps}
    out = []
    for entry in run.verdict.decided_by:
        step = steps.get(entry)
        out.append(entry if step is None else f"{step.title} ({reword(step.summary, Surface.TERMINAL)})"
                   if step.summary else step.title)
    return out


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
