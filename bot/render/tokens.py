"""The token sweep (`bot.tokens.TokenSweep`) for each surface: a terminal table grouped by what to
do, `confluence-check/tokens@1` JSON, CSV (the JSON's token rows), and the action groups Slack's summary counts.

Pure functions of the sweep. Labels and emails come from outside (people type labels): they are
masked like any text (`scrub`), made inert for a terminal (control characters shown, not obeyed)
and for a spreadsheet (a cell that would start a formula is prefixed with ').
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence

from bot.redact import inert
from bot.render.markdown import scrub
from bot.tokens import TokenFlag, TokenRow, TokenSweep

CSV_COLUMNS = ("account_id", "email", "account_status", "account_type", "token_id", "label", "created",
               "expires", "last_used", "flags")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def action_groups(sweep: TokenSweep) -> list[tuple[TokenFlag, str, list[TokenRow]]]:
    """Flagged tokens grouped by what to do first (each token once, under its most urgent flag)."""
    days = sweep.options
    heads = {
        TokenFlag.ACCOUNT_INACTIVE: "On a deactivated or closed account: revoke the token",
        TokenFlag.EXPIRED: "Expired: create a new token where it is still used, then delete this one",
        TokenFlag.EXPIRING: f"Expiring within {days.expiring_days} days: create a new token and swap it in now",
        TokenFlag.NEVER_USED: "Never used: revoke it unless it was made for something not yet running",
        TokenFlag.UNUSED: f"Not used for {days.unused_days} days: revoke it if nothing needs it",
    }
    groups = []
    for flag in TokenFlag:
        rows = [r for r in sweep.flagged if r.flags[0] is flag]
        if rows:
            groups.append((flag, heads[flag], rows))
    return groups


def format_tokens_text(sweep: TokenSweep, *, color: bool = False) -> str:
    lines = [f"API tokens of organization {sweep.org_id}: {sweep.checked_accounts} account(s) read, "
             f"{len(sweep.tokens)} token(s), {len(sweep.flagged)} flagged"]
    for _, head, rows in action_groups(sweep):
        lines += ["", _paint(f"{head} ({len(rows)})", "1", color)]
        lines += _table(rows)
    healthy = len(sweep.tokens) - len(sweep.flagged)
    if sweep.tokens:
        lines += ["", f"{healthy} token(s) need nothing now."]
    if sweep.unmanaged:
        lines.append(f"{sweep.unmanaged} account(s) are not managed by the organization: their tokens are not "
                     "the organization's to read.")
    if sweep.not_checked:
        lines += ["", _paint(f"Not read ({len(sweep.not_checked)}): this list is incomplete", "33", color)]
        lines += [f"  {u.account_id or '(account list)'}: {inert(u.why)}" for u in sweep.not_checked]
    elif not sweep.flagged:
        lines += ["", "Nothing to do: no token is expired, expiring, unused or on an inactive account."]
    return scrub("\n".join(lines))


def _table(rows: Sequence[TokenRow]) -> list[str]:
    cells = [("account", "token", "expires", "last used", "flags")]
    for r in rows:
        cells.append((inert(r.email or r.account_id), inert(r.label or r.token_id)[:40], _day(r.expires),
                      _day(r.last_used) or "never", ",".join(f.value for f in r.flags)))
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    return ["  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]


def _day(value: str | None) -> str:
    return (value or "")[:10]


def _paint(text: str, ansi: str, color: bool) -> str:
    return f"\x1b[{ansi}m{text}\x1b[0m" if color else text


def format_tokens_json(sweep: TokenSweep) -> str:
    """tokens@1, every character outside ASCII escaped (so no control character reaches a terminal)."""
    return scrub(json.dumps(sweep.to_dict(), indent=2, ensure_ascii=True))


def format_tokens_csv(sweep: TokenSweep) -> str:
    """The JSON's token rows as CSV (flags joined with ';'), header first."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in sweep.tokens:
        data = row.to_dict()
        data["flags"] = ";".join(data["flags"])
        writer.writerow([_cell(data[c]) for c in CSV_COLUMNS])
    return scrub(out.getvalue())


def _cell(value: object) -> str:
    text = "" if value is None else inert(str(value))
    return "'" + text if text.startswith(_FORMULA_START) else text
