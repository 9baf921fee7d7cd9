"""A stateful fake of Atlassian Cloud (site, gateway, admin APIs, status page) served over HTTP
on loopback, driven by scenario files; used by tests, `demo` and `simulate`.
"""

from bot.simulator.runtime import LoggedRequest
from bot.simulator.scenario import (
    Scenario,
    ScenarioError,
    UnknownScenario,
    list_field_scenarios,
    list_scenarios,
    load_scenario,
)
from bot.simulator.server import SimulatorServer, serve_forever
from bot.simulator.state import World

__all__ = [
    "LoggedRequest",
    "Scenario",
    "ScenarioError",
    "SimulatorServer",
    "UnknownScenario",
    "World",
    "list_field_scenarios",
    "list_scenarios",
    "load_scenario",
    "serve_forever",
]
