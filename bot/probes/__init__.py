"""The probe chain: one module per layer, registered in the order the run shows them.

`LAYERS` is the declared order: outer layers first (docs/causes.md), and every probe after the
probes whose facts it reads. (An explicit list, so no import sorter can reorder the chain.)
A new probe: `@probe(id, title=..., needs=..., build=(KEYS...), judge=(...), provides=(...))`
in a layer module (see `bot.probes.registry`; typed facts are in `bot.facts`).
"""

import importlib

from bot.needs import NEED_REASON, Need
from bot.probes.registry import (
    NOT_NEEDED,
    REGISTRY,
    FactMissing,
    FactStore,
    ProbeContext,
    ProbeSpec,
    has_need,
    probe,
)

LAYERS = ("site", "platform", "inspector", "report", "identity", "credential", "replay", "oauth", "policy",
          "product", "content")
for _layer in LAYERS:
    importlib.import_module(f"bot.probes.{_layer}")

__all__ = ["LAYERS", "NEED_REASON", "NOT_NEEDED", "REGISTRY", "FactMissing", "FactStore", "Need", "ProbeContext",
           "ProbeSpec", "has_need", "probe"]
