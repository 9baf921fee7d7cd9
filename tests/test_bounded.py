"""Everything from outside is bounded: a 1 GB answer, a gzip bomb, a trickling answer, JSON nested past
any parser, a cloudId that is not one, a `--body-file` that never ends. Each overrun is an `error` step
(or, for `--body-file`, a usage error) with the reason: never a crash, never exit 70, never the memory
of the machine. `check` and `rule` run as real processes; their peak RSS is the kernel's (wait4)."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest

from bot.atlassian.failures import ReadTimeout
from bot.atlassian.limits import MAX_ANSWER_BYTES, AnswerTooLarge, TooDeep, cloud_id_of, parse_json
from bot.atlassian.transport import AiohttpTransport
from bot.cli import main
from tests.fakes.hostile import hostile_server
from tests.test_exit_codes import cli_command, env_with

RSS_LIMIT_MB = 200
RULE = "019d0162-a338-7210-8481-960dff8f80ad"


def test_json_is_parsed_to_a_bounded_depth() -> None:
    assert parse_json("[" * 64 + "]" * 64) == parse_json("[" * 64 + "]" * 64)
    for depth in (65, 5000, 200_000):
        with pytest.raises(TooDeep):
            parse_json("[" * depth + "]" * depth)
    with pytest.raises(TooDeep):
        parse_json('{"a": ' * 70 + "1" + "}" * 70)


@pytest.mark.parametrize(("body", "expected"), [
    ({"cloudId": "a436116f-02ce-4520-8fbb-7301462a1674"}, "a436116f-02ce-4520-8fbb-7301462a1674"),
    ({"cloudId": "a436116f/admin/v1/orgs"}, None),
    ({"cloudId": "a436116f-02ce-4520-8fbb-7301462a1674/../x"}, None),
    ({"cloudId": ["a436116f-02ce-4520-8fbb-7301462a1674"]}, None),
    ({"cloudId": "a" * 4096}, None),
    ([], None),
])
def test_a_cloud_id_must_look_like_one(body: object, expected: str | None) -> None:
    assert cloud_id_of(body) == expected


async def _exchange(url: str, timeout: float = 5.0) -> bytes:
    transport = AiohttpTransport()
    try:
        answer = await transport.exchange("GET", f"{url}/_edge/tenant_info", {"Accept-Encoding": "gzip"}, None,
                                          timeout)
        return answer.content
    finally:
        await transport.aclose()


@pytest.mark.parametrize("kind", ["huge", "bomb"])
async def test_an_answer_is_read_up_to_the_cap_and_no_further(kind: str) -> None:
    with hostile_server(kind) as url:
        started = time.monotonic()
        with pytest.raises(AnswerTooLarge, match="larger than 4 MiB"):
            await _exchange(url)
        assert time.monotonic() - started < 5


async def test_a_trickling_answer_ends_within_the_request_timeout() -> None:
    with hostile_server("trickle") as url:
        started = time.monotonic()
        with pytest.raises(ReadTimeout):
            await _exchange(url, timeout=3.0)
        assert time.monotonic() - started < 4.5


async def test_a_compressed_answer_within_the_cap_is_read_whole(simulator) -> None:
    sim = await simulator("ok")
    content = await _exchange(sim.env()["ATLASSIAN_SITE_URL"])
    assert parse_json(content)["cloudId"] == "a436116f-02ce-4520-8fbb-7301462a1674"
    assert zlib.decompress(zlib.compress(b"x" * MAX_ANSWER_BYTES)) == b"x" * MAX_ANSWER_BYTES


@pytest.mark.parametrize("make", ["/dev/zero", "fifo", "folder", "big"])
def test_a_body_file_is_a_regular_file_of_at_most_1_mib(make: str, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "body"
    if make == "/dev/zero":
        path = Path("/dev/zero")
    elif make == "fifo":
        os.mkfifo(path)  # nobody ever writes to it
    elif make == "folder":
        path.mkdir()
    else:
        path.write_bytes(b"x" * ((1 << 20) + 1))
    monkeypatch.setenv("ATLASSIAN_SITE_URL", "https://acme.atlassian.net")
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    started = time.monotonic()
    assert main(["check", "sam@acme.com", "--body-file", str(path)]) == 64
    err = capsys.readouterr().err
    assert "--body-file" in err and ("not a regular file" in err or "larger than 1 MiB" in err)
    assert time.monotonic() - started < 5


def _hostile_env(url: str, tmp_path: Path) -> dict[str, str]:
    return env_with(ATLASSIAN_SITE_URL=url, ATLASSIAN_API_URL=url, ATLASSIAN_STATUS_URL=url,
                    ATLASSIAN_EMAIL="inspector@acme.com", ATLASSIAN_API_TOKEN="ATATT3xFfGF0-hostile-test-0001",
                    ATLASSIAN_ORG_API_KEY="ATCTT3xFfGN0-hostile-test-0002", DATABASE_PATH=str(tmp_path / "h.db"))


# Run the command from a small launcher and report the command's own peak RSS (getrusage of the launcher's
# children): a child forked straight from the test process would count the test process's own memory,
# which the kernel carries into the child's high-water mark at fork.
_LAUNCHER = ("import resource, subprocess, sys; code = subprocess.call(sys.argv[2:]); "
             "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)); "
             "sys.exit(code)")


def run_measured(args: list[str], env: dict[str, str], cwd: Path, timeout: float) -> tuple[int, str, float, float]:
    """Run the CLI; its exit status, its output, its wall time (s) and its peak RSS (MB, the kernel's)."""
    out, report = cwd / f"out-{time.monotonic_ns()}.txt", cwd / f"rss-{time.monotonic_ns()}.txt"
    with out.open("wb") as sink:
        started = time.monotonic()
        process = subprocess.Popen([sys.executable, "-c", _LAUNCHER, str(report), *map(str, cli_command(*args))],
                                   env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=sink,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise
        wall = time.monotonic() - started
    return code, out.read_text(errors="replace"), wall, int(report.read_text()) / 1024


@pytest.mark.parametrize("kind", ["huge", "bomb"])
@pytest.mark.parametrize("command", [["check", "sam@acme.com", "--status", "403"], ["rule", RULE]])
def test_check_and_rule_stay_small_against_a_1_gb_answer_or_a_gzip_bomb(kind: str, command: list[str],
                                                                        tmp_path: Path) -> None:
    with hostile_server(kind) as url:
        code, out, wall, rss = run_measured(command, _hostile_env(url, tmp_path), tmp_path, timeout=100)
    print(f"{kind} {command[0]}: exit {code}, {wall:.1f} s, peak RSS {rss:.0f} MB")
    assert code == 2, out  # inconclusive: nothing could be read, and nothing is concluded from that
    assert "larger than 4 MiB" in out and "internal error" not in out and "Traceback" not in out
    assert rss < RSS_LIMIT_MB and wall < 60


def test_check_and_rule_end_against_a_trickling_answer(tmp_path: Path) -> None:
    with hostile_server("trickle") as url:
        env = _hostile_env(url, tmp_path)
        started = time.monotonic()
        outs = {name: (tmp_path / name / "out.txt") for name in ("check", "rule")}
        processes = {}
        for name, args in (("check", ["check", "sam@acme.com"]), ("rule", ["rule", RULE])):
            outs[name].parent.mkdir()
            with outs[name].open("wb") as sink:
                processes[name] = subprocess.Popen(cli_command(*args), env=env, cwd=outs[name].parent,
                                                   stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT)
        try:
            codes = {name: p.wait(timeout=90) for name, p in processes.items()}
        finally:
            for p in processes.values():
                if p.poll() is None:
                    p.kill()
                    p.wait()
        wall = time.monotonic() - started
    print(f"trickle: check and rule together ended after {wall:.1f} s")
    for name, code in codes.items():
        out = outs[name].read_text()
        assert code == 2 and "internal error" not in out, out
    assert wall < 75  # rule: 45 s for the whole command; check: a run's 30 s after a 5 s reachability check


@pytest.mark.parametrize("command", [["check", "sam@acme.com"], ["rule", RULE]])
def test_json_nested_past_any_parser_is_unreadable_not_a_crash(command: list[str], tmp_path: Path) -> None:
    with hostile_server("deep") as url:
        code, out, _, _ = run_measured(command, _hostile_env(url, tmp_path), tmp_path, timeout=100)
    assert code == 2 and "internal error" not in out and "Traceback" not in out, out
    assert "cloudId could not be read" in out
