"""`compare ACTOR KNOWN_GOOD`: "account A works and account B does not", laid side by side.

Both accounts are diagnosed at once — two ordinary runs started together (`Checker.compare`), with
the same failing call and space — and the typed facts each run established (`bot.facts`, read from the
run's fact store, never from step summaries) are set against each other per layer: the account's
type and status, its API tokens and the replay answers, its Confluence roles and groups, its
permission in the space in question. A difference *explains* the failure when it lies in the layer
of the failing account's verdict (for a missing space permission, a difference in groups too); those
come first.

Plain data: no Slack, no terminal (rendering is `bot.render.compare`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.causes import CATALOGUE
from bot.facts import (
    ACCESS,
    ACTOR,
    CREDENTIAL,
    GATEWAY_REPLAY,
    GROUPS,
    SITE_REPLAY,
    SPACE,
    TOKENS,
    Access,
    Credential,
    FactKey,
    Groups,
    Identity,
    Observation,
    Space,
    Tokens,
    Unknown,
)
from bot.model import Outcome, Run
from bot.probes.registry import FactStore

SCHEMA = "confluence-check/compare@1"
LAYERS = ("identity", "credential", "product", "content")  # outer first, as the causes are ordered
_LAYER_OF_CAUSE = {cause.code: cause.layer for cause in CATALOGUE}

FactTable = dict[tuple[str, str], str]  # (layer, fact) → the value as shown


@dataclass(frozen=True, slots=True)
class Difference:
    layer: str
    fact: str
    actor: str
    known_good: str
    explains: bool

    def to_dict(self) -> dict[str, Any]:
        return {"layer": self.layer, "fact": self.fact, "actor": self.actor, "known_good": self.known_good,
                "explains": self.explains}


@dataclass
class Comparison:
    actor_run: Run
    good_run: Run
    actor_facts: FactTable = field(default_factory=dict)
    good_facts: FactTable = field(default_factory=dict)
    differences: list[Difference] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "runs": [self.actor_run.to_dict(), self.good_run.to_dict()],
                "differences": [d.to_dict() for d in self.differences]}

    @property
    def rows(self) -> list[tuple[str, str, str, str]]:
        """(layer, fact, actor's value, known-good's value) for every fact either run established, by layer."""
        keys = sorted({*self.actor_facts, *self.good_facts}, key=lambda k: (LAYERS.index(k[0]), k[1]))
        missing = "not checked"
        return [(layer, fact, self.actor_facts.get((layer, fact), missing), self.good_facts.get((layer, fact), missing))
                for layer, fact in keys]


def compare_runs(actor_run: Run, actor_store: FactStore | None, good_run: Run,
                 good_store: FactStore | None) -> Comparison:
    """Two finished runs and their fact stores, compared (the failing account's first)."""
    actor_facts, good_facts = facts_of(actor_store), facts_of(good_store)
    verdict = actor_run.verdict
    failing_layer = (_LAYER_OF_CAUSE.get(verdict.cause) if verdict is not None and actor_run.outcome is Outcome.PROBLEM
                     else None)
    keys = sorted({*actor_facts, *good_facts}, key=lambda k: (LAYERS.index(k[0]), k[1]))
    differences = [Difference(layer, fact, actor_facts.get((layer, fact), "not checked"),
                              good_facts.get((layer, fact), "not checked"),
                              explains=_explains(failing_layer, layer, fact))
                   for layer, fact in keys if actor_facts.get((layer, fact)) != good_facts.get((layer, fact))]
    # what explains first, the failing layer's own facts before the rest; then outer layers first
    differences.sort(key=lambda d: (not d.explains, d.layer != failing_layer, LAYERS.index(d.layer)))
    return Comparison(actor_run, good_run, actor_facts, good_facts, differences)


def _explains(failing_layer: str | None, layer: str, fact: str) -> bool:
    """A difference in the failing verdict's layer explains it; so do groups where a space permission
    is missing (spaces grant through groups as much as to accounts)."""
    return layer == failing_layer or (failing_layer == "content" and (layer, fact) == ("product", "groups"))


def facts_of(store: FactStore | None) -> FactTable:
    """The facts of one run, as (layer, fact) → a short text; a fact that could not be established
    says why ("not established: …"), so two unknowns differ only when their reasons do."""
    if store is None:
        return {}
    table: FactTable = {}
    identity = _get(store, ACTOR)
    if isinstance(identity, Identity):
        table[("identity", "account type")] = identity.account_type.value
        directory = identity.directory
        table[("identity", "account status")] = (
            f"{directory.status or directory.account_status} (account {directory.account_status}, "
            f"membership {directory.membership_status})" if directory is not None
            else f"not in the directory (found in {identity.found_in.value})")
        table[("identity", "managed by the organization")] = identity.claim.value
    elif isinstance(identity, Unknown):
        table[("identity", "account")] = _unknown(identity)
    _put(table, store, ("credential", "API tokens"), TOKENS, _tokens)
    _put(table, store, ("credential", "credential accepted at"), CREDENTIAL,
         lambda c: c.accepted_at.value if isinstance(c, Credential) else "?")
    _put(table, store, ("credential", "replay at the site URL"), SITE_REPLAY, _replay)
    _put(table, store, ("credential", "replay at the gateway"), GATEWAY_REPLAY, _replay)
    _put(table, store, ("product", "Confluence roles"), ACCESS, lambda a: a.roles if isinstance(a, Access) else "?")
    _put(table, store, ("product", "groups"), GROUPS, _groups)
    space = _get(store, SPACE)
    if isinstance(space, Space):
        table[("content", f"permission in space {space.key}")] = (
            space.access.value if space.access is not None else "could not be judged")
    elif isinstance(space, Unknown):
        table[("content", "space permission")] = _unknown(space)
    return table


def _get(store: FactStore, key: FactKey[Any]) -> Any:
    return store.peek(key)


def _put(table: FactTable, store: FactStore, where: tuple[str, str], key: FactKey[Any], show: Any) -> None:
    value = _get(store, key)
    if isinstance(value, Unknown):
        table[where] = _unknown(value)
    elif value is not None:
        table[where] = show(value)


_FAILED = re.compile(r"^'.*?' ended (?:fail|warn): (?P<said>.+)$", re.S)
_NOT_RUN = re.compile(r"^'.*?' did not run \((?P<why>.+)\)$", re.S)


def _unknown(value: Unknown) -> str:
    """What a run could not establish: what its check found instead, or why it did not run."""
    failed, not_run = _FAILED.match(value.reason), _NOT_RUN.match(value.reason)
    if failed is not None:
        return failed["said"]
    if not_run is not None:
        return f"not checked ({not_run['why']})"
    return f"not established ({value.reason})"


def _tokens(tokens: Any) -> str:
    if not isinstance(tokens, Tokens):
        return "?"
    return f"{tokens.valid} valid" + (", none ever used" if tokens.never_used else "")


def _replay(observation: Any) -> str:
    if not isinstance(observation, Observation):
        return "?"
    return f"{observation.status} {observation.label}"


def _groups(groups: Any) -> str:
    if not isinstance(groups, Groups):
        return "?"
    names = ", ".join(sorted(groups.names)) or "none"
    return names if groups.complete else f"{names} (list cut short)"
