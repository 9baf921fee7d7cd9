"""Atlassian's published OpenAPI files for the APIs confluence-check calls, shipped unmodified.

They are the contract nobody on this project wrote: the contract tests check every request the
product sends and every answer the simulator gives against them, and the diagnosis looks up which
scopes an operation accepts. Sources and terms: `README.md` beside this file.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

FOLDER = Path(__file__).resolve().parent


class Api(StrEnum):
    CONFLUENCE_V1 = "confluence-v1.swagger.v3.json"
    CONFLUENCE_V2 = "confluence-v2.openapi-v2.v3.json"
    ADMIN_ORGANIZATION = "admin-organization.swagger.v3.json"
    USER_MANAGEMENT = "admin-user-management.swagger.v3.json"


def path_of(api: Api) -> Path:
    return FOLDER / api.value
