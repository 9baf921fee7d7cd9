"""Where settings and history live: `.env` here, else the user's config folder; the history in the
user's data folder (XDG); `confluence-check config` says which, and shows secrets only as set/unset."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import Settings, config_dir, data_dir, find_dotenv


def test_the_home_folder_is_the_tests_own() -> None:
    assert Path(os.environ["HOME"]).parent == Path.cwd()  # clean_environ: nothing real is touched


def test_dotenv_here_wins_over_the_users(tmp_path: Path) -> None:
    users = config_dir() / ".env"
    users.parent.mkdir(parents=True)
    users.write_text("ATLASSIAN_SITE_URL=https://users.atlassian.net\n")
    assert find_dotenv() == users
    assert Settings.load(dotenv_path=find_dotenv()).site_url == "https://users.atlassian.net"
    (tmp_path / ".env").write_text("ATLASSIAN_SITE_URL=https://here.atlassian.net\n")
    assert find_dotenv() == tmp_path / ".env"
    assert Settings.load(dotenv_path=find_dotenv()).site_url == "https://here.atlassian.net"


def test_xdg_folders_are_honoured(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path / "h"), "XDG_CONFIG_HOME": str(tmp_path / "cfg"), "XDG_DATA_HOME": str(tmp_path / "d")}
    assert config_dir(env) == tmp_path / "cfg" / "confluence-check"
    assert data_dir(env) == tmp_path / "d" / "confluence-check"
    relative = {"HOME": str(tmp_path / "h"), "XDG_DATA_HOME": "relative/ignored"}  # the spec: ignore relative
    assert data_dir(relative) == tmp_path / "h" / ".local/share/confluence-check"
    assert Settings.load(env).database_path == str(tmp_path / "d" / "confluence-check" / "history.db")


def test_a_relative_database_path_in_the_users_dotenv_is_beside_it(tmp_path: Path) -> None:
    users = config_dir() / ".env"
    users.parent.mkdir(parents=True)
    users.write_text("DATABASE_PATH=runs.db\n")
    assert Settings.load(dotenv_path=users).database_path == str(users.parent / "runs.db")
    assert Settings.load({"DATABASE_PATH": "~/x.db", "HOME": os.environ["HOME"]}).database_path \
        == str(Path(os.environ["HOME"]) / "x.db")


def test_history_from_another_folder_is_the_same_history(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The first-hour trap: from another folder the tool found no settings and an empty history."""
    users = config_dir() / ".env"
    users.parent.mkdir(parents=True)
    users.write_text("ATLASSIAN_SITE_URL=https://acme.atlassian.net\n")
    main(["config"])
    first = capsys.readouterr().out
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    main(["config"])
    assert capsys.readouterr().out == first
    assert f"Settings file: {users}" in first
    assert f"History: SQLite {data_dir() / 'history.db'}" in first


def test_config_shows_secrets_only_as_set(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("ATLASSIAN_API_TOKEN=ATATT-very-secret-1\nATLASSIAN_EMAIL=bot@acme.com\n")
    monkeypatch.setenv("DATABASE_URL", "postgresql://bot:pw-secret-2@db.internal:5432/cc")
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert "ATATT-very-secret-1" not in out and "pw-secret-2" not in out
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ")}
    assert lines["ATLASSIAN_API_TOKEN"].split()[1:] == ["set", "(.env)"]
    assert lines["ATLASSIAN_EMAIL"].split()[1:] == ["bot@acme.com", "(.env)"]
    assert lines["DATABASE_URL"].split()[1:] == ["set", "(environment)"]
    assert lines["SLACK_BOT_TOKEN"].split()[1:] == ["unset"]
    assert lines["PORT"].split()[1:] == ["unset", "(default", "3000)"]
    assert "History: PostgreSQL postgresql://bot:***@db.internal:5432/cc" in out


def test_config_still_answers_when_a_setting_is_broken(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / ".env").write_text("ATLASSIAN_SITE_URL=acme.atlassian.net\n")
    assert main(["config"]) == 64
    out = capsys.readouterr().out
    assert "ATLASSIAN_SITE_URL" in out.splitlines()[-1] and "Settings file:" in out


def test_missing_setting_says_where_settings_are_read(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "a@acme.com"]) == 64
    err = capsys.readouterr().err
    assert "ATLASSIAN_SITE_URL" in err and str(config_dir()) in err and "confluence-check config" in err
