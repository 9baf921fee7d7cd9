"""What the command line's parsing (`bot.cli`) and its commands (`bot.commands`) share: the exit
codes, the options a command takes, the run being worked on, and writing to a pipe that may close.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from enum import IntEnum
from typing import TextIO

from bot.model import Outcome, Run


class ExitCode(IntEnum):
    OK = 0
    PROBLEM = 1
    INCONCLUSIVE = 2
    USAGE = 64  # EX_USAGE: bad usage or configuration
    INTERNAL = 70  # EX_SOFTWARE: a bug
    INTERRUPTED = 130  # 128 + SIGINT


EXIT_FOR_OUTCOME = {Outcome.OK: ExitCode.OK, Outcome.PROBLEM: ExitCode.PROBLEM,
                    Outcome.INCONCLUSIVE: ExitCode.INCONCLUSIVE}


@dataclass(frozen=True)
class CheckOptions:
    actor: str
    endpoint: str | None = None
    status: int | None = None
    body: str | None = None
    body_file: str | None = None
    space: str | None = None
    actor_token_stdin: bool = False
    json: bool = False
    client_credentials_stdin: bool = False


@dataclass(frozen=True)
class RuleOptions:
    rule: str
    json: bool = False
    markdown: bool = False


class RunTracker:
    """The id of the run this process is working on, for the internal-error and interrupt lines."""

    run_id: str | None = None


def exit_code(run: Run) -> ExitCode:
    assert run.outcome is not None
    return EXIT_FOR_OUTCOME[run.outcome]


def write(out: TextIO, text: str) -> None:
    """Print a line; a closed pipe silences the rest of the output but never stops the run."""
    try:
        out.write(text if text.endswith("\n") else text + "\n")
        out.flush()
    except BrokenPipeError:
        close_stdout()


def close_stdout() -> None:
    """The reader went away (`| head -1`): send what is still buffered, and all later output,
    to /dev/null, so neither this write nor the one at exit raises BrokenPipeError again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # not a real file (a test's StringIO)
        pass
