"""Fuzz the input parsers for longer than CI does, and print what came out.

    python scripts/fuzz_parsers.py [--examples 5000] [--only endpoint]

For each parser (endpoint, slash-command, actor, body, settings-url): how many inputs were tried,
accepted, refused with the project's own error (exit 64 / usage help), and crashed with any other
exception (must be 0). Exit status 1 when anything crashed.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hypothesis import HealthCheck, given, settings

from tests.fuzz import TARGETS


def fuzz(name: str, examples: int) -> tuple[Counter[str], list[str]]:
    target, inputs = TARGETS[name]
    counts: Counter[str] = Counter()
    crashes: list[str] = []

    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(inputs)
    def run(text: str) -> None:
        counts["tried"] += 1
        try:
            target(text)
        except Exception as exc:
            from bot.errors import ConfluenceCheckError

            if isinstance(exc, ConfluenceCheckError):
                counts["refused"] += 1
            else:
                counts["crashed"] += 1
                crashes.append(f"{type(exc).__name__}: {exc} for {text!r}")
        else:
            counts["accepted"] += 1

    run()
    return counts, crashes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=5000, help="inputs per parser (default 5000)")
    parser.add_argument("--only", choices=sorted(TARGETS), help="fuzz one parser")
    args = parser.parse_args()
    total = 0
    print(f"{'parser':<14} {'tried':>7} {'accepted':>9} {'refused':>8} {'crashed':>8} {'seconds':>8}")
    for name in [args.only] if args.only else sorted(TARGETS):
        t0 = time.monotonic()
        counts, crashes = fuzz(name, args.examples)
        print(f"{name:<14} {counts['tried']:>7} {counts['accepted']:>9} {counts['refused']:>8} "
              f"{counts['crashed']:>8} {time.monotonic() - t0:>8.1f}")
        for line in crashes[:5]:
            print("    " + line)
        total += counts["crashed"]
    print(f"crashes: {total}")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
