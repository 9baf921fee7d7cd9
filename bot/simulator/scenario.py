"""Scenario files: loading, strict validation and the bundled catalogue.

A scenario is one JSON file (`scenarios/<name>.json`): the world the simulator serves, the bot's
own settings, the user's input and the expected verdict. Unknown keys anywhere are an error
naming the key and the file, so a typo never silently changes a world.
"""

from __future__ import annotations

import copy
import dataclasses
import ipaddress
import json
import types
from dataclasses import dataclass
from enum import Enum
from importlib import resources
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from bot.model import CauseCode, Confidence, Outcome, outcome_of
from bot.simulator.fault_model import FaultKind
from bot.simulator.state import World, parse_time

SETTING_KEYS = ("ATLASSIAN_EMAIL", "ATLASSIAN_API_TOKEN", "ATLASSIAN_ORG_API_KEY", "ATLASSIAN_ORG_ID")
INPUT_KEYS = {"actor": str, "endpoint": str, "status": int, "body": str, "space": str, "actor_token": str,
              "rule": str,  # rule: what `confluence-check rule` is given (a UUID, URL or name); then no actor
              "client_credentials": str,  # CLIENT_ID:CLIENT_SECRET, for --client-credentials-stdin
              "sent_as": str}  # how the caller sends the token (basic, bearer, none), for --sent-as
EXPECT_KEYS = ("cause", "confidence", "outcome", "exit")
USAGE_EXPECT_KEYS = ("exit", "error")  # a scenario whose command must refuse: exit 64, stderr holds `error`
_TOP_REQUIRED = ("name", "title", "description", "world", "input", "expect")
_TOP_OPTIONAL = ("tour", "settings", "story")
# story: where a field scenario comes from (a public report) and what it quoted, kept verbatim.
STORY_KEYS = ("source", "date", "reported", "resolution", "modelled")
REPORTED_KEYS = {"status": int, "body": str, "line": str}
FIELD = "field"  # scenarios/field/: scenarios rebuilt from public reports; not part of the bundled catalogue
_EXIT = {Outcome.OK: 0, Outcome.PROBLEM: 1, Outcome.INCONCLUSIVE: 2}  # docs/architecture.md §Command line


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message names the file and the key."""


class UnknownScenario(ScenarioError, KeyError):
    """No bundled scenario has that name (also a KeyError, for callers that look names up)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    description: str
    tour: bool
    world: World  # the template; SimulatorServer serves a deep copy
    settings: dict[str, str]
    input: dict[str, Any]
    expect: dict[str, Any]
    source: str  # file the scenario came from, for messages
    story: dict[str, Any] | None = None  # field scenarios: the public report, quoted verbatim


def secret_line(given: dict[str, Any]) -> str:
    """What the scenario's user pipes to standard input: the actor's token or the client credentials."""
    return str(given.get("actor_token") or given.get("client_credentials") or "")


def secret_flag(given: dict[str, Any]) -> str | None:
    """The `check` option that reads `secret_line(given)`, if any."""
    if given.get("actor_token"):
        return "--actor-token-stdin"
    return "--client-credentials-stdin" if given.get("client_credentials") else None


def scenarios_dir() -> Path:
    return Path(str(resources.files("bot.simulator").joinpath("scenarios")))


def list_scenarios() -> list[Scenario]:
    """Every bundled scenario, sorted by name; raises ScenarioError for a broken file. The field
    corpus (`list_field_scenarios`) is not among them: it is an exam, not a demo."""
    return [load_scenario(p) for p in sorted(scenarios_dir().glob("*.json"))]


def list_field_scenarios() -> list[Scenario]:
    """Every field scenario (scenarios/field/*.json, each rebuilt from a public report), sorted."""
    return [load_scenario(p) for p in sorted((scenarios_dir() / FIELD).glob("*.json"))]


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A bundled scenario by name (`field/<name>` for the field corpus), or any scenario file by
    path; raises ScenarioError."""
    path = Path(name_or_path)
    if isinstance(name_or_path, str) and path.suffix != ".json" and len(path.parts) == 2 and path.parts[0] == FIELD:
        path = scenarios_dir() / f"{name_or_path}.json"
        if not path.is_file():
            raise UnknownScenario(f"unknown field scenario {name_or_path!r}")
    elif not (isinstance(name_or_path, Path) or path.suffix == ".json" or len(path.parts) > 1):
        path = scenarios_dir() / f"{name_or_path}.json"
        if not path.is_file():
            known = ", ".join(sorted(p.stem for p in scenarios_dir().glob("*.json")))
            raise UnknownScenario(f"unknown scenario {name_or_path!r}; bundled: {known}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot read scenario: {exc}") from None
    return scenario_from_dict(data, source=str(path), stem=path.stem)


def scenario_from_dict(data: Any, source: str = "<dict>", stem: str | None = None) -> Scenario:
    """Validate and build a Scenario; raises ScenarioError naming `source` and the key."""
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: a scenario must be a JSON object")
    _check_keys(data, _TOP_REQUIRED, _TOP_OPTIONAL, "the top level", source)
    for key in ("name", "title", "description"):
        _expect_type(data[key], str, key, source)
    if stem is not None and data["name"] != stem:
        raise ScenarioError(f"{source}: name {data['name']!r} must equal the file name {stem!r}")
    world = build(World, data["world"], "world", source)
    check_world(world, source)
    _anchor_times(world)
    return Scenario(
        name=data["name"], title=data["title"], description=data["description"],
        tour=_expect_type(data.get("tour", False), bool, "tour", source),
        world=world,
        settings=_settings(data.get("settings", {}), source),
        input=_input(data["input"], source),
        expect=_expect(data["expect"], source),
        source=source,
        story=_story(data["story"], source) if "story" in data else None,
    )


# -- sections -----------------------------------------------------------------------------------

def _check_keys(data: dict[str, Any], required: tuple[str, ...], optional: tuple[str, ...], where: str,
                source: str) -> None:
    for key in data:
        if key not in required and key not in optional:
            raise ScenarioError(f"{source}: unknown key {key!r} in {where}")
    for key in required:
        if key not in data:
            raise ScenarioError(f"{source}: missing key {key!r} in {where}")


def _expect_type(value: Any, kind: type | tuple[type, ...], where: str, source: str) -> Any:
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        name = kind.__name__ if isinstance(kind, type) else "a number"
        raise ScenarioError(f"{source}: {where} must be {name}, got {type(value).__name__}")
    return value


def _settings(data: Any, source: str) -> dict[str, str]:
    _expect_type(data, dict, "settings", source)
    _check_keys(data, (), SETTING_KEYS, "settings", source)
    return {k: _expect_type(v, str, f"settings.{k}", source) for k, v in data.items()}


def _story(data: Any, source: str) -> dict[str, Any]:
    _expect_type(data, dict, "story", source)
    _check_keys(data, STORY_KEYS, (), "story", source)
    for key in STORY_KEYS:
        if key != "reported":
            _expect_type(data[key], str, f"story.{key}", source)
    reported = _expect_type(data["reported"], dict, "story.reported", source)
    _check_keys(reported, tuple(REPORTED_KEYS), (), "story.reported", source)
    for key, kind in REPORTED_KEYS.items():
        if reported[key] is not None or key == "line":
            _expect_type(reported[key], kind, f"story.reported.{key}", source)
    return copy.deepcopy(data)


def _input(data: Any, source: str) -> dict[str, Any]:
    _expect_type(data, dict, "input", source)
    if data.get("actor_token") and data.get("client_credentials"):
        raise ScenarioError(f"{source}: input: give actor_token or client_credentials, not both")
    required = () if "rule" in data else ("actor",)
    _check_keys(data, required, tuple(k for k in INPUT_KEYS if k not in required), "input", source)
    for key, value in data.items():
        if value is not None or key in required:
            _expect_type(value, INPUT_KEYS[key], f"input.{key}", source)
    return dict(data)


def _expect(data: Any, source: str) -> dict[str, Any]:
    _expect_type(data, dict, "expect", source)
    if data.get("exit") == 64:
        _check_keys(data, USAGE_EXPECT_KEYS, (), "expect", source)
        _expect_type(data["error"], str, "expect.error", source)
        return dict(data)
    _check_keys(data, EXPECT_KEYS, (), "expect", source)
    try:
        cause, outcome = CauseCode(data["cause"]), Outcome(data["outcome"])
        Confidence(data["confidence"])
    except ValueError as exc:
        raise ScenarioError(f"{source}: expect: {exc}") from None
    wanted = outcome_of(cause)
    if outcome is not wanted or data["exit"] != _EXIT[wanted]:
        raise ScenarioError(f"{source}: expect: cause {cause.value} means outcome {wanted.value}, exit {_EXIT[wanted]}")
    return dict(data)


# -- the world: generic strict builder over the state dataclasses ------------------------------

def build(cls: Any, value: Any, where: str, source: str) -> Any:
    """Build `cls` (a dataclass, list, Literal, optional or primitive type) from JSON data,
    rejecting unknown keys and wrong types; raises ScenarioError."""
    origin = get_origin(cls)
    if dataclasses.is_dataclass(cls):
        return _build_dataclass(cls, value, where, source)
    if origin in (Union, types.UnionType):
        options = [a for a in get_args(cls) if a is not type(None)]
        return None if value is None and len(options) < len(get_args(cls)) else build(options[0], value, where, source)
    if origin is list:
        _expect_type(value, list, where, source)
        (item,) = get_args(cls)
        return [build(item, v, f"{where}[{i}]", source) for i, v in enumerate(value)]
    if isinstance(cls, type) and issubclass(cls, Enum):
        try:
            return cls(value)
        except ValueError:
            choices = ", ".join(repr(m.value) for m in cls)
            raise ScenarioError(f"{source}: {where} is {value!r}; expected one of {choices}") from None
    if origin is Literal:
        if value not in get_args(cls):
            choices = ", ".join(repr(a) for a in get_args(cls))
            raise ScenarioError(f"{source}: {where} is {value!r}; expected one of {choices}")
        return value
    if cls is dict or origin is dict:  # opaque JSON (automation rules): kept as given
        return copy.deepcopy(_expect_type(value, dict, where, source))
    if cls in (str, int, bool):
        return _expect_type(value, cls, where, source)
    if cls is float:  # a JSON number, whole or not
        return float(_expect_type(value, (int, float), where, source))
    raise TypeError(f"scenario builder cannot handle {cls!r} at {where}")


def _build_dataclass(cls: Any, value: Any, where: str, source: str) -> Any:
    _expect_type(value, dict, where, source)
    hints = get_type_hints(cls)
    known = {f.name: f for f in dataclasses.fields(cls) if f.init}
    for key in value:
        if key not in known:
            raise ScenarioError(f"{source}: unknown key {key!r} in {where}")
    kwargs = {}
    for name, spec in known.items():
        if name in value:
            kwargs[name] = build(hints[name], value[name], f"{where}.{name}", source)
        elif spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
            raise ScenarioError(f"{source}: missing key {name!r} in {where}")
    return cls(**kwargs)


def check_world(world: World, source: str) -> None:
    """Cross-references the types cannot express; raises ScenarioError."""
    def fail(message: str) -> None:
        raise ScenarioError(f"{source}: world: {message}")

    seen_ids, seen_emails, secrets = set(), set(), set(world.org.api_keys)
    for user in world.users:
        if user.account_id in seen_ids or user.email.casefold() in seen_emails:
            fail(f"duplicate account {user.account_id} / {user.email}")
        seen_ids.add(user.account_id)
        seen_emails.add(user.email.casefold())
        for group in user.groups:
            if world.group(group) is None:
                fail(f"user {user.email} is in unknown group {group!r}")
        for token in user.tokens:
            if token.value in secrets:
                fail(f"token {token.id} reuses a secret held elsewhere")
            secrets.add(token.value)
            if user.account_type == "app" and token.kind != "scoped":
                fail(f"service account {user.email} holds a classic token; they only hold scoped ones "
                     "(docs/atlassian.md §1.7)")
            for stamp in (token.created_at, token.expiry, token.last_access):
                _check_time(stamp, f"token {token.id}", fail)
    _check_content(world, seen_ids, fail)
    _check_faults(world, fail)
    for policy in world.policies:
        for cidr in policy.cidrs:
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError:
                fail(f"policy {policy.id} has a bad CIDR {cidr!r}")


def _check_faults(world: World, fail: Any) -> None:
    for index, fault in enumerate(world.faults.routes):
        where = f"faults.routes[{index}]"
        if fault.nth < 1 or (fault.count is not None and fault.count < 1):
            fail(f"{where}: nth and count start at 1 (count null = always)")
        if fault.path is not None and not fault.path.startswith("/"):
            fail(f"{where}: path {fault.path!r} must start with /")
        if fault.kind is FaultKind.STATUS and fault.status != 429 and not 500 <= fault.status <= 599:
            fail(f"{where}: status {fault.status} is not an injectable fault (429 or 5xx)")
        if min(fault.delay_ms, fault.retry_after or 0, fault.rate_limit_reset or 0) < 0:
            fail(f"{where}: delays and resets cannot be negative")


def _anchor_times(world: World) -> None:
    """Relative token times (`now-20d`) fixed at loading, so every answer gives the same instant."""
    for user in world.users:
        for token in user.tokens:
            for name in ("created_at", "expiry", "last_access"):
                stamp = getattr(token, name)
                if stamp is not None and stamp.startswith("now"):
                    setattr(token, name, parse_time(stamp).isoformat())


def _check_time(stamp: str | None, where: str, fail: Any) -> None:
    if stamp is None:
        return
    try:
        parse_time(stamp)
    except ValueError:
        fail(f"{where} has a bad time {stamp!r}")


def _check_content(world: World, account_ids: set[str], fail: Any) -> None:
    for space in world.spaces:
        for assignment in space.role_assignments:
            unknown_user = assignment.principal_type == "USER" and assignment.principal_id not in account_ids
            if unknown_user or (assignment.principal_type == "GROUP" and world.group(assignment.principal_id) is None):
                fail(f"space {space.key} assigns role {assignment.role_id} to unknown "
                     f"{assignment.principal_type.lower()} {assignment.principal_id!r}")
        for perm in space.permissions:
            who = perm.principal
            unknown_user = who.type == "user" and who.id not in account_ids
            if unknown_user or (who.type == "group" and world.group(who.id) is None):
                fail(f"space {space.key} grants {perm.operation} to unknown {who.type} {who.id!r}")
    for page in world.pages:
        if world.space_by_key(page.space_key) is None:
            fail(f"page {page.id} is in unknown space {page.space_key!r}")
        for account_id in page.restricted_to or []:
            if account_id not in account_ids:
                fail(f"page {page.id} is restricted to unknown account {account_id!r}")
