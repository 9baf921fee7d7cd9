"""What a person types to name an automation rule: its UUID, a URL holding it, a numeric id or a name.

Only a UUID can be read directly (`GET …/rule/{ruleUuid}`, docs/atlassian.md §A.2.4); a numeric id or a name
is looked up among the rule summaries (§2.7) by `resolve`, or refused with what to paste instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.errors import UsageError

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
# The rule editor's hash route, `#/rule/{uuid-or-numeric-id}` (docs/atlassian.md §A.2.7, [R]/[I])
_RULE_ROUTE = re.compile(r"/rule/([0-9a-f-]{36}|\d+)(?:[/?#]|$)", re.IGNORECASE)
_URL = re.compile(r"^https?://", re.IGNORECASE)
WHAT_TO_PASTE = ("paste the rule's UUID (e.g. 019d0162-a338-7210-8481-960dff8f80ad) or the URL of the rule "
                 "in the rule editor, which ends in #/rule/<uuid>")


@dataclass(frozen=True, slots=True)
class RuleRef:
    """Exactly one of `uuid`, `numeric_id`, `name` is set."""

    uuid: str | None = None
    numeric_id: str | None = None
    name: str | None = None

    def describe(self) -> str:
        if self.uuid:
            return self.uuid
        return f"rule #{self.numeric_id}" if self.numeric_id else f"rule named {self.name!r}"


def parse_rule_reference(text: str) -> RuleRef:
    """A UUID, a URL holding one (or a numeric id), a bare numeric id, or a rule name. Raises UsageError."""
    value = (text or "").strip().strip("<>").strip()
    if not value:
        raise UsageError(f"name the rule: {WHAT_TO_PASTE}")
    if _URL.match(value):
        route = _RULE_ROUTE.search(value)
        if route is not None:
            found = route.group(1)
            return RuleRef(uuid=found.lower()) if _UUID.fullmatch(found) else RuleRef(numeric_id=found)
        uuids = {m.lower() for m in _UUID.findall(value)}
        if len(uuids) == 1:
            return RuleRef(uuid=uuids.pop())
        raise UsageError(f"that URL does not name one automation rule: {WHAT_TO_PASTE}")
    if _UUID.fullmatch(value):
        return RuleRef(uuid=value.lower())
    if value.isdigit():
        return RuleRef(numeric_id=value)
    if len(value) > 255 or any(c in value for c in "\r\n\t"):
        raise UsageError(f"{value[:40]!r}… is not a rule name: {WHAT_TO_PASTE}")
    return RuleRef(name=value)


def resolve(ref: RuleRef, summaries: Iterable[Mapping[str, Any]]) -> str:
    """The UUID that `ref` names among the rule summaries (§2.2); raises UsageError naming what to paste."""
    if ref.uuid:
        return ref.uuid
    rows = list(summaries)
    if ref.numeric_id:
        # Current summaries carry only `uuid`; an older shape also had a numeric `id` (§2.2, EAP shape)
        matches = [r for r in rows if str(r.get("id", "")) == ref.numeric_id]
        what = f"rule #{ref.numeric_id}"
        if not matches:
            raise UsageError(
                f"{what} is an old numeric rule id, which the Automation REST API does not accept and its rule "
                f"list does not show: {WHAT_TO_PASTE}, or give the rule's exact name")
    else:
        wanted = (ref.name or "").casefold()
        matches = [r for r in rows if str(r.get("name", "")).strip().casefold() == wanted]
        what = f"rule named {ref.name!r}"
        if not matches:
            raise UsageError(f"no Confluence automation rule is named {ref.name!r} on this site: {WHAT_TO_PASTE}")
    if len(matches) > 1:
        listed = ", ".join(f"{r.get('uuid')} ({r.get('state', '?')})" for r in matches[:5])
        raise UsageError(f"{len(matches)} rules match {what}: {listed}; give one UUID")
    uuid = str(matches[0].get("uuid") or matches[0].get("idUuid") or "")
    if not _UUID.fullmatch(uuid):
        raise UsageError(f"the rule list gives no UUID for {what}: {WHAT_TO_PASTE}")
    return uuid.lower()
