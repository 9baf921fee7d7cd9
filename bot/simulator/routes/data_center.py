"""A Confluence Data Center/Server instance where a Cloud site was expected: what the site listener
serves when the world's site is `data_center` (sources beside the bodies in `bodies.py`).

No `/_edge/tenant_info` (a Cloud edge route), `/status` answering `{"state":"RUNNING"}`, Tomcat's 401
for any credential on a REST route (Cloud API tokens mean nothing there), Tomcat's 404 elsewhere.
"""

from __future__ import annotations

from aiohttp import web

from bot.simulator import bodies

_HTML = "text/html"


def data_center(request: web.Request) -> web.Response:
    path = request.path
    if path == "/status" and request.method in ("GET", "HEAD"):
        return bodies.raw(bodies.DC_STATUS_RUNNING_BODY)
    if "/rest/" in path:
        headers = {"WWW-Authenticate": 'Basic realm="Confluence"', "X-Seraph-LoginReason": "AUTHENTICATED_FAILED"}
        return bodies.raw(bodies.DC_TOMCAT_401_HTML, status=401, content_type=_HTML, headers=headers)
    return bodies.raw(bodies.DC_TOMCAT_404_HTML, status=404, content_type=_HTML)
