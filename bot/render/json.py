"""The JSON rendering of runs: `Run.to_dict()` (confluence-check/run@1) plus serialisation.

History stores the same dict, so `show --json` cannot drift from `check --json`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from bot.model import Run


def format_json(run: Run) -> str:
    """The run as indented run@1 JSON."""
    return json.dumps(run.to_dict(), indent=2, ensure_ascii=False)


def format_history_json(runs: Iterable[Run]) -> str:
    """A JSON list of run@1 documents, in the given order."""
    return json.dumps([run.to_dict() for run in runs], indent=2, ensure_ascii=False)
