"""The probe graph as data: who waits for whom, printable (docs/architecture.md §Layers)."""

from __future__ import annotations

from collections.abc import Iterable

from bot.facts import ACTOR_EMAIL
from bot.probes.registry import REGISTRY, ProbeSpec

# Facts the input may already establish (engine `_seed`): then nobody waits for their provider.
FROM_INPUT = {ACTOR_EMAIL.name: "given as email:token or as the actor"}


def providers(specs: Iterable[ProbeSpec]) -> dict[str, str]:
    """fact name → id of the probe that provides it."""
    return {key.name: spec.id for spec in specs for key in spec.provides}


def waits(spec: ProbeSpec, by_fact: dict[str, str]) -> tuple[list[str], list[str]]:
    """(probes whose facts it builds its requests from, probes whose facts it only judges with)."""
    build = list(dict.fromkeys(by_fact.get(k.name, "input") for k in spec.build))
    judge = list(dict.fromkeys(by_fact.get(k.name, "input") for k in spec.judge))
    return build, judge


def build_depth(specs: Iterable[ProbeSpec]) -> dict[str, int]:
    """How many probes deep each probe's requests sit on the build edges alone (1: starts at once)."""
    listed = list(specs)
    by_fact, depth = providers(listed), dict[str, int]()
    for spec in listed:  # declared order is a valid order (the registry checks it)
        build, _ = waits(spec, by_fact)
        depth[spec.id] = 1 + max((depth.get(p, 0) for p in build), default=0)
    return depth


def describe(specs: Iterable[ProbeSpec] | None = None) -> str:
    """One line per probe: what it builds its requests from, what it judges with, what it provides."""
    listed = list(specs if specs is not None else REGISTRY.values())
    by_fact, depth = providers(listed), build_depth(listed)
    width = max(len(s.id) for s in listed)
    lines = []
    for spec in listed:
        build = ", ".join(f"{k.name}<-{by_fact.get(k.name, 'input')}{'|input' if k.name in FROM_INPUT else ''}"
                          for k in spec.build) or "-"
        judge = ", ".join(f"{k.name}<-{by_fact.get(k.name, 'input')}" for k in spec.judge) or "-"
        gives = ", ".join(k.name for k in spec.provides) or "-"
        needs = ",".join(sorted(n.value for n in spec.needs)) or "-"
        lines.append(f"{spec.id:<{width}}  depth {depth[spec.id]}  needs {needs:<24} builds on {build:<40} "
                     f"judges with {judge:<60} provides {gives}".rstrip())
    return "\n".join(lines)


if __name__ == "__main__":  # python -m bot.probes.graph
    import bot.probes  # noqa: F401  (registers every probe)

    print(describe())
