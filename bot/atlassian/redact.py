"""Redaction: runs where Evidence is built, so nothing downstream ever sees a secret.

Known secret values (settings, the actor's token) and their Basic-header forms are
replaced, and anything shaped like a credential is masked as a second line of defence.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable

MASK = "********"
_PATTERNS = (
    re.compile(r"(?i)\b(basic|bearer)\s+[A-Za-z0-9+/=._~-]{8,}"),
    re.compile(r"\bATATT[A-Za-z0-9_=+/-]{6,}"),  # Atlassian API token prefix
    re.compile(r"\bATCTT[A-Za-z0-9_=+/-]{6,}"),  # Atlassian org API key prefix
    re.compile(r"\bxox[abpr]-[A-Za-z0-9-]{6,}"),  # Slack tokens
    re.compile(r"\bxapp-[A-Za-z0-9-]{6,}"),
)


class Redactor:
    """Replaces the given secret values (and their encodings) in any text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        values: set[str] = set()
        for s in secrets:
            if s and len(s) >= 4:
                values.add(s)
        self._values = sorted(values, key=len, reverse=True)

    def with_secrets(self, *more: str) -> Redactor:
        return Redactor([*self._values, *more])

    def basic_pair(self, email: str, token: str) -> Redactor:
        """Also mask the base64 form of `email:token`, as it would appear in a header."""
        encoded = base64.b64encode(f"{email}:{token}".encode()).decode()
        return self.with_secrets(token, encoded)

    def __call__(self, text: str | None) -> str | None:
        if text is None:
            return None
        for value in self._values:
            if value in text:
                text = text.replace(value, MASK)
        for pattern in _PATTERNS:
            text = pattern.sub(lambda m: _mask_match(m), text)
        return text


def _mask_match(m: re.Match[str]) -> str:
    if m.lastindex:  # "Basic xxx" keeps its scheme word
        return f"{m.group(1)} {MASK}"
    return MASK
