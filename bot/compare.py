"""`compare ACTOR KNOWN_GOOD`: "account A works and account B does not", laid side by side.

Both accounts are diagnosed at once — two ordinary runs started together (`Checker.compare`), with
the same failing call and space — and what each run's probes observed (the typed observations the judge
reads, `bot.observations`, and the run's typed facts; never step summaries) is set against each other
per layer: the account's type and status, its API tokens and the replay answers, its Confluence roles
and groups, its permission in the space in question. A difference *explains* the failure when it lies in the layer
of the failing account's verdict (for a missing space permission, a difference in groups too); those
come first.

Plain data: no Slack, no terminal (rendering is `bot.render.compare`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.causes import CATALOGUE
from bot.facts import GROUPS, Groups
from bot.model import Observation, Outcome, Run
from bot.observations import (
    AccessByEmail,
    AccountKind,
    AccountLookup,
    AccountStatus,
    ReplayAnswer,
    RoleList,
    SpaceGrant,
    TokenList,
    Where,
)
from bot.probes.registry import FactStore

SCHEMA = "confluence-check/compare@1"
LAYERS = ("identity", "credential", "product", "content")  # outer first, as the causes are ordered
_LAYER_OF_CAUSE = {cause.code: cause.layer for cause in CATALOGUE}

FactTable = dict[tuple[str, str], str]  # (layer, fact) → the value as shown
NOT_CHECKED = "not checked"


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
        return [(layer, fact, self.actor_facts.get((layer, fact), NOT_CHECKED),
                 self.good_facts.get((layer, fact), NOT_CHECKED)) for layer, fact in keys]


def compare_runs(actor_run: Run, actor_store: FactStore | None, good_run: Run,
                 good_store: FactStore | None) -> Comparison:
    """Two finished runs and their fact stores, compared (the failing account's first)."""
    actor_facts, good_facts = facts_of(actor_run, actor_store), facts_of(good_run, good_store)
    verdict = actor_run.verdict
    failing_layer = (_LAYER_OF_CAUSE.get(verdict.cause) if verdict is not None and actor_run.outcome is Outcome.PROBLEM
                     else None)
    keys = sorted({*actor_facts, *good_facts}, key=lambda k: (LAYERS.index(k[0]), k[1]))
    differences = []
    for layer, fact in keys:
        mine, theirs = actor_facts.get((layer, fact)), good_facts.get((layer, fact))
        if mine == theirs:
            continue
        # a fact one side could not establish is missing evidence: shown, never what explains
        known = mine is not None and theirs is not None
        differences.append(Difference(layer, fact, mine or NOT_CHECKED, theirs or NOT_CHECKED,
                                      explains=known and _explains(failing_layer, layer, fact)))
    # what explains first, the failing layer's own facts before the rest; then outer layers first
    differences.sort(key=lambda d: (not d.explains, d.layer != failing_layer, LAYERS.index(d.layer)))
    return Comparison(actor_run, good_run, actor_facts, good_facts, differences)


def _explains(failing_layer: str | None, layer: str, fact: str) -> bool:
    """A difference in the failing verdict's layer explains it; so do groups where a space permission
    is missing (spaces grant through groups as much as to accounts)."""
    return layer == failing_layer or (failing_layer == "content" and (layer, fact) == ("product", "groups"))


def facts_of(run: Run, store: FactStore | None) -> FactTable:
    """The facts of one run, as (layer, fact) → a short text: what its probes observed (the typed
    observations the judge reads, `bot.observations`), and its groups (a typed fact). Values that
    differ between any two accounts (a last use, a name) are left out: they would differ without
    explaining anything. A probe that did not run, or whose answer was lost, observed nothing: its
    fact is "not checked"."""
    table: FactTable = {}
    for step in run.steps:
        for seen in step.observations:
            for where, value in _shown(seen):
                table.setdefault(where, value)
    if store is not None:
        groups = store.peek(GROUPS)
        if isinstance(groups, Groups):
            names = ", ".join(sorted(groups.names)) or "none"
            table[("product", "groups")] = names if groups.complete else f"{names} (list cut short)"
    return table


def _shown(seen: Observation) -> list[tuple[tuple[str, str], str]]:
    if isinstance(seen, AccountLookup):
        return [(("identity", "account found"), f"in {seen.where.value}" if seen.found else "not found")]
    if isinstance(seen, AccountKind):
        return [(("identity", "account type"), seen.kind.value),
                (("identity", "managed by the organization"), seen.claim.value)]
    if isinstance(seen, AccountStatus) and not seen.rule_actor:
        return [(("identity", "account status"), f"{seen.state.value} ({seen.seen})")]
    if isinstance(seen, TokenList):
        return [(("credential", "API tokens"),
                 f"{seen.live} valid of {seen.total}" + (", none ever used" if seen.never_used else ""))]
    if isinstance(seen, ReplayAnswer) and seen.where is not Where.NOWHERE:
        said = seen.answer.value if seen.kind is None else f"{seen.answer.value}: {seen.kind.value}"
        return [(("credential", f"replay at the {seen.where.value}"), f"{seen.status} {said}")]
    if isinstance(seen, RoleList):
        roles = seen.roles or ("atlassian/guest only" if seen.guest else "none")
        return [(("product", "Confluence roles"), roles if seen.complete else f"{roles} (list cut short)")]
    if isinstance(seen, AccessByEmail):
        return [(("product", "Confluence access (by email)"), "yes" if seen.has_access else "no")]
    if isinstance(seen, SpaceGrant):
        value = "granted" if not seen.missing else "missing: " + ", ".join(seen.missing)
        return [(("content", f"permission in space {seen.space}"), value + (" (not proven)" if seen.doubts else ""))]
    return []
