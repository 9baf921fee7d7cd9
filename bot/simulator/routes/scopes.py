"""Which scopes a scoped token needs for each Confluence route at the gateway (docs/atlassian.md §1.6).

Each route lists alternatives; a token passes when it holds every scope of one alternative.
Classic scopes (`read:confluence-*`) and granular ones (`read:*:confluence`) are separate grants,
and v2 routes accept granular scopes only (docs/atlassian.md §1.6 [R] markfluence). Classic (unscoped)
tokens are not scope-checked.
"""

from __future__ import annotations

Alternatives = tuple[frozenset[str], ...]


def _any(*options: str | tuple[str, ...]) -> Alternatives:
    return tuple(frozenset((o,) if isinstance(o, str) else o) for o in options)


ROUTE_SCOPES: dict[str, Alternatives] = {
    # docs/atlassian.md §1.6 / §2.3 [D via mirror]: classic read:confluence-user, granular
    # read:content-details:confluence.
    "v1.user.current": _any("read:confluence-user", "read:content-details:confluence"),
    "v1.user": _any("read:confluence-user", "read:user:confluence"),  # granular [I]
    # docs/atlassian.md §2.3: memberof needs read:user:confluence + read:group:confluence (granular).
    "v1.user.memberof": _any("read:confluence-user", ("read:user:confluence", "read:group:confluence")),
    # docs/atlassian.md §1.6: classic read:confluence-space.summary; granular read:space:confluence.
    "v1.space": _any("read:confluence-space.summary", "read:space:confluence"),
    "v1.spaces": _any("read:confluence-space.summary", "read:space:confluence"),
    # Brief/docs/atlassian.md §1.6 family: content reads [I for the exact pairs].
    "v1.content": _any("read:confluence-content.summary", "read:page:confluence"),
    "v1.content.list": _any("read:confluence-content.summary", "read:page:confluence"),
    "v1.content.create": _any("write:confluence-content", "write:page:confluence"),  # [I]
    "v1.content.permission": _any("read:confluence-content.permission", "read:content.permission:confluence"),  # [I]
    "v1.search": _any("search:confluence", "read:content-details:confluence"),  # [I]
    # v2: granular only. docs/atlassian.md §1.6 [D]: spaces/{id}/permissions needs read:space:confluence.
    "v2.spaces": _any("read:space:confluence"),
    "v2.space": _any("read:space:confluence"),
    "v2.space.permissions": _any("read:space:confluence"),
    "v2.page": _any("read:page:confluence"),  # docs/atlassian.md §5 report 4; confluence-v2 spec
    "v2.folder": _any("read:folder:confluence"),  # https://jira.atlassian.com/browse/CONFCLOUD-83234
    "v2.space.role-assignments": _any("read:space.permission:confluence"),  # confluence-v2 spec
    "v2.space-role-mode": _any("read:configuration:confluence"),  # confluence-v2 spec
    "v2.check-access-by-email": _any("read:configuration:confluence"),  # docs/atlassian.md §8 A6 [D via mirror]
    "v2.users-bulk": _any("read:user:confluence"),  # [I]
}


def scope_allows(route_name: str, held: list[str]) -> bool:
    """True when `held` covers one alternative of the route (a route missing from the table
    needs no scope)."""
    options = ROUTE_SCOPES.get(route_name)
    if not options:
        return True
    have = set(held)
    return any(option <= have for option in options)
