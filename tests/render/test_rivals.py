"""Every surface shows the rivals a verdict ruled out (with what excluded each) and those it left open
(with what would decide them), and says in words what decided it; JSON carries them additively."""

from __future__ import annotations

import json
from dataclasses import replace

from bot.model import CauseCode, Open, RuledOut, Run, Verdict
from bot.render.markdown import format_markdown
from bot.render.text import format_verdict
from bot.slack.blocks import verdict_message
from tests.samples import sample_run

RULED = RuledOut(CauseCode.SCOPED_TOKEN_SITE_URL, "Not a scoped token: the gateway refused it as well, 403")
OPEN = Open(CauseCode.ACCOUNT_DEACTIVATED, "the admin API's account status (ATLASSIAN_ORG_API_KEY)")
SEEN = "The admin API lists no Confluence role for the account on acme.atlassian.net"


def _run() -> Run:
    run = sample_run(cause=CauseCode.NO_CONFLUENCE_ACCESS)
    assert run.verdict is not None
    run.verdict = replace(run.verdict, observed=(SEEN,), ruled_out=(RULED,), not_ruled_out=(OPEN,))
    return run


def test_the_terminal_names_the_rivals_and_verbose_says_why() -> None:
    text = format_verdict(_run(), color=False, verbose=False)
    assert "Ruled out:" in text and "Not ruled out: The account is deactivated" in text
    full = format_verdict(_run(), color=False, verbose=True)
    assert "A scoped API token is sent to the site URL" in full and "the gateway refused it as well, 403" in full
    assert "The account is deactivated" in full and "ATLASSIAN_ORG_API_KEY" in full


def test_the_markdown_bundle_lists_them() -> None:
    text = format_markdown(_run())
    assert "### Ruled out" in text and "the gateway refused it as well, 403" in text
    assert "### Not ruled out" in text and "would be decided by the admin API's account status" in text
    assert "### Decided by" in text and SEEN in text


def test_the_slack_verdict_lists_them() -> None:
    blocks = json.dumps(verdict_message(_run()))
    assert "*Ruled out*" in blocks and "the gateway refused it as well, 403" in blocks
    assert "*Not ruled out*" in blocks and "*Decided by*" in blocks


def test_json_carries_them_and_an_old_stored_run_reads_back_with_them_empty() -> None:
    doc = _run().to_dict()
    assert doc["verdict"]["ruled_out"] == [{"cause": "scoped_token_site_url", "by": RULED.by}]
    assert doc["verdict"]["not_ruled_out"] == [{"cause": "account_deactivated", "would_decide": OPEN.would_decide}]
    assert Run.from_dict(doc).verdict == _run().verdict
    old = {k: v for k, v in doc["verdict"].items() if k not in ("observed", "ruled_out", "not_ruled_out")}
    back = Verdict.from_dict(old)
    assert (back.observed, back.ruled_out, back.not_ruled_out) == ((), (), ())
