"""The rivals a verdict considered, in words every surface shows the same way: those ruled out, with the
observation that excluded each, and those left open, with what would decide them (`Verdict.ruled_out`,
`Verdict.not_ruled_out`). Cause titles come from the catalogue; a stored run read back names its cause."""

from __future__ import annotations

from bot.causes import BY_CODE
from bot.model import Verdict

SHOWN = 6  # a terminal or Slack message lists this many of each; the Markdown bundle and JSON list all


def ruled_out(verdict: Verdict, limit: int | None = None) -> tuple[list[str], int]:
    """'Title — why it is excluded' for each rival ruled out, and how many more were left unlisted."""
    items = [f"{BY_CODE[r.cause].title} — {r.by}" for r in verdict.ruled_out]
    return _cut(items, limit)


def not_ruled_out(verdict: Verdict, limit: int | None = None) -> tuple[list[str], int]:
    """'Title — would be decided by …' for each rival left open, and how many more were left unlisted."""
    items = [f"{BY_CODE[o.cause].title} — would be decided by {o.would_decide}" for o in verdict.not_ruled_out]
    return _cut(items, limit)


def _cut(items: list[str], limit: int | None) -> tuple[list[str], int]:
    if limit is None or len(items) <= limit:
        return items, 0
    return items[:limit], len(items) - limit


def sections(verdict: Verdict, limit: int | None = SHOWN) -> list[tuple[str, str, list[str], int]]:
    """(key, heading, items, how many more) for what decided the verdict in words, the rivals ruled out
    and those left open: the sections a message shows under the verdict, empty ones left out."""
    out = [("decided_by", "Decided by", *_cut(list(verdict.observed), limit)),
           ("ruled_out", "Ruled out", *ruled_out(verdict, limit)),
           ("not_ruled_out", "Not ruled out", *not_ruled_out(verdict, limit))]
    return [section for section in out if section[2]]
