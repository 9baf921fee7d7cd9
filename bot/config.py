"""Settings from the environment and `.env`: the only module that reads either.

A value that is empty counts as unset; the process environment wins over `.env`
(docs/architecture.md §Configuration). The `.env` is
the one in the current folder, else the user's (`$XDG_CONFIG_HOME/confluence-check/.env`, by
default `~/.config/confluence-check/.env`), so the tool behaves the same from any folder; the
history defaults to the user's data folder (`$XDG_DATA_HOME/confluence-check/`, by default
`~/.local/share/confluence-check/`), per the XDG Base Directory specification
(https://specifications.freedesktop.org/basedir-spec/latest/). Secrets are `Secret`, whose repr
and str are masked.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit

from dotenv import dotenv_values

from bot.errors import ConfigError


class Secret:
    """A credential. `reveal()` is the only way to the value; everything else masks it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not value:
            raise ValueError("a Secret cannot be empty")
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> NoReturn:  # never pickle a secret into a file by accident
        raise TypeError("Secret cannot be pickled")


DEFAULT_API_URL = "https://api.atlassian.com"
DEFAULT_STATUS_URL = "https://confluence.status.atlassian.com"
DEFAULT_AUTH_URL = "https://auth.atlassian.com"  # the OAuth 2.0 token host (docs/credentials.md)
DEFAULT_SLACK_API_URL = "https://slack.com/api/"
APP_DIR = "confluence-check"
DEFAULT_MAX_CONCURRENT_RUNS = 32  # a run is ~1 s mostly waiting on Atlassian, ~25 ms of CPU: 2 cores
DEFAULT_WATCH_MIN_INTERVAL_S = 60  # the shortest interval between two checks of one watch

# One line per setting, shown by `.env.example`, `config` and in errors. Order = docs/settings.md's table.
SETTING_HELP: dict[str, str] = {
    "ATLASSIAN_SITE_URL": "the Confluence Cloud site, e.g. https://acme.atlassian.net (required for check/serve)",
    "ATLASSIAN_API_URL": "gateway, admin and user-management APIs",
    "ATLASSIAN_STATUS_URL": "Confluence Statuspage",
    "ATLASSIAN_AUTH_URL": "OAuth 2.0 token host: client credentials are exchanged there, and sent nowhere else",
    "ATLASSIAN_EMAIL": "the bot's own inspector account (a site admin)",
    "ATLASSIAN_API_TOKEN": "classic (unscoped) API token of the inspector account",
    "ATLASSIAN_ORG_API_KEY": "organization admin API key (Bearer) for the admin APIs",
    "ATLASSIAN_ORG_ID": "organization id; discovered with GET /admin/v1/orgs when absent",
    "SLACK_BOT_TOKEN": "xoxb- bot token (required for serve)",
    "SLACK_SIGNING_SECRET": "signing secret (required for serve in HTTP mode)",
    "SLACK_APP_TOKEN": "xapp- app-level token; when set, serve uses Socket Mode",
    "SLACK_API_URL": "Slack Web API base URL",
    "PORT": "HTTP mode listen port (path /slack/events)",
    "DATABASE_PATH": "SQLite history file (default ~/.local/share/confluence-check/history.db; "
                     "a relative path in a .env file is relative to that file's folder)",
    "LOG_LEVEL": "DEBUG, INFO, WARNING or ERROR (default INFO); no level ever logs a secret",
    "DATABASE_URL": "postgresql://user:password@host:5432/db: keep the history in PostgreSQL instead "
                    "(several bot processes share it); wins over DATABASE_PATH",
    "ALLOWED_SLACK_USERS": "comma-separated Slack user ids allowed to run checks; empty = all",
    "ALLOWED_SLACK_CHANNELS": "comma-separated Slack channel ids allowed to run checks; empty = all",
    "SUPPORT_CHANNEL": "channel id that 'Share with support' posts to",
    "MAX_CONCURRENT_RUNS": "checks the Slack bot runs at once; more wait in a queue (default 32, for 2 cores)",
    "WATCH_MIN_INTERVAL_S": "the shortest --every a watch may have, in seconds (default 60)",
}

_SECRETS = {"ATLASSIAN_API_TOKEN", "ATLASSIAN_ORG_API_KEY", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET",
            "SLACK_APP_TOKEN", "DATABASE_URL"}


def _xdg_dir(env: Mapping[str, str], variable: str, fallback: str) -> Path:
    """An XDG base folder: the variable when it holds an absolute path (the specification says to
    ignore a relative one), else `fallback` under the home folder."""
    value = env.get(variable, "")
    if value and Path(value).is_absolute():
        return Path(value)
    home = env.get("HOME") or str(Path.home())
    return Path(home) / fallback


def config_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where the user's `.env` lives: `$XDG_CONFIG_HOME/confluence-check` (`~/.config/...`)."""
    return _xdg_dir(os.environ if env is None else env, "XDG_CONFIG_HOME", ".config") / APP_DIR


def data_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where the history lives by default: `$XDG_DATA_HOME/confluence-check` (`~/.local/share/...`)."""
    return _xdg_dir(os.environ if env is None else env, "XDG_DATA_HOME", ".local/share") / APP_DIR


def default_database_path(env: Mapping[str, str] | None = None) -> str:
    return str(data_dir(env) / "history.db")


def find_dotenv(cwd: Path | None = None, env: Mapping[str, str] | None = None) -> Path | None:
    """The `.env` to read: the current folder's, else the user's config folder's; None when neither exists."""
    for candidate in ((cwd or Path.cwd()) / ".env", config_dir(env) / ".env"):
        if candidate.is_file():
            return candidate
    return None


def _database_path(value: str | None, env: Mapping[str, str], dotenv_dir: Path | None) -> str:
    """DATABASE_PATH with `~` expanded; relative to the `.env`'s folder when it came from one."""
    if not value:
        return default_database_path(env)
    if value == ":memory:":
        return value
    path = Path(value)
    if value.startswith("~"):
        home = env.get("HOME")
        path = Path(home) / value[2:] if home and value.startswith("~/") else path.expanduser()
    if dotenv_dir is not None and not path.is_absolute():
        path = dotenv_dir / path
    return str(path)


def _base_url(name: str, value: str, *, root: bool = False) -> str:
    """A configured base URL, checked: http(s), a host, a valid port, no user-info; with `root`,
    no path, query or fragment either (a site URL is the site itself, not `/wiki`).
    :raises ConfigError: naming the setting, never echoing its value (a secret pasted into the wrong
    setting would be printed)."""
    try:
        parts = urlsplit(value)
        port = parts.port
        host = parts.hostname
    except ValueError:
        raise ConfigError(f"{name} is not a valid URL (its host or port cannot be read)") from None
    if parts.scheme not in ("http", "https") or not host:
        raise ConfigError(f"{name} must be an http(s) URL with a host, e.g. https://acme.atlassian.net")
    if parts.username or parts.password or "@" in parts.netloc:
        raise ConfigError(f"{name} must not contain a user name or password")
    if any(c.isspace() for c in value):
        raise ConfigError(f"{name} must not contain spaces")
    if root and (parts.path.strip("/") or parts.query or parts.fragment):
        site = f"{parts.scheme}://{parts.hostname}" + (f":{port}" if port else "")  # the host only: no path
        raise ConfigError(f"{name} must be the site's root URL without a path, query or fragment: set {name}={site} "
                          "(the bot adds /wiki itself)")
    del port  # read only so that a bad port is refused here
    return value.rstrip("/")


class LogLevel(StrEnum):
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"


def _log_level(value: str | None) -> LogLevel:
    try:
        return LogLevel((value or "INFO").upper())
    except ValueError:
        raise ConfigError(f"LOG_LEVEL must be one of {', '.join(LogLevel)}") from None


def _ids(value: str | None) -> frozenset[str]:
    return frozenset(v.strip() for v in (value or "").split(",") if v.strip())


@dataclass(frozen=True)
class Settings:
    site_url: str | None = None
    api_url: str = DEFAULT_API_URL
    status_url: str = DEFAULT_STATUS_URL
    auth_url: str = DEFAULT_AUTH_URL
    email: str | None = None
    api_token: Secret | None = None
    org_api_key: Secret | None = None
    org_id: str | None = None
    slack_bot_token: Secret | None = None
    slack_signing_secret: Secret | None = None
    slack_app_token: Secret | None = None
    slack_api_url: str = DEFAULT_SLACK_API_URL
    port: int = 3000
    database_path: str = field(default_factory=default_database_path)
    database_url: Secret | None = None  # may carry a password
    allowed_slack_users: frozenset[str] = frozenset()
    allowed_slack_channels: frozenset[str] = frozenset()
    support_channel: str | None = None
    log_level: LogLevel = LogLevel.INFO
    max_concurrent_runs: int = DEFAULT_MAX_CONCURRENT_RUNS
    watch_min_interval_s: int = DEFAULT_WATCH_MIN_INTERVAL_S

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None, dotenv_path: Path | None = None) -> Settings:
        """Read settings; the environment wins over the `.env` file. Raises ConfigError."""
        env = os.environ if environ is None else environ
        from_file = read_dotenv(dotenv_path)
        from_env = {k: v for k, v in env.items() if k in SETTING_HELP and v and v.strip()}
        relative_to = dotenv_path.parent if dotenv_path is not None and "DATABASE_PATH" not in from_env else None
        return cls.from_mapping({**from_file, **from_env}, env=env, dotenv_dir=relative_to)

    @classmethod
    def from_mapping(cls, values: Mapping[str, str], *, env: Mapping[str, str] | None = None,
                     dotenv_dir: Path | None = None) -> Settings:
        """Settings from these values alone (the environment is read only for the default folders)."""
        v = {k: s.strip() for k, s in values.items() if s and s.strip()}
        places = os.environ if env is None else env

        def secret(name: str) -> Secret | None:
            return Secret(v[name]) if name in v else None

        try:
            port = int(v.get("PORT", "3000"))
        except ValueError:
            raise ConfigError("PORT must be a number (a TCP port between 1 and 65535)") from None
        if not 0 <= port <= 65535:
            raise ConfigError("PORT must be a TCP port between 1 and 65535")
        site = v.get("ATLASSIAN_SITE_URL")
        concurrent = v.get("MAX_CONCURRENT_RUNS", str(DEFAULT_MAX_CONCURRENT_RUNS))
        if not concurrent.isdigit() or int(concurrent) < 1:
            raise ConfigError("MAX_CONCURRENT_RUNS must be a whole number of at least 1")
        shortest = v.get("WATCH_MIN_INTERVAL_S", str(DEFAULT_WATCH_MIN_INTERVAL_S))
        if not shortest.isdigit() or int(shortest) < 1:
            raise ConfigError(f"WATCH_MIN_INTERVAL_S must be a whole number of seconds, at least 1, got {shortest!r}")
        return cls(
            site_url=_base_url("ATLASSIAN_SITE_URL", site, root=True) if site else None,
            api_url=_base_url("ATLASSIAN_API_URL", v.get("ATLASSIAN_API_URL", DEFAULT_API_URL)),
            status_url=_base_url("ATLASSIAN_STATUS_URL", v.get("ATLASSIAN_STATUS_URL", DEFAULT_STATUS_URL)),
            auth_url=_base_url("ATLASSIAN_AUTH_URL", v.get("ATLASSIAN_AUTH_URL", DEFAULT_AUTH_URL)),
            email=v.get("ATLASSIAN_EMAIL"),
            api_token=secret("ATLASSIAN_API_TOKEN"),
            org_api_key=secret("ATLASSIAN_ORG_API_KEY"),
            org_id=v.get("ATLASSIAN_ORG_ID"),
            slack_bot_token=secret("SLACK_BOT_TOKEN"),
            slack_signing_secret=secret("SLACK_SIGNING_SECRET"),
            slack_app_token=secret("SLACK_APP_TOKEN"),
            slack_api_url=_base_url("SLACK_API_URL", v.get("SLACK_API_URL", DEFAULT_SLACK_API_URL)) + "/",
            port=port,
            database_path=_database_path(v.get("DATABASE_PATH"), places, dotenv_dir),
            database_url=secret("DATABASE_URL"),
            allowed_slack_users=_ids(v.get("ALLOWED_SLACK_USERS")),
            allowed_slack_channels=_ids(v.get("ALLOWED_SLACK_CHANNELS")),
            support_channel=v.get("SUPPORT_CHANNEL"),
            log_level=_log_level(v.get("LOG_LEVEL")),
            max_concurrent_runs=int(concurrent),
            watch_min_interval_s=int(shortest),
        )

    def require(self, *names: str) -> None:
        """Raise ConfigError naming every listed setting that is unset."""
        attr = {f.name.upper(): f.name for f in fields(self)}
        alias = {"ATLASSIAN_SITE_URL": "site_url", "ATLASSIAN_EMAIL": "email",
                 "ATLASSIAN_API_TOKEN": "api_token", "ATLASSIAN_ORG_API_KEY": "org_api_key"}
        missing = [n for n in names if getattr(self, alias.get(n) or attr.get(n, n.lower()), None) in (None, "")]
        if missing:
            raise ConfigError(f"missing setting: {', '.join(missing)} (set it in the environment or in .env, "
                              f"here or in {config_dir()}; `confluence-check config` shows what is read)")

    def secrets(self) -> list[str]:
        """Every configured secret value, for redaction and canary tests."""
        vals = [self.api_token, self.org_api_key, self.slack_bot_token, self.slack_signing_secret,
                self.slack_app_token]
        found = [s.reveal() for s in vals if s is not None]
        if self.database_url is not None:  # only its password is secret; the rest names the server
            password = urlsplit(self.database_url.reveal()).password
            found += [password] if password else []
        return found

    @property
    def has_inspector(self) -> bool:
        return bool(self.email and self.api_token)


def read_dotenv(path: Path | None) -> dict[str, str]:
    """The non-empty values of a `.env` file (none when there is no file)."""
    if path is None or not path.is_file():
        return {}
    return {k: v for k, v in dotenv_values(path).items() if v and v.strip()}


@dataclass(frozen=True)
class SettingState:
    """One setting as `confluence-check config` shows it: a secret's value is never kept here."""

    name: str
    shown: str  # the value (the caller redacts it before showing); "set" for a secret; "unset"
    source: str | None  # "environment", ".env", or None when unset


def setting_states(dotenv: Path | None, environ: Mapping[str, str] | None = None) -> list[SettingState]:
    """Every known setting: its value (a secret only as "set"), and where it was read from."""
    env = os.environ if environ is None else environ
    from_file = read_dotenv(dotenv)
    states = []
    for name in SETTING_HELP:
        in_env = env.get(name, "").strip()
        value = in_env or from_file.get(name, "").strip()
        source = "environment" if in_env else ".env" if value else None
        default = _defaults(env).get(name)
        shown = ("set" if name in _SECRETS else value) if value else \
            f"unset (default {default})" if default else "unset"
        states.append(SettingState(name, shown, source))
    return states


def _defaults(env: Mapping[str, str]) -> dict[str, str]:
    """What an unset setting amounts to, as `config` shows it."""
    return {"ATLASSIAN_API_URL": DEFAULT_API_URL, "ATLASSIAN_STATUS_URL": DEFAULT_STATUS_URL,
            "SLACK_API_URL": DEFAULT_SLACK_API_URL, "PORT": "3000", "DATABASE_PATH": default_database_path(env),
            "LOG_LEVEL": LogLevel.INFO.value, "MAX_CONCURRENT_RUNS": str(DEFAULT_MAX_CONCURRENT_RUNS)}


def home_dir(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    return Path(env.get("HOME") or Path.home())


def color_wanted(stream: object, environ: Mapping[str, str] | None = None) -> bool:
    """ANSI colour for a terminal, unless NO_COLOR is set (https://no-color.org)."""
    env = os.environ if environ is None else environ
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and not env.get("NO_COLOR")
