"""Logging: `LOG_LEVEL`, one stderr handler, and no secret in any log record, whoever logs it.

Libraries log what they receive: with a wrong `SLACK_SIGNING_SECRET`, Bolt logs every rejected
request's raw body at INFO — a token typed into the "Test with the actor's token" form
included — and slack_sdk logs request and response bodies at DEBUG. A handler filter would not
be enough (a record reaches every handler, pytest's too), so the record factory cleans each
record as it is made:

- a library's message is cut where it starts dumping a body, payload, headers or parameters
  (those may hold a token nobody told us about), and a message that *is* a payload is withheld;
- every message, argument and traceback goes through the one redactor (`bot.redact`), with the
  configured secrets and any registered at run time (the actor's token).

Our own loggers (`bot.*`) never log typed text or bodies; they are redacted like the rest.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections.abc import Iterable
from typing import Any, TextIO

from bot.redact import Redactor

OWN = "bot"
# Loggers with our names that the libraries write to: Bolt logs through the app's logger
# (`create_app(logger=…)`), Socket Mode through the handler's.
LIBRARY_UNDER_OWN = ("bot.slack.app", "bot.slack.socket_mode")
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
WITHHELD = "[withheld: may hold a secret]"
# Where a library's message starts to carry request/response content.
_DUMP = re.compile(r"(?i)(?:\b(?:request body|body|payload|json_body|body_params|query_params|params|headers|"
                   r"data|form|text|view|state|values|envelope)\b\s*[:=]|\(body\b|\brequest body\b)")
# Chatty at INFO (one line per HTTP request); still shown at DEBUG.
_CHATTY = ("httpx", "httpcore", "hpack")

_lock = threading.Lock()
_secrets: dict[str, int] = {}
_redactor = Redactor()
_installed = False


def register_secret(value: str | None) -> None:
    """Mask `value` in every later log record (e.g. the actor's token, for the run's lifetime)."""
    if not value:
        return
    global _redactor
    with _lock:
        _secrets[value] = _secrets.get(value, 0) + 1
        _redactor = Redactor(_secrets)


def register_secrets(values: Iterable[str]) -> None:
    for value in values:
        register_secret(value)


def forget_secret(value: str | None) -> None:
    """Undo one `register_secret(value)` (a run's secrets stop being masked once the run is over, so a
    long-lived process does not keep every run's secret)."""
    global _redactor
    with _lock:
        if value in _secrets:
            _secrets[value] -= 1
            if _secrets[value] <= 0:
                del _secrets[value]
            _redactor = Redactor(_secrets)


def clean(text: str, *, library: bool = False) -> str:
    """What a log line may say: a library's dump cut off, secrets and credential shapes masked."""
    if library:
        stripped = text.lstrip()
        if stripped.startswith(("{", "[", "b'", 'b"')) or "&token=" in text or text.startswith("token="):
            return WITHHELD
        m = _DUMP.search(text)
        if m is not None:
            text = text[: m.start()].rstrip(" ,(-:") + " " + WITHHELD
    return _redactor.text(text)


def install_record_filter() -> None:
    """Make every log record of this process pass through `clean` (idempotent)."""
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
    make = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        _clean_record(record)
        return record

    logging.setLogRecordFactory(factory)


def _clean_record(record: logging.LogRecord) -> None:
    library = record.name in LIBRARY_UNDER_OWN or not (record.name == OWN or record.name.startswith(OWN + "."))
    try:
        message = record.getMessage()
    except Exception:  # a library's bad format string: keep its template, never its arguments
        message = str(record.msg)
    record.msg, record.args = clean(message, library=library), ()
    if record.exc_info and record.exc_info[0] is not None:
        # Rendered now, redacted: formatters reuse exc_text instead of rendering the raw traceback.
        record.exc_text = _redactor.text(logging.Formatter().formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = _redactor.text(record.stack_info)


def configure(level: str, *, secrets: Iterable[str] = (), stream: TextIO | None = None) -> logging.Handler:
    """Log to `stream` (stderr) at `level`; every record cleaned; returns the handler."""
    install_record_filter()
    register_secrets(secrets)
    numeric = logging.getLevelName(str(level).upper())
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_confluence_check", False)]:
        root.removeHandler(old)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler._confluence_check = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(numeric)
    for name in _CHATTY:
        logging.getLogger(name).setLevel(numeric if numeric <= logging.DEBUG else max(numeric, logging.WARNING))
    return handler
