from pathlib import Path

import pytest

from bot.config import Secret, Settings, color_wanted
from bot.errors import ConfigError


def test_environment_wins_over_dotenv_and_empty_means_unset(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("ATLASSIAN_SITE_URL=https://from-file.atlassian.net\nATLASSIAN_EMAIL=file@acme.com\n"
                      "ATLASSIAN_ORG_ID=org-from-file\n")
    settings = Settings.load({"ATLASSIAN_SITE_URL": "https://env.atlassian.net", "ATLASSIAN_ORG_ID": "  "},
                             dotenv)
    assert settings.site_url == "https://env.atlassian.net"
    assert settings.email == "file@acme.com"
    assert settings.org_id == "org-from-file"  # the empty env value did not erase the file's


def test_defaults() -> None:
    settings = Settings.load({})
    assert settings.api_url == "https://api.atlassian.com"
    assert settings.status_url == "https://confluence.status.atlassian.com"
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.port == 3000
    assert settings.database_path == str(Path.home() / ".local/share/confluence-check/history.db")
    assert settings.allowed_slack_users == frozenset()


def test_secret_is_masked_everywhere_but_reveal() -> None:
    s = Secret("tok-123456")
    assert "tok-123456" not in repr(s) and "tok-123456" not in str(s) and "tok-123456" not in f"{s}"
    assert s.reveal() == "tok-123456"
    settings = Settings.load({"ATLASSIAN_API_TOKEN": "tok-123456"})
    assert "tok-123456" not in repr(settings)


@pytest.mark.parametrize("name,value", [("ATLASSIAN_SITE_URL", "acme.atlassian.net"),
                                        ("ATLASSIAN_API_URL", "ftp://x"),
                                        ("ATLASSIAN_SITE_URL", "https://user:pw@acme.atlassian.net"),
                                        ("PORT", "eighty")])
def test_malformed_settings_name_the_setting(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.load({name: value})


def test_require_names_every_missing_setting() -> None:
    with pytest.raises(ConfigError) as err:
        Settings.load({}).require("ATLASSIAN_SITE_URL", "SLACK_BOT_TOKEN")
    assert "ATLASSIAN_SITE_URL" in str(err.value) and "SLACK_BOT_TOKEN" in str(err.value)
    Settings.load({"ATLASSIAN_SITE_URL": "https://a.atlassian.net"}).require("ATLASSIAN_SITE_URL")


def test_allow_lists_are_parsed() -> None:
    s = Settings.load({"ALLOWED_SLACK_USERS": "U1, U2,,", "ALLOWED_SLACK_CHANNELS": "C9"})
    assert s.allowed_slack_users == {"U1", "U2"} and s.allowed_slack_channels == {"C9"}


def test_color_only_on_a_tty_without_no_color() -> None:
    class Tty:
        def isatty(self) -> bool:
            return True

    assert color_wanted(Tty(), {}) is True
    assert color_wanted(Tty(), {"NO_COLOR": "1"}) is False
    assert color_wanted(object(), {}) is False


_PASTED = "8f2e71c0a9b34d5e6f708192a3b4c5d6"  # a signing secret: 32 hex digits, no credential shape


@pytest.mark.parametrize(("name", "value"), [
    ("PORT", _PASTED),
    ("PORT", "99999"),
    ("LOG_LEVEL", _PASTED),
    ("MAX_CONCURRENT_RUNS", _PASTED),
    ("ATLASSIAN_SITE_URL", _PASTED),
    ("ATLASSIAN_SITE_URL", f"https://acme.atlassian.net/{_PASTED}"),
    ("ATLASSIAN_SITE_URL", f"https://acme.atlassian.net:{_PASTED}"),
    ("ATLASSIAN_API_URL", f"https://api.atlassian.com/ {_PASTED}"),
    ("SLACK_API_URL", f"ftp://{_PASTED}"),
])
def test_a_configuration_error_names_the_setting_and_never_echoes_its_value(
        name: str, value: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ConfigError, match=name) as err:
        Settings.from_mapping({"ATLASSIAN_SITE_URL": "https://acme.atlassian.net", name: value})
    assert _PASTED not in str(err.value) and "99999" not in str(err.value)
    monkeypatch.setenv(name, value)
    from bot.cli import main

    assert main(["history"]) == 64  # settings are read before any command
    shown = capsys.readouterr()
    assert name in shown.err and _PASTED not in shown.out + shown.err
