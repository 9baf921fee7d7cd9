"""`confluence-check tokens`: the org-wide API-token sweep, through the real CLI against the
simulator over HTTP (the `token_sweep` world holds a token in every state, and an account whose
token list answers 500 every time)."""

from __future__ import annotations

import copy
import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.atlassian import RetryPolicy
from bot.cli import main
from bot.commands import simulator_in_thread
from bot.simulator import SimulatorServer, load_scenario
from bot.simulator.scenario import Scenario

FLAKY = "557058:7a1b2c3d-0000-4000-8000-000000000006"
CLOSED = "557058:7a1b2c3d-0000-4000-8000-000000000007"
EXPECTED_FLAGS = {
    "tok-insp-1": [], "tok-priya-1": [], "tok-svc-1": [],
    "tok-auto-old-1": ["expired"], "tok-auto-old-2": ["expired"],
    "tok-renew-1": ["expiring"], "tok-new-1": ["never_used"], "tok-old-1": ["unused"],
    "tok-leaver-1": ["account_inactive"],
}
FIELDS = {"account_id", "email", "account_status", "account_type", "token_id", "label", "created", "expires",
          "last_used", "flags"}


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """The failing account is retried as a sweep retries it, without the long waits."""
    monkeypatch.setattr("bot.tokens.SWEEP_RETRY", RetryPolicy(attempts=3, base_delay_s=0.01, jitter_s=0.0))


def _scenario(change: Any = None) -> Scenario:
    scenario = load_scenario("token_sweep")
    if change is not None:
        scenario = copy.deepcopy(scenario)
        change(scenario.world)
    return scenario


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Any]:
    """`with served(scenario) as sim`: the simulator running, the bot's settings pointing at it."""
    from contextlib import contextmanager

    @contextmanager
    def serve(scenario: Scenario) -> Iterator[SimulatorServer]:
        with simulator_in_thread(scenario) as sim:
            for key, value in {**sim.env(), "DATABASE_PATH": str(tmp_path / "h.db")}.items():
                monkeypatch.setenv(key, value)
            yield sim

    return serve


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["tokens", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_every_token_state_is_flagged_and_the_failing_account_makes_it_exit_2(served, capsys) -> None:
    with served(_scenario()) as sim:
        code, out, _ = _run(["--json"], capsys)
        log = list(sim.requests)
    doc = json.loads(out)
    assert code == 2
    assert set(doc) == {"schema", "org_id", "checked_accounts", "tokens", "not_checked"}
    assert doc["schema"] == "confluence-check/tokens@1" and doc["org_id"] == sim.state.org.id
    assert {t["token_id"]: t["flags"] for t in doc["tokens"]} == EXPECTED_FLAGS
    assert all(set(t) == FIELDS for t in doc["tokens"])
    # the flaky account is named, with why; the closed account (404) and the unmanaged one are not "unread"
    [unread] = doc["not_checked"]
    assert unread["account_id"] == FLAKY and "500" in unread["why"]
    assert doc["checked_accounts"] == 8  # 10 managed accounts listed, minus the flaky and the closed one
    service = next(t for t in doc["tokens"] if t["token_id"] == "tok-svc-1")
    assert service["account_type"] == "app"
    # the flaky list was asked for more than once (retried), the unmanaged account never
    asked = [r.path for r in log if r.path.endswith("/api-tokens")]
    assert asked.count(f"/users/{FLAKY}/manage/api-tokens") == 3
    assert not any("contractor" in p or "-000000000008" in p for p in asked)
    assert all(r.method == "GET" for r in log)


def test_exit_1_when_something_is_flagged_and_every_account_was_read(served, capsys) -> None:
    def heal(world: Any) -> None:
        world.faults.routes.clear()

    with served(_scenario(heal)):
        code, out, _ = _run([], capsys)
    assert code == 1
    assert "Expiring within 30 days" in out and "renewal-bot@acme.com" in out
    assert "Not read" not in out


def test_exit_0_when_nothing_is_flagged(served, capsys) -> None:
    def only_healthy(world: Any) -> None:
        world.faults.routes.clear()
        world.users = [u for u in world.users if u.email in ("inspector@acme.com", "priya.n@acme.com")]

    with served(_scenario(only_healthy)):
        code, out, _ = _run([], capsys)
    assert code == 0 and "Nothing to do" in out


def test_the_thresholds_are_the_options(served, capsys) -> None:
    def heal(world: Any) -> None:
        world.faults.routes.clear()

    with served(_scenario(heal)):
        code, out, _ = _run(["--json", "--expiring", "0", "--unused", "365"], capsys)
    flags = {t["token_id"]: t["flags"] for t in json.loads(out)["tokens"]}
    assert flags["tok-renew-1"] == [] and flags["tok-old-1"] == []  # 10 days left > 0; 200 days idle < 365
    assert flags["tok-auto-old-1"] == ["expired"] and code == 1


def test_csv_holds_the_same_rows_as_json_and_names_the_unread_on_stderr(served, capsys) -> None:
    with served(_scenario()):
        _, out_json, _ = _run(["--json"], capsys)
        code, out_csv, err = _run(["--csv"], capsys)
    rows = list(csv.DictReader(io.StringIO(out_csv)))
    expected = json.loads(out_json)["tokens"]
    assert code == 2
    assert [{**r, "flags": r["flags"].split(";") if r["flags"] else []} for r in rows] == [
        {k: ("" if v is None else v) for k, v in t.items()} for t in expected]
    assert FLAKY in err and "incomplete" in err


def test_no_secret_reaches_any_output_and_a_label_holding_one_is_masked(served, capsys) -> None:
    pasted = "ATATT3xFfGF0-pasted-into-a-label-0042"

    def leaky_label(world: Any) -> None:
        world.users[1].tokens[0].label = f"token: {pasted}"

    scenario = _scenario(leaky_label)
    secrets = [t.value for u in scenario.world.users for t in u.tokens] + scenario.world.org.api_keys + [pasted]
    with served(scenario):
        outputs = [_run(fmt, capsys) for fmt in ([], ["--json"], ["--csv"])]
    text = "\n".join(o + e for _, o, e in outputs)
    assert "priya.n@acme.com" in text
    assert not [s for s in secrets if s in text]


def test_a_cell_that_would_start_a_formula_is_made_inert(served, capsys) -> None:
    def formula(world: Any) -> None:
        world.faults.routes.clear()
        world.users[1].tokens[0].label = "=HYPERLINK(\"http://x\")"

    with served(_scenario(formula)):
        _, out, _ = _run(["--csv"], capsys)
    [row] = [r for r in csv.DictReader(io.StringIO(out)) if r["token_id"] == "tok-priya-1"]
    assert row["label"].startswith("'=")


@pytest.mark.parametrize("args", [["--expiring", "soon"], ["--unused", "-1"], ["--json", "--csv"]])
def test_bad_usage_is_64(args: list[str], capsys) -> None:
    code, out, err = _run(args, capsys)
    assert code == 64 and out == "" and "usage:" in err


def test_without_an_org_key_it_says_which_setting_and_exits_64(capsys, monkeypatch) -> None:
    monkeypatch.setenv("ATLASSIAN_API_URL", "http://127.0.0.1:9")
    code, out, err = _run([], capsys)
    assert code == 64 and out == "" and "ATLASSIAN_ORG_API_KEY" in err


def test_the_org_is_discovered_when_not_set_and_a_refused_key_is_64(served, capsys, monkeypatch) -> None:
    with served(_scenario()) as sim:
        monkeypatch.delenv("ATLASSIAN_ORG_ID", raising=False)
        code, out, _ = _run(["--json"], capsys)
        assert code == 2 and json.loads(out)["org_id"] == sim.state.org.id
        monkeypatch.setenv("ATLASSIAN_ORG_API_KEY", "not-the-key")
        code, out, err = _run([], capsys)
    assert code == 64 and out == "" and "ATLASSIAN_ORG_API_KEY" in err and "not-the-key" not in err


def test_a_progress_bar_counts_the_accounts_read_on_a_terminal() -> None:
    from bot.sweep_commands import ProgressBar
    from bot.tokens import Progress

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty, pipe = Tty(), io.StringIO()
    for stream in (tty, pipe):
        bar = ProgressBar(stream)
        bar.show(Progress(read=250, listed=900, total=1000))
        bar.clear()
    assert "250/1,000 accounts read" in tty.getvalue() and "#######" in tty.getvalue()
    assert pipe.getvalue() == ""


def test_an_escape_sequence_in_a_label_is_shown_never_obeyed(served, capsys) -> None:
    def escape(world: Any) -> None:
        world.faults.routes.clear()
        world.users[1].tokens[0].label = "ops\x1b[2J\u202ecleared"
        world.users[1].tokens[0].last_access = None  # flagged: shown in the table

    with served(_scenario(escape)):
        outputs = [_run(fmt, capsys)[1] for fmt in ([], ["--json"], ["--csv"])]
    for out in outputs:
        assert "\x1b" not in out and "\u202e" not in out
    assert "ops\\x1b[2J" in outputs[0]


def test_under_a_tight_rate_limit_every_account_is_still_read(served, capsys) -> None:
    """A bucket of 2 requests, 2 a second (the sweep starts at 4): it meets 429s, waits as the headers say,
    and reads on."""
    from bot.simulator.fault_model import KeyRateLimit

    def tight(world: Any) -> None:
        world.faults.routes.clear()
        world.faults.key_rate_limit = KeyRateLimit(per_second=2.0, burst=2)

    with served(_scenario(tight)) as sim:
        code, out, _ = _run(["--json"], capsys)
        statuses = [r.status for r in sim.requests]
    doc = json.loads(out)
    assert code == 1 and doc["not_checked"] == [] and doc["checked_accounts"] == 9
    assert 429 in statuses  # the limit was met, and nothing was lost to it
