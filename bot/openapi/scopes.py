"""Which OAuth 2.0 scopes a Confluence operation accepts, read from Atlassian's OpenAPI files.

Each operation lists them twice (see `confluence-v1.swagger.v3.json`, e.g. `GET /wiki/rest/api/search`):
`security` names one `oAuthDefinitions` scope set, and `x-atlassian-oauth2-scopes` lists every scope
set the gateway accepts, each with a `state` (Current, Beta). A credential passes when it holds every
scope of one set. Classic scopes (`read:confluence-user`, `search:confluence`) and granular ones
(`read:page:confluence`: verb, object, product) are separate grants; neither implies the other
(docs/atlassian.md §1.6). A path the files do not describe (a removed v1 route) has no entry: None.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlsplit

from bot.openapi import Api, path_of

_GATEWAY = re.compile(r"^/ex/confluence/[^/]+(?=/)")
_METHODS = ("get", "post", "put", "patch", "delete", "head")


def is_granular(scope: str) -> bool:
    """`read:page:confluence` (verb, object, product) is granular; `read:confluence-user` is classic."""
    return scope.count(":") == 2


@dataclass(frozen=True)
class OperationScopes:
    method: str
    template: str  # the full path, e.g. /wiki/api/v2/pages/{id}
    alternatives: tuple[frozenset[str], ...]  # each set suffices on its own

    @property
    def classic(self) -> tuple[frozenset[str], ...]:
        return tuple(s for s in self.alternatives if not any(is_granular(x) for x in s))

    @property
    def granular(self) -> tuple[frozenset[str], ...]:
        return tuple(s for s in self.alternatives if any(is_granular(x) for x in s))

    def allows(self, held: Iterable[str]) -> bool:
        have = set(held)
        return not self.alternatives or any(option <= have for option in self.alternatives)

    def missing(self, held: Iterable[str]) -> tuple[str, ...]:
        """The scopes to add for the set that needs the fewest (empty when one is already held)."""
        have = set(held)
        if not self.alternatives:
            return ()
        best = min(self.alternatives, key=lambda option: (len(option - have), sorted(option)))
        return tuple(sorted(best - have))

    def describe(self) -> str:
        """One line for a fix: which classic and which granular scope sets the operation accepts."""
        def sets(options: tuple[frozenset[str], ...]) -> str:
            return " or ".join(" + ".join(sorted(o)) for o in options) or "none"
        return (f"{self.method} {self.template} accepts classic scopes: {sets(self.classic)}; "
                f"granular scopes: {sets(self.granular)}")


@dataclass(frozen=True)
class _Entry:
    pattern: re.Pattern[str]
    scopes: OperationScopes


def _alternatives(operation: dict[str, object]) -> tuple[frozenset[str], ...]:
    found: list[frozenset[str]] = []
    for entry in operation.get("x-atlassian-oauth2-scopes") or []:  # type: ignore[attr-defined]
        if isinstance(entry, dict) and isinstance(entry.get("scopes"), list) and entry["scopes"]:
            found.append(frozenset(str(s) for s in entry["scopes"]))
    for requirement in operation.get("security") or []:  # type: ignore[attr-defined]
        if isinstance(requirement, dict) and requirement.get("oAuthDefinitions"):
            found.append(frozenset(str(s) for s in requirement["oAuthDefinitions"]))
    return tuple(dict.fromkeys(found))


@cache
def _entries() -> tuple[_Entry, ...]:
    entries: list[_Entry] = []
    for api in (Api.CONFLUENCE_V1, Api.CONFLUENCE_V2):
        document = json.loads(path_of(api).read_text(encoding="utf-8"))
        prefix = urlsplit(document["servers"][0]["url"]).path.rstrip("/")
        for template, item in document["paths"].items():
            full = prefix + template
            pattern = re.compile("^" + re.sub(r"\\\{[^/{}]+\\\}", "[^/]+", re.escape(full)) + "$")
            for method in _METHODS:
                if isinstance(item.get(method), dict):
                    scopes = OperationScopes(method.upper(), full, _alternatives(item[method]))
                    entries.append(_Entry(pattern, scopes))
    entries.sort(key=lambda e: e.scopes.template.count("{"))  # /user/current before /user/{id}
    return tuple(entries)


def scopes_for(method: str, path: str) -> OperationScopes | None:
    """The scopes of the operation `METHOD path` addresses (a gateway prefix is stripped), or None
    when the OpenAPI files describe no such operation or list no scope for it."""
    wanted = "GET" if method.upper() == "HEAD" else method.upper()
    bare = _GATEWAY.sub("", urlsplit(path).path)
    for entry in _entries():
        if entry.scopes.method == wanted and entry.pattern.match(bare):
            return entry.scopes if entry.scopes.alternatives else None
    return None
