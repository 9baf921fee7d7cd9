"""manifest.yml is a valid Slack manifest declaring exactly what the code uses; Procfile runs both modes.

The schema is Slack's v1 manifest schema (slackapi/manifest-schema, MIT, copied beside this file).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import yaml

import bot.slack
from bot.slack.ids import COMMAND

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = Path(__file__).with_name("manifest.schema.1.0.0.json")
# Web API methods the bot may call, and the bot scope each needs (none: no scope required).
SCOPE_OF = {"chat_postMessage": "chat:write", "chat_update": "chat:write", "chat_postEphemeral": "chat:write",
            "chat_getPermalink": None, "views_open": None, "views_publish": None, "auth_test": None,
            # files.getUploadURLExternal + upload + files.completeUploadExternal (the retired files.upload: never)
            "files_upload_v2": "files:write"}


def manifest() -> dict:
    return yaml.safe_load((ROOT / "manifest.yml").read_text())


def test_manifest_validates_against_slacks_schema() -> None:
    jsonschema.Draft7Validator(json.loads(SCHEMA.read_text())).validate(manifest())


def test_manifest_declares_the_command_interactivity_home_and_socket_mode() -> None:
    m = manifest()
    [command] = m["features"]["slash_commands"]
    assert command["command"] == COMMAND and "ACTOR" in command["usage_hint"]
    assert m["settings"]["interactivity"]["is_enabled"] is True
    assert m["settings"]["socket_mode_enabled"] is True
    assert m["features"]["app_home"]["home_tab_enabled"] is True
    assert m["settings"]["event_subscriptions"]["bot_events"] == ["app_home_opened"]


def test_bot_scopes_are_exactly_those_the_code_uses_and_each_is_justified() -> None:
    source = "\n".join(p.read_text() for p in Path(bot.slack.__file__).parent.rglob("*.py"))
    called = set(re.findall(r"\.(chat_\w+|views_\w+|conversations_\w+|users_\w+|files_\w+|auth_test)\(", source))
    assert called <= set(SCOPE_OF), f"unknown Web API methods {called - set(SCOPE_OF)}: add their scope"
    needed = {"commands"} | {SCOPE_OF[m] for m in called if SCOPE_OF[m]}
    assert set(manifest()["oauth_config"]["scopes"]["bot"]) == needed
    docs = (ROOT / "docs" / "slack-setup.md").read_text()  # "Scopes, and why each is needed"
    assert all(f"`{scope}`" in docs for scope in needed)


def test_procfile_has_a_socket_mode_worker_and_an_http_web_process() -> None:
    lines = dict(line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line)
    assert lines == {"worker": "confluence-check serve --socket", "web": "confluence-check serve --http"}
