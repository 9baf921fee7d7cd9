"""Reading paginated Atlassian lists to the end, within a page budget (docs/architecture.md §Missing
evidence: a list cut short is missing evidence; a conclusion from an absence in it is at most `possible`).

Three pagination styles (openapi/README.md): Confluence v2 `_links.next` (a site-relative URL),
admin `links.next` (a cursor string, or a URL on some v1 routes), and v1 `start`/`limit`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from bot.atlassian import Auth, Reply, Role
from bot.probes.registry import ProbeContext
from bot.probes.shape import JsonObject, count, member

PAGE_BUDGET = 20  # pages per list: at 250 permissions or 100 role assignments a page, far beyond real data


class Paging(StrEnum):
    LINKS_NEXT_URL = "_links.next"  # Confluence v2: {"_links": {"next": "/wiki/api/v2/...?cursor=..."}}
    LINKS_NEXT_CURSOR = "links.next"  # admin API: {"links": {"next": "<cursor>"}} (§8 A5)
    START_LIMIT = "start/limit"  # Confluence v1: {"results", "start", "limit", "size"}


@dataclass
class Listing:
    """What was read: the items, and whether the list was read to its end."""

    items: list[JsonObject] = field(default_factory=list)
    pages: int = 0
    complete: bool = False
    failed: Reply | None = None  # the answer that was not a page (the list is then unusable)

    @property
    def where_stopped(self) -> str:
        return f"stopped after {self.pages} page(s), {len(self.items)} entries (page budget reached)"


async def read_list(ctx: ProbeContext, role: Role, path: str, *, auth: Auth, paging: Paging,
                    items_key: str, params: Mapping[str, object] | None = None,
                    budget: int | None = None, shared: bool = False) -> Listing:
    """Every page of a list, up to `budget` pages. A page that is not a 200 JSON object ends the
    read with `failed` set; a request that gets no answer raises (the engine makes it an error).
    `shared`: a list that is the same for every run (see `Atlassian.call`)."""
    out = Listing()
    target, query = path, dict(params or {})
    budget = budget or PAGE_BUDGET
    while out.pages < budget:
        reply = await ctx.call(role, "GET", target, auth=auth, params=query or None, shared=shared)
        body = reply.json()
        if reply.status != 200 or not isinstance(body, dict) or not isinstance(body.get(items_key, []), list):
            out.failed = reply
            return out
        page = [i for i in body.get(items_key) or [] if isinstance(i, dict)]
        out.items.extend(page)
        out.pages += 1
        following = _next(paging, body, query, len(page))
        if following is None:
            out.complete = True
            return out
        target, query = (following[0] or target), following[1]
    return out


def _next(paging: Paging, body: JsonObject, query: dict[str, object],
          read: int) -> tuple[str | None, dict[str, object]] | None:
    """(new target or None to keep it, new query) for the next page; None at the end. `read`: the
    entries on this page."""
    if paging is Paging.START_LIMIT:
        limit = count(body.get("limit"), query.get("limit"))
        if not read or (limit and read < limit and not member(body.get("_links")).get("next")):
            return None
        return None, {**query, "start": count(body.get("start"), query.get("start")) + read}
    links = body.get("_links") if paging is Paging.LINKS_NEXT_URL else body.get("links")
    following = links.get("next") if isinstance(links, dict) else None
    if not following or not isinstance(following, str):
        return None
    if following.startswith(("/", "http://", "https://")):
        return following, {}  # a link: it carries its own query (cursor, limit)
    return None, {**query, "cursor": following}
