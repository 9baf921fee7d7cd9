"""How a run is laid out in the store: its indexed columns and its compressed document.

A run is stored once, as the `confluence-check/run@1` document (`Run.to_dict()`, docs/architecture.md §Run JSON) cut in
two zlib-compressed JSON parts: `runs.doc`, the document without its steps (verdict, findings,
request: what lists of runs show), and `runs.steps_doc`, the list of steps. Put back together
they are exactly the document, so `show --json` gives back what `check --json` printed. While a
run goes on, its finished steps are rows of `run_steps` (saved as they finish) instead; when it
ends (finished or interrupted) they move into `steps_doc` and their rows go. The columns beside
the documents are the few that queries filter or sort on.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from bot.model import CauseCode, Run, StepResult, StepStatus, iso

_LEVEL = 6  # zlib's default: ~4x smaller run documents for ~0.1 ms per save


class Via(StrEnum):
    """Where a run was started from."""

    CLI = "cli"
    SLACK = "slack"
    DEMO = "demo"
    WATCH = "watch"  # a watch's periodic check, run by serve


ORIGIN_KEYS = ("via", "slack_channel", "slack_thread_ts", "slack_user")


def encode_doc(document: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> bytes:
    return zlib.compress(json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode(), _LEVEL)


def decode_doc(blob: bytes | memoryview) -> Any:
    return json.loads(zlib.decompress(bytes(blob)))


def run_head(run: Run) -> bytes:
    """The run's document without its steps (`runs.doc`)."""
    return encode_doc(run.to_dict() | {"steps": []})


def run_steps(run: Run) -> bytes:
    """The run's steps, in declared order (`runs.steps_doc`)."""
    return encode_doc([step.to_dict() for step in run.steps])


def step_document(step: StepResult) -> str:
    return json.dumps(step.to_dict(), ensure_ascii=False, separators=(",", ":"))


def load_run(head: bytes | memoryview, steps: bytes | memoryview | None = None, step_docs: Iterable[str] = ()) -> Run:
    """The Run from its head and its steps (`steps_doc` once it ended, else its step rows in
    declared order); a head alone gives the run without steps, for lists of runs."""
    document = decode_doc(head)
    document["steps"] = decode_doc(steps) if steps is not None else [json.loads(s) for s in step_docs]
    return Run.from_dict(document)


def run_columns(run: Run) -> dict[str, Any]:
    """The indexed and displayed columns of a run (everything else is in its document)."""
    verdict = run.verdict
    finished_at = None
    if verdict is not None and run.duration_ms is not None:
        finished_at = iso(run.started_at + timedelta(milliseconds=run.duration_ms))
    return {
        "run_id": run.run_id,
        "actor": run.actor,
        "site": run.site,
        "started_at": iso(run.started_at),
        "finished_at": finished_at,
        "duration_ms": run.duration_ms,
        "outcome": run.outcome.value if run.outcome else None,
        "cause": verdict.cause.value if verdict else None,
        "confidence": verdict.confidence.value if verdict else None,
        "interrupted": int(run.interrupted),
        "previous_run_id": run.previous_run_id,
    }


# The bot's own trouble, not the account's: its credentials refused, or ATLASSIAN_SITE_URL names no
# site. Such runs belong to the bot's history and never to an account's timeline.
BOT_CAUSES = (CauseCode.INSPECTOR_MISCONFIGURED, CauseCode.SITE_NOT_FOUND)

# An Atlassian account id: "557058:<uuid>", a bare uuid, or the older 24 hex digits.
_ACCOUNT_ID = r"(?:\d+:)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{24}"
_LOOKED_UP = re.compile(rf"\(({_ACCOUNT_ID})\)\s*$")
_IS_ACCOUNT_ID = re.compile(rf"^(?:{_ACCOUNT_ID})$")


def account_of(run: Run) -> str:
    """Whom the run is about, as one identity: the account id the run resolved (so an email given
    to `check` and the account id a rule names meet), else what was typed (an email in lower case)."""
    resolved = run.request.get("account_id")
    if resolved:
        return str(resolved)
    lookup = run.step("identity.lookup")  # runs stored before the account id was kept: its summary names it
    if lookup is not None and lookup.status is StepStatus.PASS:
        found = _LOOKED_UP.search(lookup.summary)
        if found:
            return found.group(1)
    return run.actor.lower() if "@" in run.actor else run.actor


def looks_like_account_id(text: str) -> bool:
    return bool(_IS_ACCOUNT_ID.match(text))


def question_of(run: Run) -> str:
    """What the run asked, in words: the failing call (on the site, by its path), the space, the
    automation rule's action, and whether the actor's token was given. Two runs answer the same
    question only when all of these are the same; "fixed" compares answers to one question."""
    request = run.request
    parts = []
    endpoint = request.get("endpoint")
    if endpoint:
        method, _, url = str(endpoint).partition(" ")
        if run.site and url.startswith(run.site):
            url = url[len(run.site):] or "/"
        parts.append(f"{method} {url}")
    else:
        parts.append("no failing call named")
    if request.get("space"):
        parts.append(f"space {str(request['space']).upper()}")
    rule = request.get("rule")
    if isinstance(rule, Mapping) and rule.get("uuid"):
        parts.append(f"rule {rule['uuid']}" + (f" action {rule['action']}" if rule.get("action") else ""))
    parts.append("with the actor's token" if request.get("actor_token_given") else "without the actor's token")
    return ", ".join(parts)


def identity_columns(run: Run) -> dict[str, str]:
    return {"account": account_of(run), "question": question_of(run)}


def origin_columns(origin: Mapping[str, str | None]) -> dict[str, str]:
    """:raises ValueError: for a key outside `ORIGIN_KEYS` or an unknown `via`."""
    unknown = sorted(set(origin) - set(ORIGIN_KEYS))
    if unknown:
        raise ValueError(f"unknown origin keys {unknown}; the store keeps only {list(ORIGIN_KEYS)}")
    record = {key: str(value) for key, value in origin.items() if value is not None}
    if "via" in record:
        record["via"] = Via(record["via"]).value
    return record


def parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
