"""How much of an answer from Atlassian the bot will take: everything from there is bounded.

An answer is read up to `MAX_ANSWER_BYTES`, on the wire and again after decompression (a gzip bomb is
small on the wire), in chunks, and the read stops there (`AnswerTooLarge`); the largest answer the bot
asks for (a page of 100 rules, a page of users) is a few hundred KB. JSON is parsed to at most
`MAX_JSON_DEPTH` levels of nesting (Atlassian's deepest answer, a rule's component tree, is far
shallower), so a deep answer can neither exhaust the parser's recursion nor the walkers after it. A
`cloudId` must look like one (a UUID, docs/atlassian.md §2.1): it goes into every gateway URL.
"""

from __future__ import annotations

import json
import re
from typing import Any

from bot.atlassian.failures import NoAnswer

MAX_ANSWER_BYTES = 4 << 20  # 4 MiB
MAX_JSON_DEPTH = 64
_CLOUD_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


class AnswerTooLarge(NoAnswer):
    """The answer grew past MAX_ANSWER_BYTES (on the wire or decompressed): reading stopped there."""

    def __init__(self, limit: int = MAX_ANSWER_BYTES) -> None:
        super().__init__(f"the answer is larger than {limit >> 20} MiB (reading stopped there)")


class TooDeep(ValueError):
    """JSON nested deeper than MAX_JSON_DEPTH."""


def parse_json(text: str | bytes, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """The parsed JSON. :raises ValueError: not JSON; `TooDeep` when nested deeper than `max_depth`."""
    try:
        value = json.loads(text)
    except RecursionError:  # deeper than the parser's own stack: far past the cap
        raise TooDeep(f"JSON nested deeper than {max_depth} levels") from None
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:  # iteratively: the check must not recurse either
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node
        if depth > max_depth:
            raise TooDeep(f"JSON nested deeper than {max_depth} levels")
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return value


def cloud_id_of(body: Any) -> str | None:
    """The `cloudId` of a tenant_info body when it is a UUID, else None (absent, or not a cloudId)."""
    value = body.get("cloudId") if isinstance(body, dict) else None
    return value if isinstance(value, str) and _CLOUD_ID.fullmatch(value) else None
