"""Every Slack id the bot shares between Block Kit builders and listeners, and button values.

Action, callback and block ids are enum members (Dispatch's `case/enums.py`), so a typo fails
at import. A button's value and a modal's `private_metadata` are one small typed JSON object,
`RunRef` (run id and actor), parsed by `parse_ref` only; neither ever carries a token.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import StrEnum

from bot.errors import UsageError

COMMAND = "/confluence-check"


class ActionId(StrEnum):
    RERUN = "rerun"
    TEST_WITH_TOKEN = "test_with_token"
    SHARE = "share_with_support"
    HISTORY = "history"
    TOKEN_INPUT = "actor_token_input"
    CLIENT_ID_INPUT = "client_id_input"
    CLIENT_SECRET_INPUT = "client_secret_input"


class CallbackId(StrEnum):
    TOKEN_MODAL = "actor_token_modal"


class BlockId(StrEnum):
    """Prefixes; messages that are edited append a revision (`block_id` must change per edit)."""

    PARENT = "parent"
    STEPS = "steps"
    VERDICT = "verdict"
    VERDICT_ACTIONS = "verdict_actions"
    TOKEN_INPUT = "actor_token"
    CLIENT_ID_INPUT = "client_id"
    CLIENT_SECRET_INPUT = "client_secret"
    HISTORY = "history"
    HOME = "home"
    HELP = "help"
    NOTICE = "notice"
    SHARE = "share"


_RUN_ID = re.compile(r"^r_[0-9A-Z]{26}$")
_MAX_ACTOR = 320  # an email address is at most 320 characters (RFC 3696 errata)


@dataclass(frozen=True, slots=True)
class RunRef:
    """What a button or a modal needs to find its run again: its id and actor."""

    run_id: str
    actor: str

    def encode(self) -> str:
        """Compact JSON for a button `value` (≤2000) or `private_metadata` (≤3000), https://docs.slack.dev/reference/block-kit/blocks."""
        return json.dumps({"run": self.run_id, "actor": self.actor}, separators=(",", ":"))


def parse_ref(value: str | None) -> RunRef:
    """The `RunRef` in a button value or private_metadata. :raises UsageError: if malformed."""
    try:
        data = json.loads(value or "")
        run_id, actor = data["run"], data["actor"]
    except (ValueError, TypeError, KeyError):
        raise UsageError("this button does not name a run; run the check again") from None
    if not (isinstance(run_id, str) and _RUN_ID.match(run_id)):
        raise UsageError("this button names no valid run id; run the check again")
    if not (isinstance(actor, str) and 0 < len(actor) <= _MAX_ACTOR):
        raise UsageError("this button names no valid actor; run the check again")
    return RunRef(run_id=run_id, actor=actor)


def block_id(prefix: BlockId, part: str | int, rev: int = 0) -> str:
    """A block id unique within a message and per edit of it (https://docs.slack.dev/reference/methods/chat.update,
    section-block)."""
    return f"{prefix.value}.{part}.{rev}"
