"""Property tests: whatever a person types, the parsers answer with the project's own error type
(exit 64 / private usage help), never a crash. A longer run: `python scripts/fuzz_parsers.py`."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from tests.fuzz import TARGETS, outcome


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_only_our_error_type_comes_out(name: str) -> None:
    target, inputs = TARGETS[name]

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
    @given(inputs)
    def check(text: str) -> None:
        stray = outcome(target, text)
        assert stray is None, f"{name} parser raised {type(stray).__name__}: {stray} for {text!r}"

    check()


@pytest.mark.parametrize("text", ["GET http://[", "GET https://a@evil:abc/", "GET https://evil℀.com/"])
def test_the_endpoints_of_issue_7_are_refused_properly(text: str) -> None:
    target, _ = TARGETS["endpoint"]
    assert outcome(target, text) is None
    target, _ = TARGETS["slash-command"]
    assert outcome(target, f"a@acme.com {text}") is None
