"""A comparison of two accounts (`bot.compare.Comparison`) for the terminal, as JSON, and as the
mrkdwn lines Slack posts. Pure functions; text from outside is masked (`scrub`) and made inert."""

from __future__ import annotations

import json
from collections.abc import Callable

from bot.compare import Comparison
from bot.model import Outcome, Run
from bot.redact import inert
from bot.render.markdown import scrub

_OUTCOME = {Outcome.OK: "no blocker found", Outcome.PROBLEM: "problem", Outcome.INCONCLUSIVE: "inconclusive"}
_WIDTH = 60


def verdict_line(run: Run) -> str:
    verdict = run.verdict
    if verdict is None:
        return f"{run.actor}: no verdict (run {run.run_id} was cut short)"
    outcome = _OUTCOME[verdict.outcome]
    return f"{run.actor}: {outcome} — {verdict.title} ({verdict.confidence.value}; run {run.run_id})"


def format_compare_text(comparison: Comparison) -> str:
    actor, good = comparison.actor_run, comparison.good_run
    lines = [f"Comparing {actor.actor} (failing) with {good.actor} (works) on {actor.site}",
             "  " + verdict_line(actor), "  " + verdict_line(good), ""]
    if comparison.differences:
        lines.append("Differences (those that explain the failure first):")
        for d in comparison.differences:
            mark = "→ explains the failure" if d.explains else ""
            lines.append(f"  {d.layer} · {d.fact}: {_cut(d.actor)}  vs  {_cut(d.known_good)}  {mark}".rstrip())
    else:
        lines.append("No difference in the facts both runs established.")
    lines += ["", "Side by side:"]
    cells = [("layer", "fact", actor.actor, good.actor),
             *((layer, fact, _cut(a), _cut(g)) for layer, fact, a, g in comparison.rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(4)]
    lines += ["  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    lines += ["", f"Each run in full: confluence-check show {actor.run_id}   confluence-check show {good.run_id}"]
    return scrub(inert("\n".join(lines)))


def format_compare_json(comparison: Comparison) -> str:
    """compare@1 JSON (ASCII only: no control character reaches a terminal)."""
    return scrub(json.dumps(comparison.to_dict(), indent=2, ensure_ascii=True))


def compare_mrkdwn_lines(comparison: Comparison, esc: Callable[[str], str]) -> list[str]:
    """The differences as mrkdwn lines; `esc` is the Slack adapter's escaping of typed text."""
    lines = []
    for d in comparison.differences:
        mark = " ← *explains the failure*" if d.explains else ""
        lines.append(f"• *{esc(d.layer)} · {esc(d.fact)}*: `{esc(_cut(d.actor))}` vs `{esc(_cut(d.known_good))}`{mark}")
    return lines or ["No difference in the facts both runs established."]


def _cut(text: str) -> str:
    return text if len(text) <= _WIDTH else text[:_WIDTH - 1] + "…"
