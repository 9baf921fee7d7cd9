"""Running the bot: settings checked first, history opened, then Socket Mode or HTTP mode.

`serve(settings, mode=None)` is what `confluence-check serve [--http|--socket]` and
`python -m bot` run (under `asyncio.run`). Socket Mode when SLACK_APP_TOKEN is set (or
`--socket`): no public URL, no signing secret (https://docs.slack.dev/apis/events-api/using-socket-mode). HTTP mode
otherwise (or
`--http`): an aiohttp server on PORT taking POST /slack/events, where Bolt checks every
request's signature and timestamp (https://docs.slack.dev/authentication/verifying-requests-from-slack). Start-up fails
fast with a `ConfigError` naming
each missing setting, or a refused bot token; runs that a previous stop cut short are marked
interrupted and their threads told so before any new request is taken.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.checker import Checker
from bot.config import Settings
from bot.errors import ConfigError
from bot.preflight import check_reachable
from bot.slack.accepted import ACCEPTED, Accepted, AcceptedCommands
from bot.slack.app import build_client, close_client, create_app
from bot.slack.identity import BotIdentity
from bot.slack.listeners import ACKED_EARLY
from bot.slack.pacer import DEFAULT_BURST, DEFAULT_INTERVAL_S, ChannelPacer
from bot.slack.private import Place
from bot.slack.replays import SeenRequests
from bot.slack.runs import announce_interrupted, interrupted_run
from bot.slack.services import Services
from bot.slack.tasks import BackgroundTasks
from bot.slack.watches import start_watching
from bot.store import AsyncHistory
from bot.store.owner import LEASE_S
from bot.store.pace import SharedSlots
from bot.store.seen import claim_request

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
# Pending connections the listening socket holds. aiohttp's default (128) drops the SYNs of a larger
# burst, and the client only retries after 1 s: with 200 commands at once, the last acks took > 1 s.
BACKLOG = 1024


class Mode(StrEnum):
    HTTP = "http"
    SOCKET = "socket"


def resolve_mode(settings: Settings, mode: str | None) -> Mode:
    """The mode asked for, or Socket Mode when SLACK_APP_TOKEN is set, else HTTP. :raises ConfigError:"""
    if mode is None:
        return Mode.SOCKET if settings.slack_app_token is not None else Mode.HTTP
    try:
        return Mode(mode)
    except ValueError:
        raise ConfigError(f"unknown serve mode {mode!r}: use http or socket") from None


def check_settings(settings: Settings, mode: Mode, *, chosen_by_default: bool = False) -> None:
    """:raises ConfigError: naming every setting the mode needs that is missing. When no mode was
    asked for and neither mode's setting is set, Socket Mode (the documented default) is named first."""
    if chosen_by_default and settings.slack_app_token is None and settings.slack_signing_secret is None:
        missing = [n for n, v in (("SLACK_BOT_TOKEN", settings.slack_bot_token),) if v is None]
        missing.append("SLACK_APP_TOKEN (Socket Mode, the default; or SLACK_SIGNING_SECRET for serve --http)")
        if not settings.site_url:
            missing.append("ATLASSIAN_SITE_URL")
        raise ConfigError(f"missing setting: {', '.join(missing)} (see .env.example)")
    needed = ["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET" if mode is Mode.HTTP else "SLACK_APP_TOKEN",
              "ATLASSIAN_SITE_URL"]
    settings.require(*needed)
    if mode is Mode.SOCKET and settings.slack_app_token is not None \
            and not settings.slack_app_token.reveal().startswith("xapp-"):
        raise ConfigError(f"SLACK_APP_TOKEN must be an app-level token (xapp-…). {APP_TOKEN_FIX}")


APP_TOKEN_FIX = ("Generate one in the app's Basic Information → App-Level Tokens with the scope "
                 "connections:write, and enable Socket Mode.")


async def check_app_token(client: AsyncWebClient, settings: Settings) -> None:
    """A real `apps.connections.open` with SLACK_APP_TOKEN, so a wrong token stops the start
    instead of Socket Mode retrying it forever. :raises ConfigError: with the fix."""
    assert settings.slack_app_token is not None
    try:
        await client.apps_connections_open(app_token=settings.slack_app_token.reveal())
    except SlackApiError as exc:
        error = exc.response.get("error") if exc.response is not None else "error"
        raise ConfigError(f"Slack refused SLACK_APP_TOKEN ({error}). {APP_TOKEN_FIX}") from None
    except (OSError, aiohttp.ClientError, TimeoutError) as exc:
        raise ConfigError(f"cannot reach Slack at {settings.slack_api_url} to check SLACK_APP_TOKEN "
                          f"({type(exc).__name__}): check SLACK_API_URL and the network") from None


async def serve(settings: Settings, *, mode: str | None = None) -> None:
    """Serve Slack until cancelled. :raises ConfigError: before anything starts, when unusable."""
    chosen = resolve_mode(settings, mode)
    check_settings(settings, chosen, chosen_by_default=mode is None)
    await check_reachable(settings)  # an unreachable Atlassian host is the bot's misconfiguration
    if not logging.getLogger().handlers:  # a long-running server says what it does
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    history = AsyncHistory.open(settings)  # marks the runs of gone processes interrupted, off the loop
    tasks = BackgroundTasks()
    client = build_client(settings)
    checker: Checker | None = None
    services: Services | None = None
    sweeper: asyncio.Task[None] | None = None
    watching: asyncio.Task[None] | None = None
    early: EarlyAck | None = None
    try:
        await history.ready()
        identity = BotIdentity(client)
        auth = await identity.load()  # fails fast on a refused SLACK_BOT_TOKEN
        log.info("connected to Slack as %s in %s", auth.get("user"), auth.get("team"))
        if chosen is Mode.SOCKET:
            await check_app_token(client, settings)
        checker = Checker(settings, history)
        # Replicas on one PostgreSQL share each channel's pace through it; one process keeps it in memory.
        pacer = ChannelPacer(source=SharedSlots(history, interval=DEFAULT_INTERVAL_S, burst=DEFAULT_BURST)
                             if settings.database_url is not None else None)
        services = Services(settings, checker, history, client, identity, pacer, tasks)
        interrupted = await announce_interrupted(services)
        if interrupted:
            log.info("told %d thread(s) that their run was interrupted", len(interrupted))
        sweeper = asyncio.create_task(_sweep_forever(services), name="interrupted-run sweep")
        watching = start_watching(services)  # due watches, claimed in the database: once across replicas
        _tune_collector()
        app = create_app(services)
        if chosen is Mode.SOCKET:
            await _serve_socket_mode(app, settings)
        else:
            assert settings.slack_signing_secret is not None  # check_settings requires it for HTTP
            # Replicas on one PostgreSQL claim each signed request in it, so a copy sent to another is dropped too
            seen = SeenRequests(shared=(lambda digest, sent_at: history.call(
                lambda store: claim_request(store.db, digest, sent_at))) if settings.database_url else None)
            early = EarlyAck(app, settings.slack_signing_secret.reveal(), on_request=tasks.request_arrived,
                             quiet=tasks.quiet, accepted=services.accepted, seen=seen)
            async with listening(app, settings, early) as url:
                log.info("HTTP mode: Slack requests go to %s", url)
                await asyncio.Event().wait()
    finally:
        # A stop (Ctrl-C or SIGTERM: either cancels this task) saves every run in flight as
        # interrupted, with its finished steps, before the process ends; the next start of any
        # replica tells their threads. A command acked but not yet on record (its background work
        # had not begun) is saved as interrupted too; its user is told at the next start.
        for loop_task in (sweeper, watching):
            if loop_task is not None:
                loop_task.cancel()
        if early is not None:
            await early.drain(timeout=2.0)  # commands already acked get on record first
        await tasks.cancel_all()
        if checker is not None:
            await checker.interrupt_all()
        if services is not None:
            cut = await services.accepted.save_interrupted(services.history,
                                                           lambda command: interrupted_run(services, command))
            if cut:
                log.info("saved %d acked command(s) not yet started as interrupted", len(cut))
        await close_client(client)
        await history.aclose()


# Objects the cyclic collector lets pile up before a young collection (CPython's default: 700).
GC_YOUNG_THRESHOLD = 10_000


def _tune_collector() -> None:
    """Keep Python's cyclic garbage collector out of the way of runs in flight.

    What start-up made (modules, the app, clients) lives as long as the process: frozen, a full
    collection no longer walks it (57 → 20 ms measured). A run allocates tens of thousands of
    short-lived objects: collecting the young ones every 700 allocations cost ~0.7 ms of CPU per run
    at 50 runs at once (most of them dead by the next collection anyway); every 10,000 about a third
    of that, for a few MB more between collections. Reference counting frees most objects at once
    regardless; this only paces the search for cycles."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, older, oldest)


async def _sweep_forever(services: Services) -> None:
    """Now and then, mark the runs of processes that are gone for good (a replica that never came
    back: its leases ran out) and tell their threads; a start does the same at once."""
    while True:
        await asyncio.sleep(LEASE_S)
        try:
            await services.history.mark_interrupted()
            await announce_interrupted(services)
        except Exception:  # the next sweep tries again; serving goes on
            log.exception("could not sweep for interrupted runs")


@asynccontextmanager
async def listening(app: AsyncApp, settings: Settings, early_ack: EarlyAck | None = None) -> AsyncIterator[str]:
    """`http_server` on PORT. :raises ConfigError: naming PORT when it cannot be bound (in use)."""
    try:
        server = http_server(app, port=settings.port, early_ack=early_ack)
        url = await server.__aenter__()
    except OSError as exc:
        raise ConfigError(f"PORT={settings.port}: cannot listen for Slack requests: "
                          f"{exc.strerror or exc}") from None
    try:
        yield url
    finally:
        await server.__aexit__(None, None, None)


class EarlyAck:
    """Acks a slash command as soon as its signature checks out, then hands it to Bolt.

    The bot's ack of a command is always an empty 200 (`handle_check_command` acks before doing
    anything), so nothing Bolt would compute can change it: answering before Bolt's dispatch (its
    middleware, listener matching and the listener's bookkeeping: about two thirds of an ack's CPU)
    keeps acks quick when hundreds of commands arrive at once (p99 ≤ 50 ms at 200 commands,
    `scripts/bench_slack.py`). The signature and timestamp are checked exactly as Bolt checks them
    (slack_sdk's verifier, https://docs.slack.dev/authentication/verifying-requests-from-slack), so an unsigned request
    still gets Bolt's 401. Everything else (actions, views, events,
    ssl_check) goes through Bolt before its answer, as before. A stop first lets the commands
    already acked reach their listener.

    A command is on record (`AcceptedCommands`, in memory) from the moment it is acked, before its
    dispatch is even scheduled: however loaded the machine, a stop that comes before its listener
    ran still saves it as interrupted, so its user is told."""

    def __init__(self, app: AsyncApp, signing_secret: str, on_request: Callable[[], None] | None = None,
                 quiet: Callable[[], Awaitable[None]] | None = None, accepted: AcceptedCommands | None = None,
                 seen: SeenRequests | None = None) -> None:
        self._app = app
        self._seen = seen if seen is not None else SeenRequests()
        self._accepted = accepted
        self._verifier = SignatureVerifier(signing_secret)
        self._on_request = on_request
        self._quiet = quiet
        self._pending: set[asyncio.Task[None]] = set()

    def take(self, body: str, headers: Mapping[str, str]) -> bool:
        """Whether this is a signed slash command, now handed to Bolt (the caller answers 200)."""
        if not _is_command(body, headers.get("Content-Type", "")) or not self._verifier.is_valid(
                body, headers.get("X-Slack-Request-Timestamp"), headers.get("X-Slack-Signature")):
            return False
        signature, timestamp = headers.get("X-Slack-Signature") or "", headers.get("X-Slack-Request-Timestamp")
        if not self._seen.note(signature):  # a copy of a command taken within five minutes: acked, dropped
            log.info("dropped a replayed slash command (its signature was taken within the last five minutes)")
            return True
        if self._on_request is not None:
            self._on_request()
        context: dict[str, Any] = {ACKED_EARLY: True}
        if self._accepted is not None:
            form = dict(parse_qsl(body))
            place = Place(channel=form.get("channel_id", ""), user=form.get("user_id", ""),
                          response_url=form.get("response_url"))
            context[ACCEPTED] = self._accepted.accept(place, form.get("text") or "")
        request = AsyncBoltRequest(body=body, headers=dict(headers), context=context)
        task = asyncio.create_task(self._dispatch(request, signature, timestamp, context.get(ACCEPTED)),
                                   name="slash command after its ack")
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        return True

    async def _dispatch(self, request: AsyncBoltRequest, signature: str, timestamp: str | None,
                        accepted: Accepted | None) -> None:
        if not await self._seen.claim(signature, timestamp):  # another replica took this copy's original
            if self._accepted is not None and accepted is not None:
                self._accepted.settled(accepted.run_id)  # answered (by the ack) without a run
            log.info("dropped a replayed slash command (another process took it within the last five minutes)")
            return
        if self._quiet is not None:  # a burst of commands is acked before any is dispatched
            await self._quiet()
        response = await self._app.async_dispatch(request)
        if response.status != 200:
            log.warning("a slash command acked early got %d from Bolt: %s", response.status, response.body[:200])

    async def replayed(self, body: str, headers: Mapping[str, str]) -> bool:
        """Whether this request (not a slash command: a click, a form, an event) is signed and was taken
        before: the caller acks it and drops it."""
        signature, timestamp = headers.get("X-Slack-Signature"), headers.get("X-Slack-Request-Timestamp")
        if not signature or not self._verifier.is_valid(body, timestamp, signature):
            return False  # Bolt answers it (401)
        if self._seen.note(signature) and await self._seen.claim(signature, timestamp):
            return False
        log.info("dropped a replayed Slack request (its signature was taken within the last five minutes)")
        return True

    async def drain(self, timeout: float) -> None:
        """Let every command acked so far reach its listener (at a stop, before background work is
        cancelled); one that cannot within `timeout` stays on record as acked, and is saved interrupted."""
        if self._pending:
            await asyncio.wait(set(self._pending), timeout=timeout)
        for task in list(self._pending):
            task.cancel()


def _plausible_timestamp(value: str | None) -> bool:
    """A request timestamp the signature check can read: absent (refused by Bolt with 401) or a whole number
    of seconds. Anything else would make slack_sdk's verifier raise (an HTTP 500 with a traceback)."""
    return value is None or (value.isascii() and value.isdigit() and len(value) <= 12)


def _is_command(body: str, content_type: str) -> bool:
    """A slash command's form (https://docs.slack.dev/tools/bolt-python/concepts/acknowledge: `command=/…` among form
    fields), not an interaction payload."""
    return content_type.startswith("application/x-www-form-urlencoded") and (
        body.startswith("command=") or "&command=" in body) and "payload=" not in body


@asynccontextmanager
async def http_server(app: AsyncApp, *, host: str = "0.0.0.0", port: int = 3000,
                      early_ack: EarlyAck | None = None) -> AsyncIterator[str]:
    """Serve `app` at POST /slack/events (and GET /health); yields the events URL (port 0 = any).
    With `early_ack`, slash commands are answered before Bolt's dispatch (see `EarlyAck`)."""

    async def events(request: web.Request) -> web.Response:
        if not _plausible_timestamp(request.headers.get("X-Slack-Request-Timestamp")):
            return web.Response(status=401)  # as for any bad signature: no traceback, nothing to a listener
        if early_ack is not None:
            body = await request.text()
            if early_ack.take(body, request.headers):
                return web.Response(status=200)
            if await early_ack.replayed(body, request.headers):
                return web.Response(status=200)
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    async def health(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    web_app = web.Application()
    web_app.router.add_post(EVENTS_PATH, events)
    web_app.router.add_get("/health", health)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port, backlog=BACKLOG)
        await site.start()
        bound = runner.addresses[0][1]
        yield f"http://{'127.0.0.1' if host == '0.0.0.0' else host}:{bound}{EVENTS_PATH}"
    finally:
        await runner.cleanup()


async def _serve_socket_mode(app: AsyncApp, settings: Settings) -> None:
    assert settings.slack_app_token is not None
    # Socket Mode's client logs every received payload at DEBUG, a token typed into the modal
    # included; its logger is pinned at INFO so no DEBUG setting can write that payload.
    quiet = logging.getLogger("bot.slack.socket_mode")
    quiet.setLevel(logging.INFO)
    handler = AsyncSocketModeHandler(app, app_token=settings.slack_app_token.reveal(), logger=quiet)
    await handler.connect_async()
    log.info("Socket Mode: connected")
    try:
        await asyncio.Event().wait()
    finally:
        await handler.close_async()
