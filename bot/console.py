"""What the command line's parsing (`bot.cli`) and its commands (`bot.commands`) share: the exit
codes, the options a command takes, the run being worked on, writing to a pipe that may close, and
running async work so that a signal stops it cleanly.

Signals (docs/architecture.md §Signals): Ctrl-C (SIGINT) and SIGTERM both stop a command the same
way — inside asyncio the main task is cancelled, so every run in flight is saved as interrupted
before the process ends — and exit 130 and 143 (128 + the signal). SIGTERM is handled as itself,
never by turning it into SIGINT: a process started with SIGINT ignored (a script's background job,
`cmd &`) must still stop on SIGTERM.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, TextIO, TypeVar

from bot.model import Outcome, Run


class ExitCode(IntEnum):
    OK = 0
    PROBLEM = 1
    INCONCLUSIVE = 2
    USAGE = 64  # EX_USAGE: bad usage or configuration
    INTERNAL = 70  # EX_SOFTWARE: a bug
    INTERRUPTED = 130  # 128 + SIGINT
    TERMINATED = 143  # 128 + SIGTERM


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
    verbose: bool = False  # every step, not a passing layer as one line
    sent_as: str | None = None  # how the caller sends the token: basic, bearer or none (--sent-as)


@dataclass(frozen=True)
class RuleOptions:
    rule: str
    json: bool = False
    markdown: bool = False
    verbose: bool = False


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


T = TypeVar("T")


class Terminated(BaseException):
    """SIGTERM arrived: unwind as for KeyboardInterrupt (runs saved as interrupted), exit 143."""


def raise_on_sigterm() -> Callable[[int, Any], Any] | int | None:
    """SIGTERM raises `Terminated` in the main thread from now on (outside an event loop; `run_async`
    handles it inside one). Returns the handler it replaced (None: not the main thread, left alone)."""
    def terminate(_signum: int, _frame: object) -> None:
        raise Terminated

    try:
        return signal.signal(signal.SIGTERM, terminate)
    except ValueError:  # not the main thread (a test runner's worker): leave signals alone
        return None


def run_async(main: Coroutine[Any, Any, T], *,
              loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None) -> T:
    """`asyncio.run(main)`, where SIGTERM cancels `main` as Ctrl-C does (so it saves its runs as
    interrupted on the way out) and then raises `Terminated`, whatever SIGINT's disposition. A
    repeated SIGTERM changes nothing while the stop is under way."""
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        loop = runner.get_loop()
        terminated = False
        main_task: list[asyncio.Task[T]] = []

        async def tracked() -> T:
            task = asyncio.current_task()
            assert task is not None
            main_task.append(task)
            return await main

        def terminate() -> None:
            # Only the first SIGTERM cancels: a second one (a supervisor repeating itself while the
            # stop is saving runs) must not cut the saving short. SIGKILL is the way to force it.
            nonlocal terminated
            if not terminated and main_task and not main_task[0].done():
                main_task[0].cancel()
            terminated = True

        previous = signal.getsignal(signal.SIGTERM)
        try:
            loop.add_signal_handler(signal.SIGTERM, terminate)
        except (ValueError, RuntimeError, NotImplementedError):  # not the main thread; no such API
            previous = None
        try:
            result = runner.run(tracked())
        except asyncio.CancelledError:
            if terminated:
                raise Terminated from None
            raise
        finally:
            if previous is not None:
                loop.remove_signal_handler(signal.SIGTERM)
                signal.signal(signal.SIGTERM, previous)  # remove_signal_handler leaves SIG_DFL
        if terminated:
            raise Terminated
        return result
