"""Reading what the bot sent to the fake Slack: threads, messages, buttons (test helpers)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tests.fakes.slack_api import Call, FakeSlack
from tests.fakes.slack_requests import CHANNEL


def blocks_of(call: Call) -> list[dict[str, Any]]:
    blocks = call.params.get("blocks") or []
    return json.loads(blocks) if isinstance(blocks, str) else blocks


def text_of(call: Call) -> str:
    """The fallback text and every text in the blocks of a message, joined."""
    parts = [str(call.params.get("text") or "")]
    for block in blocks_of(call):
        parts += texts_in(block)
    return "\n".join(parts)


def texts_in(node: Any) -> list[str]:
    if isinstance(node, dict):
        out = [node["text"]] if isinstance(node.get("text"), str) else []
        for value in node.values():
            if isinstance(value, dict | list):
                out += texts_in(value)
        return out
    if isinstance(node, list):
        return [t for item in node for t in texts_in(item)]
    return []


def buttons_of(call: Call) -> dict[str, str]:
    """action_id → value of every button in a message."""
    return {el["action_id"]: el.get("value", "") for block in blocks_of(call) if block["type"] == "actions"
            for el in block["elements"]}


@dataclass
class Thread:
    """One run's messages as the fake saw them."""

    parent: Call
    parent_ts: str
    replies: list[Call]
    edits: list[Call]

    @property
    def verdict(self) -> Call:
        """The write that made the reply holding the verdict what it is: the reply's post, or the
        newest edit of it (the live step list is edited into the verdict when the run ends)."""
        reply_ts = {ts_of(c) for c in self.replies}
        shown = [c for c in [*self.replies, *self.edits] if buttons_of(c)
                 and (c.method == "chat.postMessage" or c.params.get("ts") in reply_ts)]
        return max(shown, key=lambda c: c.at)

    @property
    def steps(self) -> Call:
        return next(c for c in self.replies if text_of(c).startswith("Steps:"))


def ts_of(call: Call) -> str:
    """The ts the fake gave a chat.postMessage call."""
    return str(call.response["ts"])


def thread(fake: FakeSlack, channel: str = CHANNEL, index: int = 0) -> Thread:
    """The `index`-th thread the bot started in `channel`."""
    posts = [c for c in fake.calls_to("chat.postMessage") if c.channel == channel and c.response.get("ok")]
    parents = [c for c in posts if not c.params.get("thread_ts")]
    parent = parents[index]
    ts = ts_of(parent)
    replies = [c for c in posts if c.params.get("thread_ts") == ts]
    edits = [c for c in fake.calls_to("chat.update") if c.channel == channel]
    return Thread(parent, ts, replies, edits)
