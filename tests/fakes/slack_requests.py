"""Slack request bodies as Slack sends them, signed with the v0 scheme
(https://docs.slack.dev/interactivity/implementing-slash-commands,
https://docs.slack.dev/authentication/verifying-requests-from-slack).

Slash commands are form-encoded; interactive payloads are `payload=<url-quoted JSON>`; events
are JSON. `signed_headers` signs the raw body with `SignatureVerifier.generate_signature`.
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any
from urllib.parse import quote, urlencode

from slack_sdk.signature import SignatureVerifier

from bot.slack.ids import COMMAND

CHANNEL = "C0CHECKS01"
USER = "U0ALICE001"
TEAM = "TFAKE0001"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
# Slack gives every interaction its own trigger_id, so no two commands or submissions have the same body
# (and signature): the bot drops a signed request it has already taken (bot.slack.replays).
_TRIGGERS = itertools.count(1)


def signed_headers(body: str, secret: str, *, content_type: str = FORM, timestamp: int | None = None,
                   signature: str | None = None) -> dict[str, str]:
    """Headers of a Slack request; a given `signature` replaces the real one (to test refusal)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    real = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {"content-type": content_type, "x-slack-request-timestamp": ts,
            "x-slack-signature": signature or real}


def slash_command(text: str, *, response_url: str, channel: str = CHANNEL, user: str = USER) -> str:
    return urlencode({
        "token": "deprecated-verification-token", "team_id": TEAM, "team_domain": "fake",
        "channel_id": channel, "channel_name": "checks", "user_id": user, "user_name": "alice",
        "command": COMMAND, "text": text, "api_app_id": "AFAKE0001", "is_enterprise_install": "false",
        "response_url": response_url, "trigger_id": f"1111.{next(_TRIGGERS)}.command",
    })


def block_action(action_id: str, value: str, *, response_url: str, channel: str = CHANNEL, user: str = USER,
                 message_ts: str = "", thread_ts: str | None = None) -> str:
    container = {"type": "message", "message_ts": message_ts, "channel_id": channel, "is_ephemeral": False}
    if thread_ts:
        container["thread_ts"] = thread_ts
    payload = {
        "type": "block_actions", "team": {"id": TEAM}, "user": {"id": user, "team_id": TEAM},
        "api_app_id": "AFAKE0001", "container": container, "trigger_id": "3333.4444.click",
        "channel": {"id": channel, "name": "checks"}, "response_url": response_url,
        "message": {"ts": message_ts, "thread_ts": thread_ts, "type": "message"},
        "actions": [{"type": "button", "action_id": action_id, "block_id": "verdict_actions.x",
                     "value": value, "action_ts": str(time.time())}],
    }
    return "payload=" + quote(json.dumps(payload))


def view_submission(view: dict[str, Any], values: dict[str, dict[str, Any]], *, user: str = USER) -> str:
    """A modal submission: the opened `view` with `values` as its state."""
    submitted = {**view, "id": "VFAKE0001", "team_id": TEAM, "state": {"values": values}}
    payload = {"type": "view_submission", "team": {"id": TEAM}, "user": {"id": user, "team_id": TEAM},
               "api_app_id": "AFAKE0001", "trigger_id": f"5555.{next(_TRIGGERS)}.submit", "view": submitted}
    return "payload=" + quote(json.dumps(payload))


def event(event_body: dict[str, Any]) -> str:
    return json.dumps({"token": "deprecated", "team_id": TEAM, "api_app_id": "AFAKE0001",
                       "event": event_body, "type": "event_callback", "event_id": "Ev0001",
                       "event_time": int(time.time()), "authorizations": [
                           {"team_id": TEAM, "user_id": "UBOTFAKE01", "is_bot": True}]})
