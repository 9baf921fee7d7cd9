"""mrkdwn escaping of text that people typed, before it reaches a Slack message.

Slack reads `<...>` as a link or mention and `&` as the start of an entity, so `&`, `<` and
`>` are the only characters it requires to be escaped (Slack "Formatting text": "Escaping
text"). Escaping them turns `<!channel>` and `<http://evil|x>` into harmless literal text.
"""

from __future__ import annotations

import re

_ENTITIES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"))
_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,3}$")


def escape(text: str | None) -> str:
    """`text` safe for mrkdwn and for a message's `text` fallback (`&`, `<`, `>` escaped)."""
    out = text or ""
    for raw, entity in _ENTITIES:
        out = out.replace(raw, entity)
    return out


def unescape(text: str) -> str:
    """The reverse of `escape`: Slack sends slash-command text with these entities."""
    for raw, entity in reversed(_ENTITIES):
        text = text.replace(entity, raw)
    return text


def code_safe(text: str) -> str:
    """Escaped text that also cannot close a ``` code block it is put in."""
    return escape(text).replace("```", "`\u200b``")


def clip(text: str, limit: int, marker: str = "…") -> str:
    """`text` cut to at most `limit` characters, ending in `marker` when cut.

    Never leaves half an entity (`&am`) at the cut, so escaped text stays valid.
    """
    if len(text) <= limit:
        return text
    head = _PARTIAL_ENTITY.sub("", text[: max(0, limit - len(marker))])
    return head + marker
