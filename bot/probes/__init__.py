"""The probe chain: one module per layer, registered in the order the run shows them.

`LAYERS` is the declared order: outer layers first (CAUSES.md), and every probe after the
probes it depends on. (An explicit list, so no import sorter can reorder the chain.)
"""

import importlib

from bot.probes.registry import NEED_REASON, NOT_NEEDED, REGISTRY, Need, ProbeContext, ProbeSpec, has_need, probe

LAYERS = ("site", "platform", "inspector", "report", "identity", "credential", "replay", "policy", "product",
          "content")
for _layer in LAYERS:
    importlib.import_module(f"bot.probes.{_layer}")

__all__ = ["LAYERS", "NEED_REASON", "NOT_NEEDED", "REGISTRY", "Need", "ProbeContext", "ProbeSpec", "has_need", "probe"]
