"""Fixtures for the simulator tests: a small world that holds one account per case, a factory
that serves it (or a bundled scenario) on loopback, an httpx client and header builders."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from bot.simulator import SimulatorServer
from bot.simulator.scenario import scenario_from_dict

CLOUD_ID = "0f8e2d6c-3b1a-4e59-8d7c-6b5a4f3e2d10"
ORG_ID = "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
ORG_KEY = "ATCTT3xFfGN0-sim-test-orgkey"
ACTOR_PASSWORD = "sim-test-password-not-a-token"
SECRETS = {
    "inspector": "ATATT3xFfGF0-sim-test-inspector",
    "actor": "ATATT3xFfGF0-sim-test-actor",
    "actor_scoped": "ATATT3xFfGF0-sim-test-actor-scoped",
    "actor_classic_scopes": "ATATT3xFfGF0-sim-test-actor-classic-scopes",
    "actor_expired": "ATATT3xFfGF0-sim-test-actor-expired",
    "actor_revoked": "ATATT3xFfGF0-sim-test-actor-revoked",
    "nolicense": "ATATT3xFfGF0-sim-test-nolicense",
    "guest": "ATATT3xFfGF0-sim-test-guest",
    "external": "ATATT3xFfGF0-sim-test-external",
    "service": "ATATT3xFfGF0-sim-test-service",
    "inactive": "ATATT3xFfGF0-sim-test-inactive",
    "suspended": "ATATT3xFfGF0-sim-test-suspended",
}
ACCOUNT = {name: f"557058:00000000-0000-4000-8000-0000000000{i:02d}" for i, name in enumerate(
    ("inspector", "actor", "nolicense", "guest", "external", "service", "inactive", "suspended"))}


def _token(key: str, kind: str = "classic", scopes: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    return {"id": f"tok-{key}", "label": key, "value": SECRETS[key], "kind": kind, "scopes": scopes or [],
            "created_at": "2026-05-01T09:00:00Z", "expiry": "2027-06-30", "last_access": None, **extra}


def _user(name: str, email: str, tokens: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"account_id": ACCOUNT[name], "email": email, "name": name.title(), "tokens": tokens, **extra}


def _perm(kind: str, who: str, *ops: str) -> list[dict[str, Any]]:
    return [{"principal": {"type": kind, "id": who}, "operation": op} for op in ops]


def base_scenario() -> dict[str, Any]:
    """One account per case the site and gateway must tell apart."""
    users = [
        _user("inspector", "inspector@acme.com", [_token("inspector")], groups=["confluence-admins"],
              platform_roles=["atlassian/site-admin"]),
        _user("actor", "actor@acme.com", [
            _token("actor"),
            _token("actor_scoped", "scoped", ["read:confluence-user", "read:space:confluence"]),
            _token("actor_classic_scopes", "scoped", ["read:confluence-user", "read:confluence-space.summary"]),
            _token("actor_expired", expiry="2026-01-31", last_access="2026-01-30T10:00:00Z"),
            _token("actor_revoked", revoked=True),
        ], groups=["confluence-users"], password=ACTOR_PASSWORD),
        _user("nolicense", "nolicense@acme.com", [_token("nolicense")], groups=["jira-users"]),
        _user("guest", "guest@freelance.example", [_token("guest")], roles=["atlassian/guest"],
              claim_status="unmanaged"),
        _user("external", "external@partner.example", [_token("external")], groups=["confluence-users"],
              claim_status="unmanaged"),
        _user("service", "svc-test@serviceaccount.atlassian.com",
              [_token("service", "scoped", ["read:confluence-user", "read:space:confluence"])],
              account_type="app", roles=["atlassian/user"]),
        _user("inactive", "gone@acme.com", [_token("inactive")], groups=["confluence-users"],
              account_status="inactive"),
        _user("suspended", "paused@acme.com", [_token("suspended")], groups=["confluence-users"],
              membership_status="suspended"),
    ]
    world = {
        "site": {"name": "acme", "cloud_id": CLOUD_ID},
        "org": {"id": ORG_ID, "name": "Acme", "api_keys": [ORG_KEY]},
        "users": users,
        "groups": [
            {"id": "g-users", "name": "confluence-users", "roles": ["atlassian/user"]},
            {"id": "g-admins", "name": "confluence-admins", "roles": ["atlassian/admin"]},
            {"id": "g-jira", "name": "jira-users", "roles": []},
        ],
        "spaces": [
            {"id": "1001", "key": "DOCS", "name": "Docs",
             "permissions": _perm("group", "confluence-users", "read", "create")
             + _perm("group", "confluence-admins", "read", "create", "administer")},
            {"id": "1002", "key": "ENG", "name": "Engineering",
             "permissions": _perm("group", "confluence-admins", "read", "administer")},
            {"id": "1003", "key": "PARTNER", "name": "Partner",
             "permissions": _perm("user", ACCOUNT["guest"], "read") + _perm("group", "g-admins", "read")},
        ],
        "pages": [
            {"id": "2001", "space_key": "DOCS", "title": "Handbook"},
            {"id": "2002", "space_key": "ENG", "title": "Design"},
            {"id": "2003", "space_key": "DOCS", "title": "Secret", "restricted_to": [ACCOUNT["inspector"]]},
        ],
    }
    return {
        "name": "unit", "title": "Unit world", "description": "Accounts for the simulator's own tests.",
        "world": world,
        "settings": {"ATLASSIAN_EMAIL": "inspector@acme.com", "ATLASSIAN_API_TOKEN": SECRETS["inspector"],
                     "ATLASSIAN_ORG_API_KEY": ORG_KEY},
        "input": {"actor": "actor@acme.com", "endpoint": "GET {site}/wiki/rest/api/space", "status": 403,
                  "body": '{"x":{"y":1}} at {gateway} via {api}'},
        "expect": {"cause": "credential_rejected", "confidence": "likely", "outcome": "problem", "exit": 1},
    }


EMAIL = {"inspector": "inspector@acme.com", "actor": "actor@acme.com", "nolicense": "nolicense@acme.com",
         "guest": "guest@freelance.example", "external": "external@partner.example",
         "service": "svc-test@serviceaccount.atlassian.com", "inactive": "gone@acme.com",
         "suspended": "paused@acme.com"}


@dataclass(frozen=True)
class Creds:
    """Header builders over the base world's accounts; `key` names a token in SECRETS."""

    org_key: str = ORG_KEY
    password: str = ACTOR_PASSWORD
    cloud_id: str = CLOUD_ID

    def secret(self, key: str) -> str:
        return SECRETS[key]

    def email(self, key: str) -> str:
        return EMAIL[key.split("_")[0]]

    def account(self, name: str) -> str:
        return ACCOUNT[name]

    def basic(self, key: str, email: str | None = None, secret: str | None = None) -> dict[str, str]:
        pair = f"{email or self.email(key)}:{secret or SECRETS[key]}"
        return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}

    def bearer(self, value: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {value}"}

    def every_secret(self) -> list[str]:
        return [*SECRETS.values(), ORG_KEY, ACTOR_PASSWORD]


@pytest.fixture
def creds() -> Creds:
    return Creds()


Serve = Callable[..., Awaitable[SimulatorServer]]


@pytest.fixture
def scenario_data() -> dict[str, Any]:
    """A fresh copy of the base scenario to change before `serve(scenario_data)`."""
    return base_scenario()


@pytest.fixture
def serve(simulator: Callable[..., Awaitable[SimulatorServer]]) -> Serve:
    """`sim = await serve()` serves `base_scenario()`; `serve(data)` a changed copy of it,
    `serve("ok")` a bundled scenario. Every server is stopped after the test (the `simulator` fixture)."""

    async def start(source: str | dict[str, Any] | None = None) -> SimulatorServer:
        if isinstance(source, str):
            return await simulator(source)
        return await simulator(scenario_from_dict(source if source is not None else base_scenario(), source="unit"))

    return start


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client
