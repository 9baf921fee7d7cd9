"""The one redactor: every sink (terminal, JSON, Markdown, Slack, history, logs) masks through it.

Two layers. Known secret values (settings, the actor's token) are replaced wherever they
appear, also in their Basic-header (base64 of `email:token`) and percent-encoded forms. Then
anything shaped like a credential is masked, so a token nobody told us about — typed into a
slash command, pasted into an endpoint URL or a response body — is caught too: `Basic`/`Bearer`
values, `Authorization:` headers, Atlassian and Slack token prefixes, and secret-bearing URLs and
bodies (`is_secret_url`): user-info, secret-named query parameters and fragments (`?access_token=…`,
`#access_token=…`), URLs whose path is the secret (Slack incoming webhooks `hooks.slack.com/services/…`
and workflow triggers `…/triggers/…`, `…/workflows/…`), JSON members and form fields whose name says
secret (`"access_token": "…"`, `client_secret=…`), and `token: …`-style pairs.

`inert` is the other half of what leaves the bot: text from outside (Atlassian, a rule, a file, the
user) with its control characters shown as visible escapes, so a terminal or a Markdown viewer shows
them instead of obeying them.

Placeholders in fix texts (`Basic base64(email:token)`, `Bearer <token>`) stay readable.
This module imports nothing from the project, so every layer may use it.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from urllib.parse import quote, urlsplit

MASK = "********"
_MIN_SECRET = 4  # shorter "secrets" would mask ordinary words

_TOKEN_CHARS = r"[A-Za-z0-9._~+/=-]"
# `Basic <base64>` / `Bearer <token>`: at least 16 token characters, and not a placeholder such as
# `Basic base64(email:token)` (followed by "(") or a word like "Bearer authentication" (see _mask_auth).
_AUTH_VALUE = re.compile(rf"(?i)\b(basic|bearer)(\s+)({_TOKEN_CHARS}{{16,}})(?![(\w])")
_AUTH_HEADER = re.compile(r"(?i)\b(authorization\s*[:=]\s*)(?!basic\b|bearer\b)([^\s<`'\"]{12,})")
_KNOWN_TOKENS = (  # (pattern, a literal every match contains)
    (re.compile(r"\bAT[A-Z]{2}T[A-Za-z0-9_=+/-]{6,}"), "AT"),  # Atlassian API tokens (ATATT…) and org keys (ATCTT…)
    (re.compile(r"\bxox[abeoprs]-[A-Za-z0-9-]{6,}"), "xox"),  # Slack bot/user tokens
    (re.compile(r"\bxapp-[A-Za-z0-9-]{6,}"), "xapp-"),  # Slack app-level tokens
    (re.compile(r"\bATOA[A-Za-z0-9_=+/-]{6,}"), "ATOA"),  # Atlassian OAuth 2.0 client secrets (ATOA…)
    # OAuth 2.0 access tokens are JWTs: base64url of a JSON header, which always starts "eyJ" (`{"`)
    (re.compile(r"\beyJ[A-Za-z0-9_-]{6,}={0,2}\.[A-Za-z0-9_-]{6,}={0,2}\.[A-Za-z0-9_-]{6,}"), "eyJ"),
)
# `https://user:secret@host` or `https://TOKEN@host`: the whole user-info is masked.
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/?#@\s<>]+)@")
# `?access_token=…`, `&api_key=…`, `;password=…`: values of parameters whose name says secret.
_SECRET_NAME = (r"(?:[A-Za-z0-9]+[_-])*(?:token|access[_-]?token|api[_-]?token|apitoken|api[_-]?key|apikey|key"
                r"|password|passwd|pwd|secret|signature|sig|auth|authorization|jwt|session|sessionid|code)")
_URL_QUERY = re.compile(rf"(?i)([?&;#]{_SECRET_NAME}=)([^&#\s]+)")
# A form body or free text: `client_secret=…` at the start or after a space (names that only ever mean a secret).
_FREE_SECRET_NAME = (r"(?:[A-Za-z0-9]+[_-])*(?:token|access[_-]?token|api[_-]?token|apitoken|api[_-]?key|apikey"
                     r"|password|passwd|secret|client[_-]?secret|signature|jwt)")
_FORM_FIELD = re.compile(rf"(?i)(?<![^\s])({_FREE_SECRET_NAME}=)([^&#\s]{{4,}})")
# URLs whose path is the secret: Slack incoming webhooks and workflow triggers (https://api.slack.com/messaging/webhooks,
# https://slack.com/help/articles/360041352714): anyone holding one may post as the integration.
_SECRET_PATH_URL = re.compile(r"(?i)\b(https?://hooks\.slack(?:-gov)?\.com/)(?:services|triggers|workflows)/"
                              r"[^\s\"'<>`|)\]]+")
# A JSON member (also inside an escaped JSON string) whose name ends in a secret word: its string value.
_JSON_SECRET_NAME = (r"[A-Za-z0-9_.-]*?(?:token|secret|password|passwd|pwd|api[_-]?key|apikey|authorization"
                     r"|credentials?|private[_-]?key|signature|cookie)")
_JSON_PAIR = re.compile(rf'(?i)(\\?"{_JSON_SECRET_NAME}\\?"\s*:\s*\\?")((?:[^"\\]|\\[^"])+)(?=\\?")')
# `token: abc…` / `api_key=abc…` in free text (a slash command, a pasted body, a log line).
_PAIR = re.compile(r"(?i)(?<![\w-])((?:api[_-]?)?(?:token|key)|password|passwd|secret)(\s*[:=]\s*)"
                   r"(?![<`(])([^\s&,;\"'`<>]{8,})")
_PAIR_WORDS = ("token", "key", "passw", "secret")  # every _PAIR match contains one (lower-cased)


class Redactor:
    """Masks the given secret values (and their encodings), then anything credential-shaped."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._values = sorted({s for s in secrets if s and len(s) >= _MIN_SECRET}, key=len, reverse=True)
        # each value with its percent-encoded form, when that differs (worked out once, not per text)
        self._forms = [(v, *([e] if (e := quote(v, safe="")) != v else [])) for v in self._values]

    def with_secrets(self, *more: str) -> Redactor:
        return Redactor([*self._values, *more])

    def basic_pair(self, email: str, token: str) -> Redactor:
        """Also mask the base64 form of `email:token`, as it would appear in a header."""
        encoded = base64.b64encode(f"{email}:{token}".encode()).decode()
        return self.with_secrets(token, encoded)

    def __call__(self, text: str | None) -> str | None:
        return None if text is None else self.text(text)

    def text(self, text: str) -> str:
        for forms in self._forms:
            for form in forms:
                text = text.replace(form, MASK)
        return _mask_shapes(text)


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with each given secret and anything credential-shaped replaced by `********`."""
    return Redactor(secrets).text(text)


def _mask_shapes(text: str) -> str:
    # Each pattern is skipped only where its literal part cannot occur. That is decided on ASCII
    # text alone: under re.IGNORECASE some non-ASCII letters match ASCII ones (K for k, for one),
    # so any other text goes through every pattern. Most texts (request lines, excerpts) are ASCII.
    quick = text.isascii()
    low = text.lower() if quick else ""
    if not quick or ("@" in text and "://" in text):
        text = _URL_USERINFO.sub(lambda m: f"{m.group(1)}{MASK}@", text)
    if not quick or "hooks.slack" in low:
        text = _SECRET_PATH_URL.sub(lambda m: f"{m.group(1)}{MASK}", text)
    if not quick or "=" in text:
        text = _URL_QUERY.sub(lambda m: m.group(1) + MASK, text)
        text = _FORM_FIELD.sub(lambda m: m.group(1) + MASK, text)
    if not quick or ('"' in text and ":" in text):
        text = _JSON_PAIR.sub(lambda m: m.group(1) + MASK, text)
    if not quick or "basic" in low or "bearer" in low:
        text = _AUTH_VALUE.sub(_mask_auth, text)
    if not quick or "authorization" in low:
        text = _AUTH_HEADER.sub(lambda m: m.group(1) + MASK, text)
    for pattern, literal in _KNOWN_TOKENS:
        if not quick or literal in text:
            text = pattern.sub(MASK, text)
    if not quick or ((":" in text or "=" in text) and any(word in low for word in _PAIR_WORDS)):
        text = _PAIR.sub(lambda m: m.group(1) + m.group(2) + MASK, text)
    return text


def _mask_auth(match: re.Match[str]) -> str:
    value = match.group(3)
    if any(c.isdigit() for c in value) or len(value) >= 24:
        return f"{match.group(1)}{match.group(2)}{MASK}"
    return match.group(0)  # a word such as "Bearer authentication", not a credential


def is_secret_url(url: str) -> bool:
    """Whether the URL itself carries a credential: user-info, a secret-named query parameter or
    fragment, or a path that is the secret (Slack incoming webhooks and workflow triggers)."""
    return redact_text(url) != url


def secret_in_path(url: str) -> bool:
    """Whether the URL's path is itself a secret (a Slack incoming webhook or workflow trigger)."""
    return bool(_SECRET_PATH_URL.search(url))


def host_only(url: str) -> str:
    """`scheme://host/********`: how a secret-bearing URL is shown where its shape matters little."""
    parts = urlsplit(url)
    host = (parts.netloc.rsplit("@", 1)[-1] if parts.netloc else "") or "?"
    return f"{parts.scheme or 'https'}://{host}/{MASK}"


# C0 controls (but newline and tab), DEL, C1 controls, and the format characters that reorder or hide
# text (bidirectional overrides and isolates, zero-width characters): https://trojansource.codes/
_NOT_INERT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def inert(text: str) -> str:
    """`text` with every control character (ESC, CR, backspace, BEL, C1, bidi overrides…) shown as a
    visible escape (`\\x1b`, `\\u202e`), so a terminal or a Markdown viewer shows it and obeys nothing."""
    return _NOT_INERT.sub(_visible, text)


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"
