"""Paging the way each Atlassian API does it (openapi/README.md, docs/atlassian.md §2.3, §2.4, §8 A5):

- Confluence v2: `cursor` + `limit` (default and maximum per operation); `_links.next` is a URL
  relative to the site (`/wiki/api/v2/…?…&cursor=…`), repeated in a `Link: <…>; rel="next"` header.
- Confluence v1: `start` + `limit`; a limit above the route's fixed maximum is cut down to it and the
  answer says which limit it used; `_links.next` is relative to `/wiki` when more remains.
- Admin APIs: an opaque cursor that carries the whole query ("if present, all other parameters are
  discarded"); role assignments and user search give cursors in `links`, orgs and policies give URLs.

Cursors are opaque to clients: base64url of the page state. A cursor that does not decode is a 400.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Window:
    """One page of a list: the items and where the next page starts (None = last page)."""

    items: list[Any]
    next_offset: int | None


class BadPage(ValueError):
    """A `limit` out of range or a cursor that does not decode; the message says which."""


def encode_cursor(state: dict[str, Any]) -> str:
    raw = json.dumps(state, sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    """The state a cursor carries; raises BadPage."""
    try:
        state = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError) as exc:
        raise BadPage(f"invalid cursor {cursor!r}") from exc
    if not isinstance(state, dict) or not isinstance(state.get("offset"), int) or state["offset"] < 0:
        raise BadPage(f"invalid cursor {cursor!r}")
    return state


def parse_limit(text: str | int | None, default: int, maximum: int, clamp: bool = False) -> int:
    """`limit` as given, or `default`; outside 1..maximum a BadPage (or cut to the range with `clamp`)."""
    if text is None or text == "":
        return default
    try:
        limit = int(text)
    except (TypeError, ValueError) as exc:
        raise BadPage(f"limit must be an integer, got {text!r}") from exc
    if clamp:
        return min(max(limit, 1), maximum)
    if not 1 <= limit <= maximum:
        raise BadPage(f"limit must be between 1 and {maximum}, got {limit}")
    return limit


def window(items: list[Any], offset: int, limit: int) -> Window:
    end = offset + limit
    return Window(items[offset:end], end if end < len(items) else None)
