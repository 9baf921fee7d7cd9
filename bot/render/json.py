"""The JSON rendering of runs: `Run.to_dict()` (confluence-check/run@1) plus serialisation.

History stores the same dict, so `show --json` cannot drift from `check --json`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from bot.model import Run

# json escapes C0 controls itself; DEL, C1 controls and the characters that reorder or hide text it
# writes as they are (ensure_ascii=False): they are written as \\u escapes, the same JSON value.
_UNSAFE = re.compile(r"[\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def _dumps(value: object) -> str:
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", json.dumps(value, indent=2, ensure_ascii=False))


def format_json(run: Run) -> str:
    """The run as indented run@1 JSON (every control character escaped, so a terminal obeys none)."""
    return _dumps(run.to_dict())


def format_history_json(runs: Iterable[Run]) -> str:
    """A JSON list of run@1 documents, in the given order."""
    return _dumps([run.to_dict() for run in runs])
