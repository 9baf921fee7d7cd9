"""Atlassian's own OpenAPI files (shipped in `bot/openapi/`, see its README) as an oracle: find the
operation a request addresses, check the request against it (method, path template, query parameter
names and values, JSON body fields) and an answer against that operation's response schema.

OAS 3.0 is not JSON Schema: `nullable: true` is turned into a `null` type (or a `null` alternative
beside a `$ref`/`allOf`) before validating with draft 4 semantics (which OAS 3.0 follows, e.g. a
`$ref` ignores its siblings).
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jsonschema

from bot import openapi as openapi_files
from bot.openapi import Api

_METHODS = ("get", "post", "put", "patch", "delete", "head")


def spec_dir() -> Path:
    """The OpenAPI files the package ships (`bot/openapi/`, see its README)."""
    return openapi_files.FOLDER


@dataclass(frozen=True)
class Operation:
    api: Api
    method: str
    template: str  # the full path template, server prefix included, e.g. /wiki/api/v2/pages/{id}
    spec: dict[str, Any] = field(repr=False, compare=False)
    path_item: dict[str, Any] = field(repr=False, compare=False)

    @property
    def name(self) -> str:
        return f"{self.method} {self.template} ({self.api.name})"


@dataclass
class Spec:
    api: Api
    document: dict[str, Any]
    prefix: str
    operations: list[tuple[re.Pattern[str], Operation]]
    components: dict[str, Any]

    def resolve(self, node: Any) -> Any:
        """Follow a local `$ref` (parameters, responses, request bodies)."""
        while isinstance(node, dict) and "$ref" in node:
            node = _pointer(self.document, node["$ref"])
        return node


def _pointer(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


@cache
def load(api: Api) -> Spec:
    document = json.loads((spec_dir() / api.value).read_text(encoding="utf-8"))
    prefix = urlsplit(document["servers"][0]["url"]).path.rstrip("/")
    operations: list[tuple[re.Pattern[str], Operation]] = []
    for template, item in document["paths"].items():
        full = prefix + template
        pattern = re.compile("^" + re.sub(r"\\\{[^/{}]+\\\}", "[^/]+", re.escape(full)) + "$")
        for method in _METHODS:
            if method in item:
                operations.append((pattern, Operation(api, method.upper(), full, item[method], item)))
    # literal segments beat templated ones (/user/current before /user/{id})
    operations.sort(key=lambda pair: pair[1].template.count("{"))
    components = nullable_to_jsonschema(document.get("components", {}))
    return Spec(api, document, prefix, operations, components)


def find(api: Api, method: str, path: str) -> Operation | None:
    wanted = "GET" if method == "HEAD" else method
    return next((op for pattern, op in load(api).operations if op.method == wanted and pattern.match(path)), None)


# -- OAS 3.0 → JSON Schema ----------------------------------------------------------------------

def nullable_to_jsonschema(node: Any) -> Any:
    """A copy of an OAS 3.0 schema tree in which `nullable: true` admits null (and patterns lose a
    trailing newline, see below)."""
    if isinstance(node, list):
        return [nullable_to_jsonschema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: nullable_to_jsonschema(value) for key, value in node.items()}
    if isinstance(out.get("pattern"), str):
        # user-management's AccountId pattern ends in a stray "\n" (a YAML block scalar's newline)
        # that no account id carries; the anchor-less pattern is meant without it
        out["pattern"] = out["pattern"].rstrip("\n")
    if out.pop("nullable", False) is not True:
        return out
    if "$ref" in out or "allOf" in out or "oneOf" in out or "anyOf" in out:
        return {"anyOf": [out, {"type": "null"}]}
    if isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    if "enum" in out and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]
    return out


@cache
def _validator(api: Api, schema_json: str) -> jsonschema.Draft4Validator:
    spec = load(api)
    root = {"allOf": [nullable_to_jsonschema(json.loads(schema_json))], "components": spec.components}
    return jsonschema.Draft4Validator(root)


def schema_errors(api: Api, schema: dict[str, Any], instance: Any) -> list[str]:
    validator = _validator(api, json.dumps(schema, sort_keys=True))
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:300]}"
            for e in validator.iter_errors(instance)]


def unknown_fields(api: Api, schema: dict[str, Any], instance: Any, where: str = "") -> list[str]:
    """Object keys in `instance` that the schema names nowhere (the schemas seldom forbid extra
    properties, but a field the spec does not know is a field Atlassian ignores or rejects)."""
    spec = load(api)
    schema = spec.resolve(schema)
    if not isinstance(schema, dict):
        return []
    subs = [spec.resolve(s) for key in ("allOf", "oneOf", "anyOf") for s in schema.get(key, [])]
    if isinstance(instance, dict):
        known: dict[str, Any] = dict(schema.get("properties") or {})
        for sub in subs:
            known.update((sub or {}).get("properties") or {})
        if schema.get("additionalProperties") not in (None, False) or any(
                (sub or {}).get("additionalProperties") not in (None, False) for sub in subs):
            return []
        found = [f"{where}{key}" for key in instance if key not in known]
        for key, value in instance.items():
            if key in known:
                found += unknown_fields(api, known[key], value, f"{where}{key}.")
        return found
    if isinstance(instance, list) and "items" in schema:
        return [f for item in instance for f in unknown_fields(api, schema["items"], item, f"{where}[].")]
    return []


# -- requests and answers -----------------------------------------------------------------------

def parameters(spec: Spec, op: Operation, where: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for raw in [*op.path_item.get("parameters", []), *op.spec.get("parameters", [])]:
        param = spec.resolve(raw)
        if param.get("in") == where:
            found[param["name"]] = param
    return found


def request_problems(api: Api, op: Operation, query: str, body: Any) -> list[str]:
    """What in this request the operation does not allow: unknown query parameters, values
    outside their schema, a JSON body that does not fit or has fields the spec does not name."""
    spec = load(api)
    allowed = parameters(spec, op, "query")
    problems: list[str] = []
    for name, value in parse_qsl(query, keep_blank_values=True):
        param = allowed.get(name)
        if param is None:
            problems.append(f"query parameter {name!r} is not a parameter of {op.name}")
            continue
        schema = spec.resolve(param.get("schema") or {})
        item_schema = spec.resolve(schema.get("items") or {}) if schema.get("type") == "array" else schema
        values = value.split(",") if schema.get("type") == "array" else [value]
        for one in values:
            errors = schema_errors(api, item_schema, _typed(item_schema, one))
            problems += [f"query {name}={one!r}: {e}" for e in errors]
    content = (spec.resolve(op.spec.get("requestBody") or {}).get("content") or {}).get("application/json")
    if body is not None:
        if content is None:
            problems.append(f"{op.name} takes no JSON body")
        else:
            schema = content.get("schema") or {}
            problems += [f"body {e}" for e in schema_errors(api, schema, body)]
            problems += [f"body field {f!r} is not in the spec" for f in unknown_fields(api, schema, body)]
    return problems


def _typed(schema: dict[str, Any], text: str) -> Any:
    kind = schema.get("type")
    try:
        if kind == "integer":
            return int(text)
        if kind == "number":
            return float(text)
    except ValueError:
        return text
    if kind == "boolean" and text in ("true", "false"):
        return text == "true"
    return text


def response_schema(api: Api, op: Operation, status: int) -> tuple[bool, dict[str, Any] | None]:
    """(documented, JSON schema or None) for this status: exact code, `4XX`-style range, `default`."""
    spec = load(api)
    responses = op.spec.get("responses") or {}
    for key in (str(status), f"{str(status)[0]}XX", "default"):
        if key in responses:
            response = spec.resolve(responses[key])
            content = (response.get("content") or {}).get("application/json") or {}
            return True, content.get("schema")
    return False, None


def answer_problems(api: Api, op: Operation, status: int, media_type: str | None, text: str | None) -> list[str]:
    documented, schema = response_schema(api, op, status)
    if not documented:
        return [f"status {status} is not documented for {op.name}"]
    if schema is None:
        return []
    if media_type != "application/json":
        return [f"{op.name} documents a JSON {status} answer; the simulator sent {media_type}"]
    try:
        body = json.loads(text or "")
    except ValueError:
        return [f"{op.name} {status}: the answer is not JSON"]
    return [f"{op.name} {status}: {e}" for e in schema_errors(api, copy.deepcopy(schema), body)]
