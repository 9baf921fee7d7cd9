"""Slack text speaks Slack: buttons and the slash command's words, never a command-line option or
"run confluence-check show"; the private verdict's notification text is escaped once."""

from __future__ import annotations

import pytest

from bot.judge import HEADER_DECIDES, TABLE, URL_DECIDES
from bot.model import NotChecked, StepResult
from bot.needs import NEED_ACTION, NEED_REASON, Need
from bot.render.text import format_layer
from bot.render.words import Surface, cli_flags, reword
from bot.slack import blocks
from bot.slack.steps import final_message, steps_message
from tests.samples import sample_run
from tests.slack.helpers import texts_in

CLI_SENTENCE = "Replaying with the actor's token (--actor-token-stdin) tells which."


def _run_missing_everything():  # type: ignore[no-untyped-def]
    steps = [StepResult.skipped(f"layer{n}.{need.value}", f"Step needing {need.value}", NEED_REASON[need])
             for n, need in enumerate(Need)]
    steps.append(StepResult.skipped("replay.both", "Step needing two", "; ".join(
        [NEED_REASON[Need.ACTOR_TOKEN], NEED_REASON[Need.SPACE]])))
    return sample_run(steps=steps, explanation=CLI_SENTENCE, fix=[NEED_ACTION[n] for n in Need],
                      not_checked=[NotChecked(f"what {n.value}", NEED_REASON[n]) for n in Need])


def _all_text(message: dict) -> str:  # type: ignore[type-arg]
    return message["text"] + "\n" + "\n".join(texts_in(message["blocks"]))


@pytest.mark.parametrize("render", [final_message, steps_message, blocks.verdict_message,
                                    blocks.private_verdict_message])
def test_slack_text_names_no_cli_option(render) -> None:  # type: ignore[no-untyped-def]
    text = _all_text(render(_run_missing_everything()))
    assert cli_flags(text) == [], cli_flags(text)
    assert "confluence-check show" not in text


def test_what_would_decide_each_open_rival_names_no_cli_option_in_slack() -> None:
    """Every rival a verdict may leave open is shown with what would decide it, in Slack's words."""
    sentences = {r.would_decide for r in TABLE.values()} | {HEADER_DECIDES, URL_DECIDES}
    assert cli_flags(" ".join(sentences))  # the core's own words do carry options
    for sentence in sentences:
        assert cli_flags(reword(sentence, Surface.SLACK)) == [], sentence


def test_the_core_sentences_do_carry_options_so_the_test_above_can_fail() -> None:
    raw = " ".join([*NEED_REASON.values(), *NEED_ACTION.values(), CLI_SENTENCE])
    assert cli_flags(raw)


def test_slack_says_what_to_press_or_type() -> None:
    text = _all_text(final_message(_run_missing_everything()))
    assert "*Test with the actor's token*" in text and "`space:KEY`" in text and "`status:CODE`" in text


def test_the_terminal_keeps_its_options() -> None:
    run = _run_missing_everything()
    replay = [s for s in run.steps if s.id.startswith("layer2.")]
    assert "--actor-token-stdin" in format_layer(replay, color=False)


def test_the_private_verdicts_notification_text_is_escaped_once() -> None:
    run = sample_run(fix=["Send Authorization: Basic base64(a@acme.com:<api token>) & nothing else"])
    text = blocks.private_verdict_message(run)["text"]
    assert "&lt;api token&gt;) &amp; nothing else" in text
    assert "&amp;lt;" not in text and "&amp;gt;" not in text and "&amp;amp;" not in text
    assert text == blocks.verdict_message(run)["text"]
