"""The one redactor: every sink (terminal, JSON, Markdown, Slack, history, logs) masks through it.

Two layers. Known secret values (settings, the actor's token) are replaced wherever they
appear, also in their Basic-header (base64 of `email:token`) and percent-encoded forms. Then
anything shaped like a credential is masked, so a token nobody told us about — typed into a
slash command, pasted into an endpoint URL or a response body — is caught too: `Basic`/`Bearer`
values, `Authorization:` headers, Atlassian and Slack token prefixes, user-info in URLs,
secret-named query parameters (`?access_token=…`) and `token: …`-style pairs.

Placeholders in fix texts (`Basic base64(email:token)`, `Bearer <token>`) stay readable.
This module imports nothing from the project, so every layer may use it.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from urllib.parse import quote

MASK = "********"
_MIN_SECRET = 4  # shorter "secrets" would mask ordinary words

_TOKEN_CHARS = r"[A-Za-z0-9._~+/=-]"
# `Basic <base64>` / `Bearer <token>`: at least 16 token characters, and not a placeholder such as
# `Basic base64(email:token)` (followed by "(") or a word like "Bearer authentication" (see _mask_auth).
_AUTH_VALUE = re.compile(rf"(?i)\b(basic|bearer)(\s+)({_TOKEN_CHARS}{{16,}})(?![(\w])")
_AUTH_HEADER = re.compile(r"(?i)\b(authorization\s*[:=]\s*)(?!basic\b|bearer\b)([^\s<`'\"]{12,})")
_KNOWN_TOKENS = (
    re.compile(r"\bAT[A-Z]{2}T[A-Za-z0-9_=+/-]{6,}"),  # Atlassian API tokens (ATATT…) and org keys (ATCTT…)
    re.compile(r"\bxox[abeoprs]-[A-Za-z0-9-]{6,}"),  # Slack bot/user tokens
    re.compile(r"\bxapp-[A-Za-z0-9-]{6,}"),  # Slack app-level tokens
)
# `https://user:secret@host` or `https://TOKEN@host`: the whole user-info is masked.
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/?#@\s<>]+)@")
# `?access_token=…`, `&api_key=…`, `;password=…`: values of parameters whose name says secret.
_SECRET_NAME = (r"(?:[A-Za-z0-9]+[_-])*(?:token|access[_-]?token|api[_-]?token|apitoken|api[_-]?key|apikey|key"
                r"|password|passwd|pwd|secret|signature|sig|auth|authorization|jwt|session|sessionid|code)")
_URL_QUERY = re.compile(rf"(?i)([?&;]{_SECRET_NAME}=)([^&#\s]+)")
# `token: abc…` / `api_key=abc…` in free text (a slash command, a pasted body, a log line).
_PAIR = re.compile(r"(?i)(?<![\w-])((?:api[_-]?)?(?:token|key)|password|passwd|secret)(\s*[:=]\s*)"
                   r"(?![<`(])([^\s&,;\"'`<>]{8,})")


class Redactor:
    """Masks the given secret values (and their encodings), then anything credential-shaped."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._values = sorted({s for s in secrets if s and len(s) >= _MIN_SECRET}, key=len, reverse=True)

    def with_secrets(self, *more: str) -> Redactor:
        return Redactor([*self._values, *more])

    def basic_pair(self, email: str, token: str) -> Redactor:
        """Also mask the base64 form of `email:token`, as it would appear in a header."""
        encoded = base64.b64encode(f"{email}:{token}".encode()).decode()
        return self.with_secrets(token, encoded)

    def __call__(self, text: str | None) -> str | None:
        return None if text is None else self.text(text)

    def text(self, text: str) -> str:
        for value in self._values:
            text = text.replace(value, MASK)
            encoded = quote(value, safe="")
            if encoded != value:
                text = text.replace(encoded, MASK)
        return _mask_shapes(text)


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with each given secret and anything credential-shaped replaced by `********`."""
    return Redactor(secrets).text(text)


def _mask_shapes(text: str) -> str:
    text = _URL_USERINFO.sub(lambda m: f"{m.group(1)}{MASK}@", text)
    text = _URL_QUERY.sub(lambda m: m.group(1) + MASK, text)
    text = _AUTH_VALUE.sub(_mask_auth, text)
    text = _AUTH_HEADER.sub(lambda m: m.group(1) + MASK, text)
    for pattern in _KNOWN_TOKENS:
        text = pattern.sub(MASK, text)
    return _PAIR.sub(lambda m: m.group(1) + m.group(2) + MASK, text)


def _mask_auth(match: re.Match[str]) -> str:
    value = match.group(3)
    if any(c.isdigit() for c in value) or len(value) >= 24:
        return f"{match.group(1)}{match.group(2)}{MASK}"
    return match.group(0)  # a word such as "Bearer authentication", not a credential
