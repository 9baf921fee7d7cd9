"""A fake Slack Web API over real HTTP (aiohttp on loopback, port 0) that records every call.

Point the bot's `SLACK_API_URL` at `fake.base_url` and its `response_url`s at
`fake.response_url(name)`. Every Web API call and every response_url post is recorded as a
`Call` (method, parameters, headers without the token, raw body, arrival time). Answers are
realistic bodies for the methods the bot uses (bolt's `mock_web_api_server`, with state), file
uploads included (`files.getUploadURLExternal`, the POST to the URL it hands out, recorded as
method "upload", and `files.completeUploadExternal`; the retired `files.upload` is not served);
errors can be injected per channel (`not_in_channel`, `channel_not_found`) and 429s with a
`Retry-After` per method. `apps.connections.open` hands out a WebSocket on the same server, so
Socket Mode can be driven too: `send_envelope` pushes a payload, `socket_acks` holds the acks.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

WORKSPACE_URL = "https://fake-workspace.slack.com/"
BOT_USER = "UBOTFAKE01"
AUTH_TEST = {"ok": True, "url": WORKSPACE_URL, "team": "Fake Workspace", "user": "confluence-check",
             "team_id": "TFAKE0001", "user_id": BOT_USER, "bot_id": "BFAKE0001", "is_enterprise_install": False}


@dataclass
class Call:
    """One request the fake received."""

    method: str  # "chat.postMessage", or "response_url" for webhook posts
    params: dict[str, Any]
    headers: dict[str, str]  # without Authorization
    raw: str  # the body as sent (plus the query string)
    at: float  # time.monotonic() on arrival
    token: str | None = None  # the bearer token presented, for assertions on who called
    status: int = 200
    response: dict[str, Any] = field(default_factory=dict)  # what the fake answered
    peer: str = ""  # the client's address:port: calls on one pooled connection share it

    @property
    def channel(self) -> str | None:
        return self.params.get("channel")

    def text(self) -> str:
        """Everything the call carried, for canary searches."""
        return self.raw + json.dumps(self.headers)


@dataclass
class FakeSlack:
    token: str = "xoxb-fake-bot-token"
    app_token: str = "xapp-fake-app-token"
    socket_acks: list[dict[str, Any]] = field(default_factory=list)
    _sockets: list[web.WebSocketResponse] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    channel_errors: dict[str, str] = field(default_factory=dict)
    rate_limits: dict[str, list[int]] = field(default_factory=dict)  # method -> Retry-After per 429
    _runner: web.AppRunner | None = None
    _url: str = ""
    _ts: itertools.count = field(default_factory=lambda: itertools.count(1))
    _changed: asyncio.Condition | None = None
    _files: dict[str, dict[str, Any]] = field(default_factory=dict)  # file id → what was uploaded and shared

    # --- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> FakeSlack:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/webhook/{name}", self._webhook)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self._url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        self._changed = asyncio.Condition()
        return self

    async def stop(self) -> None:
        for ws in self._sockets:
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSlack:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"{self._url}/api/"

    def response_url(self, name: str = "cmd") -> str:
        return f"{self._url}/webhook/{name}"

    # --- what tests set and read ------------------------------------------------------------------

    def fail_channel(self, channel: str, error: str) -> None:
        """Answer `{ok: false, error}` to every post/update/ephemeral in `channel`."""
        self.channel_errors[channel] = error

    def rate_limit(self, method: str, *retry_after: int) -> None:
        """Answer the next len(retry_after) calls of `method` with 429 and these Retry-After values."""
        self.rate_limits.setdefault(method, []).extend(retry_after)

    def calls_to(self, *methods: str) -> list[Call]:
        return [c for c in self.calls if c.method in methods]

    def writes(self, channel: str | None = None) -> list[Call]:
        """Posts and edits, answered or refused (what Slack's per-channel limit counts)."""
        out = self.calls_to("chat.postMessage", "chat.update")
        return [c for c in out if channel is None or c.channel == channel]

    def webhook_posts(self, name: str | None = None) -> list[Call]:
        return [c for c in self.calls if c.method == "response_url"
                and (name is None or c.params.get("_name") == name)]

    def uploads(self) -> list[Call]:
        """File bodies posted to the upload URLs `files.getUploadURLExternal` handed out."""
        return self.calls_to("upload")

    def files(self) -> dict[str, dict[str, Any]]:
        """Files completed (`files.completeUploadExternal`) by id: filename, title, content and where shared."""
        return dict(self._files)

    def all_text(self) -> str:
        return "\n".join(c.text() for c in self.calls)

    @property
    def socket_connected(self) -> bool:
        return any(not ws.closed for ws in self._sockets)

    async def send_envelope(self, kind: str, payload: dict[str, Any]) -> str:
        """Push a Socket Mode envelope (`slash_commands`, `interactive`, `events_api`); its id."""
        envelope_id = f"env-{next(self._ts)}"
        ws = next(ws for ws in self._sockets if not ws.closed)
        await ws.send_json({"envelope_id": envelope_id, "type": kind, "payload": payload,
                            "accepts_response_payload": kind != "events_api"})
        return envelope_id

    async def wait_for(self, predicate: Callable[[FakeSlack], Any], timeout: float = 10.0) -> Any:
        """Wait until `predicate(self)` is truthy (re-checked on every call); return its value."""
        assert self._changed is not None
        async with asyncio.timeout(timeout), self._changed:
            while not (value := predicate(self)):
                await self._changed.wait()
            return value

    # --- HTTP ------------------------------------------------------------------------------------

    async def _record(self, method: str, request: web.Request) -> Call:
        raw = await request.text()
        params: dict[str, Any] = dict(parse_qsl(request.query_string))
        if request.content_type == "application/json" and raw:
            params.update(json.loads(raw))
        elif raw:
            params.update(_form(raw))
        auth = request.headers.get("Authorization", "")
        headers = {k: v for k, v in request.headers.items() if k.lower() != "authorization"}
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None
        peer = request.transport.get_extra_info("peername") if request.transport else None
        call = Call(method, params, headers, request.query_string + raw, time.monotonic(), token,
                    peer=f"{peer[0]}:{peer[1]}" if peer else "")
        self.calls.append(call)
        return call

    async def _notify(self) -> None:
        assert self._changed is not None
        async with self._changed:
            self._changed.notify_all()

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "AFAKE0001"}})
        await self._notify()
        async for message in ws:
            self.socket_acks.append(json.loads(message.data))
            await self._notify()
        return ws

    async def _webhook(self, request: web.Request) -> web.Response:
        call = await self._record("response_url", request)
        call.params["_name"] = request.match_info["name"]
        await self._notify()
        return web.Response(text="ok")

    async def _upload(self, request: web.Request) -> web.Response:
        """Step 2 of an upload: the bytes, POSTed to the URL handed out (no token: the URL is the grant)."""
        call = await self._record("upload", request)
        file_id = request.match_info["file_id"]
        known = self._files.get(file_id)
        if known is None:
            call.status = 404
            await self._notify()
            return web.Response(status=404, text="unknown upload")
        known["content"] = call.raw
        await self._notify()
        return web.Response(text=f"OK - {len(call.raw.encode())}")

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        call = await self._record(method, request)
        pending = self.rate_limits.get(method)
        if pending:
            call.status, call.response = 429, {"ok": False, "error": "ratelimited"}
            await self._notify()
            return web.json_response(call.response, status=429, headers={"Retry-After": str(pending.pop(0))})
        error = self.channel_errors.get(call.channel or str(call.params.get("channel_id") or ""))
        if method == "apps.connections.open" and call.token == self.app_token:
            call.response = {"ok": True, "url": f"{self._url.replace('http', 'ws', 1)}/socket"}
        elif call.token != self.token:
            call.response = {"ok": False, "error": "invalid_auth"}
        elif error and method in ("chat.postMessage", "chat.update", "chat.postEphemeral",
                                  "files.completeUploadExternal"):
            call.response = {"ok": False, "error": error}
        else:
            call.response = self._answer(method, call.params)
        await self._notify()
        return web.json_response(call.response)

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        channel = params.get("channel")
        if method == "auth.test":
            return AUTH_TEST
        if method == "chat.postMessage":
            ts = f"1700000000.{next(self._ts):06d}"
            message = {k: params.get(k) for k in ("text", "blocks", "thread_ts") if params.get(k)}
            return {"ok": True, "channel": channel, "ts": ts, "message": {"ts": ts, "bot_id": "BFAKE0001",
                                                                          **message}}
        if method == "chat.update":
            return {"ok": True, "channel": channel, "ts": params.get("ts"), "text": params.get("text")}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"1700000000.{next(self._ts):06d}"}
        if method == "chat.getPermalink":
            ts = str(params.get("message_ts", "")).replace(".", "")
            return {"ok": True, "channel": channel, "permalink": f"{WORKSPACE_URL}archives/{channel}/p{ts}"}
        if method in ("views.open", "views.publish", "views.update"):
            return {"ok": True, "view": {"id": "VFAKE0001", **_view(params.get("view"))}}
        if method == "files.upload":  # retired (https://api.slack.com/changelog/2024-04-a-better-way-to-upload-files-is-here-to-stay)
            return {"ok": False, "error": "method_deprecated"}
        if method == "files.getUploadURLExternal":
            # https://docs.slack.dev/reference/methods/files.getUploadURLExternal: filename and length required
            if not params.get("filename") or not str(params.get("length", "")).isdigit():
                return {"ok": False, "error": "invalid_arguments"}
            file_id = f"F{next(self._ts):010d}"
            self._files[file_id] = {"filename": params["filename"], "length": int(params["length"]), "content": None}
            return {"ok": True, "upload_url": f"{self._url}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            return self._complete_upload(params)
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "DFAKE0001"}}
        return {"ok": True}


    def _complete_upload(self, params: dict[str, Any]) -> dict[str, Any]:
        """https://docs.slack.dev/reference/methods/files.completeUploadExternal: each file must have
        been uploaded whole (`length` bytes) first; shared in `channel_id` (in `thread_ts`) when given."""
        listed = params.get("files")
        listed = _maybe_json(listed) if isinstance(listed, str) else listed
        if not isinstance(listed, list) or not listed:
            return {"ok": False, "error": "invalid_arguments"}
        done = []
        for item in listed:
            known = self._files.get(str(item.get("id")))
            if known is None or known["content"] is None or len(known["content"].encode()) != known["length"]:
                return {"ok": False, "error": "file_not_found" if known is None else "file_upload_not_complete"}
            known.update(title=item.get("title") or known["filename"], channel=params.get("channel_id"),
                         thread_ts=params.get("thread_ts"), initial_comment=params.get("initial_comment"))
            done.append({"id": item["id"], "name": known["filename"], "title": known["title"],
                         "permalink": f"{WORKSPACE_URL}files/{BOT_USER}/{item['id']}/{known['filename']}"})
        return {"ok": True, "files": done}


def _form(raw: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in parse_qsl(raw, keep_blank_values=True):
        out[key] = _maybe_json(value)
    return out


def _maybe_json(value: str) -> Any:
    if value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _view(view: Any) -> dict[str, Any]:
    if isinstance(view, str):
        view = _maybe_json(view)
    return view if isinstance(view, dict) else {}
