"""Configuration is checked, not diagnosed: before a run, the configured Atlassian hosts must
answer a TCP connect. An unreachable site or API host (a typo, DNS, a firewall) is the bot's own
misconfiguration — a `ConfigError` naming the host and the setting (exit 64) — never a step of
the actor's diagnosis. The connects run concurrently and cost one round trip on the normal path.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket

from bot.atlassian.hosts import origin
from bot.config import Settings
from bot.errors import ConfigError

CONNECT_TIMEOUT_S = 5.0


async def check_reachable(settings: Settings, *, timeout: float = CONNECT_TIMEOUT_S, token_host: bool = False) -> None:
    """:raises ConfigError: naming each configured Atlassian host (site, API; with `token_host`, the
    OAuth token host a run's client credentials go to) that cannot be reached."""
    targets: dict[tuple[str, int], str] = {}
    hosts = [("ATLASSIAN_SITE_URL", settings.site_url), ("ATLASSIAN_API_URL", settings.api_url)]
    for name, url in hosts + ([("ATLASSIAN_AUTH_URL", settings.auth_url)] if token_host else []):
        if url:
            _, host, port = origin(url)
            targets.setdefault((host, port), name)
    failures = await asyncio.gather(*(_connect(host, port, timeout) for host, port in targets))
    problems = [f"{name} host {host}:{port} cannot be reached ({why})"
                for ((host, port), name), why in zip(targets.items(), failures, strict=True) if why]
    if problems:
        raise ConfigError("; ".join(problems) + ": check the setting and the network")


async def _connect(host: str, port: int, timeout: float) -> str | None:
    """None when a TCP connection opens; otherwise why not, in a few words."""
    try:
        async with asyncio.timeout(timeout):
            _, writer = await asyncio.open_connection(host, port)
    except TimeoutError:
        return f"no answer within {timeout:g} s"
    except socket.gaierror as exc:
        return f"name not resolved: {exc.strerror or exc}"
    except OSError as exc:
        return os.strerror(exc.errno) if exc.errno else (exc.strerror or type(exc).__name__)
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return None
