"""A Confluence automation rule as the Automation REST API returns it, and its Send web request actions.

`parse_rule` walks `rule.trigger`, `rule.components[]` and, recursively, every `conditions[]` and
`children[]` (docs/atlassian.md §A.2.4, §2.5), in rule order: a component, then its conditions, then its
children. A Send web request is found **by shape** — an `ACTION` whose `value` is an object with `url`,
`method` and a `headers` array — because Confluence's `type` string is undocumented (§2.6); the type
seen is kept so it can be reported. Header values are secrets: they never appear in a repr.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

# The editor's "Hidden" placeholder on a redacted read (docs/atlassian.md §A.5, [R]): a value, not a secret.
REDACTED = "***"


@dataclass(frozen=True, slots=True)
class Header:
    name: str
    value: str | None = field(repr=False)  # a secret until shown through `analysis.display_header`
    secure: bool = False  # the editor's "Hidden" checkbox (`headerSecure`)


@dataclass(frozen=True, slots=True)
class WebRequestAction:
    """One Send web request action. `url`, header values and `body` may hold secrets (§5)."""

    index: int  # 1-based, in rule order among the Send web request actions
    path: str  # where it sits, e.g. "components[1].children[0]"
    component_id: str | None
    type: str | None  # as seen; undocumented for Confluence (§2.6)
    url: str = field(repr=False)
    method: str
    headers: tuple[Header, ...] = ()
    content_type: str | None = None
    body: str | None = field(default=None, repr=False)
    connection_id: str | None = None
    url_secure: bool = False  # `urlSecure`: the URL itself holds a secret (docs/atlassian.md §A.2.5–§A.2.6)

    def header(self, name: str) -> list[Header]:
        """Every header of that name (case-insensitive, as HTTP compares them)."""
        return [h for h in self.headers if h.name.strip().casefold() == name.casefold()]

    @property
    def label(self) -> str:
        return f"Send web request #{self.index} ({self.path})"


@dataclass(frozen=True, slots=True)
class Rule:
    uuid: str
    name: str
    state: str  # ENABLED | DISABLED
    scope_aris: tuple[str, ...]
    actor_type: str | None  # ACCOUNT_ID | EVENT_INITIATOR | SMART_VALUE (§2.4)
    actor_account_id: str | None
    author_account_id: str | None
    actions: tuple[WebRequestAction, ...]
    component_types: tuple[str, ...] = ()  # every component type seen, for the record

    @property
    def scope(self) -> str:
        """`global`, `space <id>`, or the ARIs as given (§3: scope ARIs of Confluence rules)."""
        spaces = [a.rsplit("/", 1)[1] for a in self.scope_aris if ":space/" in a]
        if spaces:
            return "space " + ", ".join(spaces)
        if any("::site/" in a for a in self.scope_aris):
            return "global"
        return ", ".join(self.scope_aris) or "unknown scope"


class RuleShapeError(ValueError):
    """The payload is not a rule as the API returns it (names what is missing)."""


def parse_rule(payload: Any) -> Rule:
    """The rule and its Send web request actions from a `GET …/rule/{uuid}` body; raises RuleShapeError."""
    if not isinstance(payload, Mapping) or not isinstance(payload.get("rule"), Mapping):
        raise RuleShapeError("the answer has no `rule` object")
    rule = payload["rule"]
    actor = rule.get("actor") if isinstance(rule.get("actor"), Mapping) else {}
    actions: list[WebRequestAction] = []
    types: list[str] = []
    for path, component in _walk(rule):
        if isinstance(component.get("type"), str):
            types.append(component["type"])
        action = _web_request(component, path, len(actions) + 1)
        if action is not None:
            actions.append(action)
    return Rule(
        uuid=str(rule.get("uuid") or ""),
        name=str(rule.get("name") or "(unnamed rule)"),
        state=str(rule.get("state") or "?"),
        scope_aris=tuple(str(a) for a in rule.get("ruleScopeARIs") or ()),
        actor_type=actor.get("type"),
        actor_account_id=actor.get("actor") if actor.get("type") == "ACCOUNT_ID" else None,
        author_account_id=rule.get("authorAccountId"),
        actions=tuple(actions),
        component_types=tuple(dict.fromkeys(types)),
    )


def _walk(rule: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    if isinstance(rule.get("trigger"), Mapping):
        yield from _visit(rule["trigger"], "trigger")
    for i, component in enumerate(rule.get("components") or []):
        if isinstance(component, Mapping):
            yield from _visit(component, f"components[{i}]")


def _visit(component: Mapping[str, Any], path: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    yield path, component
    for key in ("conditions", "children"):
        for i, nested in enumerate(component.get(key) or []):
            if isinstance(nested, Mapping):
                yield from _visit(nested, f"{path}.{key}[{i}]")


def _web_request(component: Mapping[str, Any], path: str, index: int) -> WebRequestAction | None:
    value = component.get("value")
    if component.get("component") != "ACTION" or not isinstance(value, Mapping):
        return None
    url, method, headers = value.get("url"), value.get("method"), value.get("headers")
    if not isinstance(url, str) or not isinstance(method, str) or not isinstance(headers, list):
        return None
    parsed = tuple(
        Header(name=str(h.get("name") or ""), value=h.get("value") if isinstance(h.get("value"), str) else None,
               secure=bool(h.get("headerSecure")))
        for h in headers if isinstance(h, Mapping)
    )
    body = value.get("customBody")
    return WebRequestAction(
        index=index, path=path, component_id=_str_or_none(component.get("id")),
        type=_str_or_none(component.get("type")),
        url=url.strip(), method=method.strip().upper(), headers=parsed,
        content_type=_str_or_none(value.get("contentType")), body=body if isinstance(body, str) else None,
        connection_id=_str_or_none(component.get("connectionId")),
        url_secure=value.get("urlSecure") is True,
    )


def _str_or_none(value: Any) -> str | None:
    return str(value) if value is not None else None
