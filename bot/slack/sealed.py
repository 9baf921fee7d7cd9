"""A modal's `private_metadata`, sealed: the bot signs what it puts there and trusts nothing it did not sign.

Slack hands `private_metadata` back on submission as the app set it, but a submission is only a signed
HTTP request: whoever can send one chooses its payload. So the token form's metadata carries the run it
replays, who opened the form and where, and an HMAC-SHA256 over all of it, keyed with a key derived from
SLACK_SIGNING_SECRET (or, in Socket Mode, which has none, from SLACK_BOT_TOKEN): replicas of one app share
it, nobody outside the app has it, and it is never the signing secret itself. A submission whose seal does
not check out, or that comes from another user than the one who opened the form, is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass

from bot.config import Settings
from bot.errors import UsageError
from bot.slack.ids import RunRef, parse_ref

_PURPOSE = b"confluence-check: sealed private_metadata, v1"
NOT_SEALED = ("This form was not opened by confluence-check for you. Open it again with the run's "
              "'Test with the actor's token' button.")


@dataclass(frozen=True, slots=True)
class Sealed:
    """What the bot put into a form: the run, who opened the form, and in which conversation."""

    ref: RunRef
    user: str
    channel: str


def metadata_key(settings: Settings) -> bytes:
    """The sealing key: derived (HMAC with a fixed purpose) from the signing secret, or the bot token."""
    secret = settings.slack_signing_secret or settings.slack_bot_token
    material = secret.reveal().encode() if secret is not None else b""
    return hmac.new(material, _PURPOSE, hashlib.sha256).digest()


def seal(ref: RunRef, user: str, channel: str, key: bytes) -> str:
    """Compact JSON for `private_metadata` (≤3000 characters: a run id, an actor, two Slack ids, a MAC)."""
    fields = {"run": ref.run_id, "actor": ref.actor, "user": user, "channel": channel}
    return json.dumps({**fields, "mac": _mac(fields, key)}, separators=(",", ":"))


def unseal(value: str | None, key: bytes, *, user: str) -> Sealed:
    """What `seal` put into the form `user` submits. :raises UsageError: (`NOT_SEALED`) when the value is
    not one this bot sealed, or was sealed for another user."""
    try:
        data = json.loads(value or "")
        fields = {name: data[name] for name in ("run", "actor", "user", "channel")}
        mac = data["mac"]
    except (ValueError, TypeError, KeyError):
        raise UsageError(NOT_SEALED) from None
    if not (isinstance(mac, str) and all(isinstance(v, str) for v in fields.values())
            and hmac.compare_digest(mac, _mac(fields, key)) and fields["user"] == user):
        raise UsageError(NOT_SEALED)
    ref = parse_ref(json.dumps({"run": fields["run"], "actor": fields["actor"]}))
    return Sealed(ref, fields["user"], fields["channel"])


def _mac(fields: dict[str, str], key: bytes) -> str:
    text = json.dumps(fields, separators=(",", ":"), sort_keys=True)
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()
