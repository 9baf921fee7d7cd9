"""Rule references (UUID, URL, numeric id, name) and the walk that finds Send web request actions by shape."""

from __future__ import annotations

import pytest

from bot.automation.reference import RuleRef, parse_rule_reference, resolve
from bot.automation.rule import RuleShapeError, parse_rule
from bot.errors import UsageError
from tests.rules import RULE_UUID, rule, web_request

SUMMARIES = [
    {"uuid": RULE_UUID, "name": "Publish release notes", "state": "ENABLED"},
    {"uuid": "019d0162-a338-7210-8481-000000000002", "name": "Twin", "state": "ENABLED"},
    {"uuid": "019d0162-a338-7210-8481-000000000003", "name": "twin", "state": "DISABLED"},
    {"uuid": "019d0162-a338-7210-8481-000000000004", "name": "Old", "id": 1646},
]


@pytest.mark.parametrize(("text", "expected"), [
    (RULE_UUID, RuleRef(uuid=RULE_UUID)),
    (RULE_UUID.upper(), RuleRef(uuid=RULE_UUID)),
    (f"https://acme.atlassian.net/wiki/admin/automation#/rule/{RULE_UUID}", RuleRef(uuid=RULE_UUID)),
    (f"<https://acme.atlassian.net/wiki/spaces/DOCS/automation#/rule/{RULE_UUID}/audit-log>", RuleRef(uuid=RULE_UUID)),
    ("https://acme.atlassian.net/wiki/admin/automation#/rule/1646", RuleRef(numeric_id="1646")),
    ("1646", RuleRef(numeric_id="1646")),
    ("  Publish release notes ", RuleRef(name="Publish release notes")),
])
def test_references_parse(text: str, expected: RuleRef) -> None:
    assert parse_rule_reference(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "https://acme.atlassian.net/wiki/admin/automation", "a\nb"])
def test_unusable_references_say_what_to_paste(text: str) -> None:
    with pytest.raises(UsageError, match="UUID"):
        parse_rule_reference(text)


def test_names_and_numeric_ids_resolve_through_summaries_or_are_refused() -> None:
    assert resolve(RuleRef(name="publish RELEASE notes"), SUMMARIES) == RULE_UUID
    assert resolve(RuleRef(numeric_id="1646"), SUMMARIES) == "019d0162-a338-7210-8481-000000000004"
    with pytest.raises(UsageError, match="2 rules match"):
        resolve(RuleRef(name="Twin"), SUMMARIES)
    with pytest.raises(UsageError, match="no Confluence automation rule is named"):
        resolve(RuleRef(name="Nope"), SUMMARIES)
    with pytest.raises(UsageError, match="old numeric rule id"):
        resolve(RuleRef(numeric_id="7"), SUMMARIES)


def test_walk_finds_web_requests_by_shape_in_rule_order() -> None:
    first = web_request("https://acme.atlassian.net/wiki/rest/api/space", component_id="w1",
                        headers=[("Authorization", "Basic x", True)], type_="confluence.something.unseen")
    second = web_request("https://api.atlassian.com/ex/confluence/c/wiki/api/v2/pages", "post", component_id="w2")
    look_alike = {"id": "n1", "component": "ACTION", "type": "x", "value": {"url": "u", "method": "GET"}}  # no headers
    payload = rule([first, look_alike, second])
    parsed = parse_rule(payload)
    assert [(a.index, a.component_id, a.path, a.method) for a in parsed.actions] == [
        (1, "w1", "components[0].children[0].children[0]", "GET"), (2, "w2", "components[2]", "POST")]
    assert parsed.actions[0].type == "confluence.something.unseen"
    assert parsed.actor_account_id == payload["rule"]["actor"]["actor"] and parsed.scope == "space 1001"
    assert "confluence.page.condition" in parsed.component_types
    assert "Basic x" not in repr(parsed)  # header values never reach a repr
    with pytest.raises(RuleShapeError):
        parse_rule({"data": []})
