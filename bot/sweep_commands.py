"""The CLI side of the commands beyond one diagnosis: `tokens` (the org-wide API-token sweep) and
`compare` (two accounts diagnosed side by side).

Kept apart from `bot.commands` (one diagnosis at a time) so each stays small; both print through
`bot.console.write` and return an `ExitCode`.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from typing import TextIO

from bot.config import Settings
from bot.console import EXIT_FOR_OUTCOME, CheckOptions, ExitCode, run_async, write
from bot.errors import UsageError
from bot.render.compare import format_compare_json, format_compare_text
from bot.render.tokens import format_tokens_csv, format_tokens_json, format_tokens_text
from bot.tokens import Progress, SweepOptions, TokenSweep, sweep

_BAR = 30


@dataclass(frozen=True)
class TokensOptions:
    expiring_days: int = 30
    unused_days: int = 90
    json: bool = False
    csv: bool = False


def tokens(options: TokensOptions, settings: Settings, *, out: TextIO, err: TextIO, color: bool) -> ExitCode:
    """Sweep the org's tokens; the table (or JSON, or CSV) on `out`, a progress bar on `err` when
    it is a terminal. Exit 0 nothing flagged, 1 something flagged, 2 some accounts unread."""
    bar = ProgressBar(err)
    try:
        report = run_async(sweep(settings, SweepOptions(options.expiring_days, options.unused_days),
                                   on_progress=bar.show))
    finally:
        bar.clear()
    if options.json:
        write(out, format_tokens_json(report))
    elif options.csv:
        write(out, format_tokens_csv(report))
        _warn_unread(report, err)
    else:
        write(out, format_tokens_text(report, color=color))
    return ExitCode(report.exit_status)


def _warn_unread(report: TokenSweep, err: TextIO) -> None:
    """CSV holds token rows only: the accounts it lacks are named on stderr."""
    if report.not_checked:
        names = ", ".join(u.account_id or "the account list" for u in report.not_checked[:10])
        more = f" and {len(report.not_checked) - 10} more" if len(report.not_checked) > 10 else ""
        write(err, f"confluence-check: {len(report.not_checked)} account(s) could not be read "
                   f"({names}{more}); the CSV is incomplete")


class ProgressBar:
    """`[#####.....] 1,234/5,000 accounts read`, rewritten in place; only on a terminal."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        isatty = getattr(stream, "isatty", None)
        self._live = bool(isatty and isatty())
        self._shown = False

    def show(self, progress: Progress) -> None:
        if not self._live or progress.done:
            return
        total = max(progress.total or 0, progress.listed, progress.read)
        filled = int(_BAR * progress.read / total) if total else 0
        line = f"\r[{'#' * filled}{'.' * (_BAR - filled)}] {progress.read:,}/{total:,} accounts read"
        with contextlib.suppress(BrokenPipeError, ValueError):
            self._stream.write(line)
            self._stream.flush()
            self._shown = True

    def clear(self) -> None:
        if self._shown:
            with contextlib.suppress(BrokenPipeError, ValueError):
                self._stream.write("\r\x1b[K")
                self._stream.flush()


@dataclass(frozen=True)
class CompareOptions:
    actor: str
    known_good: str
    endpoint: str | None = None
    space: str | None = None
    json: bool = False
    status: int | None = None  # what the failing account gets; the account that works is not said to fail
    tokens_stdin: bool = False  # each account's API token on its own line of standard input (the second may be empty)


def _token_lines(stdin: TextIO | None) -> tuple[str | None, str | None]:
    """The failing account's token and the working account's (None when its line is empty), one line each;
    at a terminal, asked for without echo."""
    from bot.commands import read_secret

    if stdin is None:
        raise UsageError("--tokens-stdin needs the tokens on standard input")
    first = read_secret(stdin, "The failing account's API token (or email:token), not shown: ").strip()
    if not first:
        raise UsageError("--tokens-stdin: the first line must hold the failing account's API token")
    second = read_secret(stdin, "The working account's API token (Enter to skip), not shown: ").strip()
    return first, second or None


def compare(options: CompareOptions, settings: Settings, *, out: TextIO, stdin: TextIO | None = None) -> ExitCode:
    """Diagnose both accounts at once and print what differs; the exit status is the failing
    account's (as `check` would give it)."""
    from bot.checker import Checker
    from bot.commands import build_request, open_run_history
    from bot.compare import Comparison
    from bot.preflight import check_reachable

    settings.require("ATLASSIAN_SITE_URL")
    lines = _token_lines(stdin) if options.tokens_stdin else (None, None)
    requests = [build_request(CheckOptions(actor, options.endpoint, status, space=options.space,
                                           actor_token_stdin=line is not None), settings,
                              io.StringIO(line + "\n") if line is not None else None)
                for actor, status, line in ((options.actor, options.status, lines[0]),
                                            (options.known_good, None, lines[1]))]
    if requests[0].actor == requests[1].actor:
        raise UsageError("compare needs two different accounts: the failing one and one that works")
    history = open_run_history(settings)

    async def both() -> Comparison:
        await check_reachable(settings)
        return await Checker(settings, history).compare(*requests)

    try:
        comparison = run_async(both())
    finally:
        history.close()
    write(out, format_compare_json(comparison) if options.json else format_compare_text(comparison))
    outcome = comparison.actor_run.outcome
    return EXIT_FOR_OUTCOME[outcome] if outcome is not None else ExitCode.INCONCLUSIVE
