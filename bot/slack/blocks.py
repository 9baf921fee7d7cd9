"""Slack Block Kit for runs: parent, live step list, verdict with buttons, history, App Home, help.

Pure functions of a `Run` (in progress or finished) and plain values; no network, no settings.
Each message is `{"text": fallback, "blocks": [...]}` (screen readers and notifications read
`text`, https://docs.slack.dev/reference/methods/chat.postMessage). Slack's limits
(https://docs.slack.dev/reference/block-kit/blocks) are enforced here and nowhere else: ≤50 blocks
(100 in views), section text ≤3000, header ≤150, button text ≤75, `text` ≤4000 (chat.update,
https://docs.slack.dev/reference/methods/chat.update), a total well under the ~13k characters that trip
`msg_blocks_too_long`, and a
new `block_id` per edit. Text people typed or Atlassian returned is escaped (`bot.slack.escape`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from bot.model import Outcome, Run, StepStatus
from bot.render import rivals
from bot.render.words import AUTH_WORDS, Surface, reword
from bot.slack.escape import clip, code_safe, escape
from bot.slack.ids import COMMAND, ActionId, BlockId, CallbackId, RunRef, block_id

Message = dict[str, Any]

MAX_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
SECTION_TEXT = 3000
CONTEXT_TEXT = 2000
HEADER_TEXT = 150
BUTTON_TEXT = 75
FALLBACK_TEXT = 4000  # chat.update rejects a longer `text` (msg_too_long)
MESSAGE_BUDGET = 10_000  # all block text of one message; msg_blocks_too_long trips near 13k
MODAL_TEXT = 24  # modal title, submit and close
TRUNCATED = "… (truncated)"
EVIDENCE_TRUNCATED = "\n… (truncated: Share with support sends all of it)"

SLACK_GLYPHS: Mapping[StepStatus, str] = MappingProxyType({
    StepStatus.PASS: ":white_check_mark:",
    StepStatus.WARN: ":warning:",
    StepStatus.FAIL: ":x:",
    StepStatus.SKIP: ":fast_forward:",
    StepStatus.ERROR: ":boom:",
})
PENDING_GLYPH = ":hourglass_flowing_sand:"
OUTCOME_GLYPHS: Mapping[Outcome, str] = MappingProxyType({
    Outcome.OK: ":large_green_circle:",
    Outcome.PROBLEM: ":red_circle:",
    Outcome.INCONCLUSIVE: ":large_yellow_circle:",
})
OUTCOME_LABELS: Mapping[Outcome, str] = MappingProxyType({
    Outcome.OK: "OK",  # the verdict title says what was found
    Outcome.PROBLEM: "Problem",
    Outcome.INCONCLUSIVE: "Inconclusive",
})
_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")
_SLACK_CHANNEL = re.compile(r"^[CGD][A-Z0-9]{2,}$")
_CHANNEL_FIX = {
    "not_in_channel": "I'm not a member of this channel. Invite me with `/invite {bot}` and run the "
                      "command again.",
    "channel_not_found": "I can't see this conversation (a private channel I'm not in, or a direct "
                         "message between people). Invite me with `/invite {bot}`, or run the command "
                         "in a channel I'm in or in my Messages tab.",
}


# --- run messages -------------------------------------------------------------------------------


def parent_message(run: Run, *, user: str | None = None, rev: int = 0, queued: int | None = None) -> Message:
    """The thread's parent: actor, site, run id, and the verdict at a glance once there is one
    (`queued`: the run waits its turn, that many runs ahead of it)."""
    head = f":mag: *confluence-check* · `{escape(run.actor)}` on {escape(run.site)}"
    rule = run.request.get("rule")
    if rule:
        head = _rule_head(rule) + f"\nas `{escape(run.actor)}` on {escape(run.site)}"
    context = [f"Run `{run.run_id}`"]
    if user:
        context.append(f"started by {_mention(user)}")
    if run.previous_run_id:
        context.append(f"re-run of `{run.previous_run_id}`")
    blocks = [
        _section(head, block_id(BlockId.PARENT, "head", rev)),
        _section(_glance(run, queued), block_id(BlockId.PARENT, "status", rev)),
        _context(context, block_id(BlockId.PARENT, "context", rev)),
    ]
    return _message(f"confluence-check: {run.actor} on {run.site} ({run.run_id}): {_glance_text(run, queued)}",
                    blocks)


def _rule_head(rule: Mapping[str, Any]) -> str:
    """The automation rule a run reads: name, scope, state, link, and which Send web request (no secret:
    the URL is masked and the header shown by email and kind only)."""
    if not rule.get("actions"):
        return f":mag: *confluence-check* · automation rule `{escape(str(rule.get('uuid') or '?'))}` (not readable)"
    name = escape(str(rule["name"]))
    link = f" · <{rule['link']}|open the rule>" if rule.get("link") else ""
    return (f":mag: *confluence-check* · automation rule *{name}* ({escape(str(rule['scope']))}, "
            f"{escape(str(rule['state']).lower())}){link}\n"
            f"Send web request #{rule['action']} of {rule['actions']}: `{escape(str(rule['method']))} "
            f"{escape(str(rule['url']))}` · {escape(str(rule['header']))}")


def verdict_message(run: Run, *, buttons: bool = True) -> Message:
    """The verdict reply: cause title, confidence, decisive evidence, the fix, then the buttons.

    :raises ValueError: for a run without a verdict.
    """
    verdict = run.verdict
    if verdict is None:
        raise ValueError("verdict_message needs a finished run")
    label = OUTCOME_LABELS[verdict.outcome]
    about = escape(_slack_words(verdict.explanation)) + "\n" if verdict.explanation else ""
    blocks = [
        _header(f"{label}: {verdict.title}", block_id(BlockId.VERDICT, "title")),
        _section(f"{about}*Cause* `{verdict.cause.value}` · *Confidence* {verdict.confidence.value}",
                 block_id(BlockId.VERDICT, "about")),
    ]
    if verdict.fix:
        fix = "\n".join(f"{n}. {escape(_slack_words(line))}" for n, line in enumerate(verdict.fix, 1))
        blocks.append(_section(f"*Fix*\n{fix}", block_id(BlockId.VERDICT, "fix")))
    evidence = _evidence_text(run)
    if evidence:
        blocks.append(_section(evidence, block_id(BlockId.VERDICT, "evidence")))
    blocks += _extras(run)
    blocks.append(_context(_run_facts(run), block_id(BlockId.VERDICT, "context")))
    if buttons:
        blocks.append(_verdict_actions(RunRef(run.run_id, run.actor)))
    return _message(_verdict_fallback(run), blocks)


def _verdict_fallback(run: Run) -> str:
    """The verdict's notification text, unescaped (`_message` escapes it, once)."""
    assert run.verdict is not None
    verdict = run.verdict
    fix_hint = f" Fix: {_slack_words(verdict.fix[0])}" if verdict.fix else ""
    return f"{OUTCOME_LABELS[verdict.outcome]}: {verdict.title} ({verdict.confidence.value}).{fix_hint}"


def _slack_words(text: str) -> str:
    """A sentence of the diagnosis in Slack's words: buttons and the command's words, no CLI options."""
    return reword(text, Surface.SLACK)


def interrupted_message(run: Run) -> Message:
    """Told in a thread whose run was cut short by a restart; offers Re-run and History."""
    text = (f":warning: Run `{run.run_id}` for `{escape(run.actor)}` was *interrupted by a restart* "
            "of the bot before it reached a verdict. Nothing was concluded; press Re-run to check again.")
    ref = RunRef(run.run_id, run.actor)
    actions = {"type": "actions", "block_id": block_id(BlockId.VERDICT_ACTIONS, "interrupted"),
               "elements": [_button("Re-run", ActionId.RERUN, ref, style="primary"),
                            _button("History", ActionId.HISTORY, ref)]}
    return _message(f"Run {run.run_id} was interrupted by a restart before a verdict.",
                    [_section(text, block_id(BlockId.NOTICE, "interrupted")), actions])


def cannot_post_message(run: Run, error: str, *, bot_user: str | None = None) -> Message:
    """Private: why the bot cannot post where the command ran, how to fix it, and that it still runs."""
    bot = _mention(bot_user) if bot_user else "@confluence-check"
    fix = _CHANNEL_FIX.get(error, "Slack refused my message here (`{error}`).").format(bot=bot, error=error)
    text = (f":no_entry: {fix}\nI'm still checking `{escape(run.actor)}` (run `{run.run_id}`); "
            "the verdict will come to you privately and is kept in history.")
    fallback = (f"I can't post in this conversation ({error}). Still checking {run.actor} "
                f"(run {run.run_id}); the verdict will come to you privately.")
    return _message(fallback, [_section(text, block_id(BlockId.NOTICE, "cannot_post"))])


def private_verdict_message(run: Run) -> Message:
    """The verdict sent privately when the bot could not post in the channel (no buttons)."""
    message = verdict_message(run, buttons=False)
    note = _context([f"Only you can see this · `{COMMAND} history {escape(run.actor)}` lists it again"],
                    block_id(BlockId.NOTICE, "private"))
    return _message(_verdict_fallback(run), [*message["blocks"], note])


def failed_message(error_id: str) -> Message:
    """Something broke on the bot's side; the error id finds the traceback in the log."""
    text = (f":boom: Something went wrong on my side (error id `{escape(error_id)}`). "
            "The details are in the bot's log under that id.")
    return _message(f"Something went wrong on my side (error id {error_id}).",
                    [_section(text, block_id(BlockId.NOTICE, "error"))])


# --- private replies, history, home, help --------------------------------------------------------


def notice_message(text: str) -> Message:
    """A one-line private notice; `text` is escaped."""
    return _message(text, [_section(escape(text), block_id(BlockId.NOTICE, "text"))])


def shared_message(run: Run, channel: str) -> Message:
    """Private: the run's bundle went to the support channel."""
    where = f"<#{channel}>" if _SLACK_CHANNEL.match(channel) else escape(channel)
    text = f":package: Shared run `{run.run_id}` for `{escape(run.actor)}` with support in {where}."
    return _message(f"Shared run {run.run_id} with support.", [_section(text, block_id(BlockId.NOTICE, "shared"))])


def refusal_message() -> Message:
    """Private: the user or channel is outside ALLOWED_SLACK_USERS / ALLOWED_SLACK_CHANNELS."""
    text = (":no_entry: You can't run confluence-check here. Ask the bot's admin to add your Slack "
            "user id to `ALLOWED_SLACK_USERS` or this channel's id to `ALLOWED_SLACK_CHANNELS`.")
    return _message("You can't run confluence-check here: ask the bot's admin to allow your user or "
                    "this channel.", [_section(text, block_id(BlockId.NOTICE, "refused"))])


def help_message(error: str | None = None) -> Message:
    """Usage, examples and what the buttons do; `error` (escaped) goes first when given."""
    lines = [
        f"*Usage* `{COMMAND} ACTOR [METHOD URL] [status:CODE] [space:KEY] [body: TEXT]`",
        "ACTOR is an email address or an Atlassian account id. The rest describes the failing call "
        "as you saw it; all of it is optional.",
        f"• `{COMMAND} automation@acme.com`",
        f"• `{COMMAND} automation@acme.com GET /wiki/rest/api/space/OPS status:403`",
        f"• `{COMMAND} rule 019d0162-a338-7210-8481-960dff8f80ad`: an automation rule's Send web request, "
        "as the rule sends it (its UUID, its URL or its exact name)",
        f"• `{COMMAND} tokens`: every API token of the organization, flagged before it breaks (a summary "
        "in a thread and the full list as a CSV file)",
        f"• `{COMMAND} compare automation@acme.com priya@acme.com`: a failing account and one that works, "
        "diagnosed side by side",
        f"• `{COMMAND} history automation@acme.com`: recent runs and their threads",
        f"• `{COMMAND} watch automation@acme.com every 6h`: check it every 6 hours and post here only when "
        "something changes (`watch list`, `watch remove ID`)",
        f"• `{COMMAND} help`: this message",
        "The verdict has buttons: *Re-run*, *Test with the actor's token* (a private form; the token "
        "is used once and never stored), *Share with support* and *History*.",
    ]
    blocks = [_section(f":warning: {escape(error)}", block_id(BlockId.HELP, "error"))] if error else []
    blocks.append(_section("\n".join(lines), block_id(BlockId.HELP, "usage")))
    fallback = f"{error} — " if error else ""
    return _message(f"{fallback}Usage: {COMMAND} ACTOR [METHOD URL] [status:CODE] [space:KEY]", blocks)


def history_message(actor: str, runs: Sequence[Run], links: Mapping[str, str]) -> Message:
    """The actor's recent runs with verdicts and thread links (`links`: run id → thread URL)."""
    head = f"*Recent runs for `{escape(actor)}`*"
    if not runs:
        return _message(f"No runs for {actor} yet.",
                        [_section(f"{head}\nNo runs yet.", block_id(BlockId.HISTORY, "empty"))])
    lines = _within([_history_line(run, links.get(run.run_id)) for run in runs], MESSAGE_BUDGET - 200)
    chunks = _chunks([head, *lines])
    blocks = [_section(chunk, block_id(BlockId.HISTORY, n)) for n, chunk in enumerate(chunks)]
    return _message(f"{len(runs)} recent runs for {actor}", blocks)


def home_view(latest: Sequence[Run], failing: Sequence[Run], links: Mapping[str, str],
              watches: Sequence[str] = ()) -> dict[str, Any]:
    """The App Home tab: accounts failing now, then each account's latest run, then the watches (one
    mrkdwn line each, escaped by the caller: `bot.slack.watches.watch_line`)."""
    half = MESSAGE_BUDGET // (3 if watches else 2) - 500  # each list gets its share, so none crowds out another
    failing_lines = _within([_history_line(run, links.get(run.run_id), with_actor=True) for run in failing], half)
    latest_lines = _within([_history_line(run, links.get(run.run_id), with_actor=True) for run in latest], half)
    blocks: list[dict[str, Any]] = [
        _header("confluence-check", block_id(BlockId.HOME, "title")),
        _section(f"Run `{COMMAND} ACTOR` in a channel to find out why an account gets 401/403 from "
                 f"Confluence. `{COMMAND} help` explains the rest.", block_id(BlockId.HOME, "intro")),
        _header("Accounts failing now", block_id(BlockId.HOME, "failing_title")),
        *_sections(failing_lines or ["None: no account's latest run found a problem."], BlockId.HOME, "failing"),
        {"type": "divider"},
        _header("Latest runs", block_id(BlockId.HOME, "latest_title")),
        *_sections(latest_lines or ["No runs yet."], BlockId.HOME, "latest"),
    ]
    if watches:
        blocks += [{"type": "divider"}, _header("Watches", block_id(BlockId.HOME, "watches_title")),
                   *_sections(_within(list(watches), half), BlockId.HOME, "watches")]
    return {"type": "home", "blocks": _fit(blocks, MAX_VIEW_BLOCKS)}


def home_refused_view() -> dict[str, Any]:
    """The App Home of someone outside ALLOWED_SLACK_USERS."""
    return {"type": "home", "blocks": [refusal_message()["blocks"][0]]}


def token_modal(ref: RunRef) -> dict[str, Any]:
    """The private form for the actor's credential: a token (API token, `email:token` or an OAuth 2.0
    access token), or a service account's client id and secret. Its metadata is the RunRef only."""
    intro = (f"Paste the API token of `{escape(ref.actor)}` to replay its failing call as that account "
             "(`email:token` when the token belongs to another address), or an OAuth 2.0 access token. For a "
             "service account's OAuth 2.0 credential, fill in its client id and secret instead: the secret "
             "goes only to Atlassian's token host. Whatever you paste is used once, in memory, for this "
             "run only: it is never shown, stored or logged.")
    return {
        "type": "modal",
        "callback_id": CallbackId.TOKEN_MODAL.value,
        "title": _plain("Test as the actor", MODAL_TEXT),
        "submit": _plain("Replay", MODAL_TEXT),
        "close": _plain("Cancel", MODAL_TEXT),
        "private_metadata": ref.encode(),
        "blocks": [
            _section(intro, block_id(BlockId.TOKEN_INPUT, "intro")),
            {"type": "input", "block_id": BlockId.TOKEN_INPUT.value, "label": _plain("API token", 2000),
             "element": {"type": "plain_text_input", "action_id": ActionId.TOKEN_INPUT.value,
                         "placeholder": _plain("ATATT… or an access token (eyJ…)", 150)}, "optional": True},
            {"type": "input", "block_id": BlockId.CLIENT_ID_INPUT.value, "optional": True,
             "label": _plain("OAuth 2.0 client id (service account)", 2000),
             "element": {"type": "plain_text_input", "action_id": ActionId.CLIENT_ID_INPUT.value}},
            {"type": "input", "block_id": BlockId.CLIENT_SECRET_INPUT.value, "optional": True,
             "label": _plain("OAuth 2.0 client secret", 2000),
             "element": {"type": "plain_text_input", "action_id": ActionId.CLIENT_SECRET_INPUT.value}},
        ],
    }


def share_message(run: Run, permalink: str | None, markdown: str) -> Message:
    """The support hand-off: a permalink to the thread and the redacted Markdown summary."""
    link = f"<{permalink}|the thread>" if permalink else "the thread (no link: I could not post it)"
    head = (f":package: Support bundle for `{escape(run.actor)}`, run `{run.run_id}`: {_glance(run)}\n"
            f"Conversation: {link}")
    body = clip(code_safe(markdown), MESSAGE_BUDGET - len(head), TRUNCATED)
    chunks = _chunks(body.splitlines(), SECTION_TEXT - 8)[: MAX_BLOCKS - 1]
    blocks = [_section(head, block_id(BlockId.SHARE, "head"))]
    blocks += [_section(f"```{chunk}```", block_id(BlockId.SHARE, n)) for n, chunk in enumerate(chunks)]
    return _message(f"Support bundle for {run.actor} ({run.run_id}): {permalink or ''}", blocks)


# --- pieces ---------------------------------------------------------------------------------------


def _glance(run: Run, queued: int | None = None) -> str:
    if run.verdict is not None:
        outcome = run.verdict.outcome
        title = clip(escape(run.verdict.title), HEADER_TEXT)
        return (f"{OUTCOME_GLYPHS[outcome]} *{OUTCOME_LABELS[outcome]}: {title}* "
                f"({run.verdict.confidence.value})")
    if run.interrupted:
        return ":warning: *Interrupted* by a restart before a verdict."
    if queued is not None:
        return (f"{PENDING_GLYPH} Queued ({queued} ahead): other checks are running; this one starts "
                "when one of them ends.")
    return f"{PENDING_GLYPH} Running… the verdict and the steps will follow in this thread."


def _glance_text(run: Run, queued: int | None = None) -> str:
    if run.verdict is not None:
        return f"{OUTCOME_LABELS[run.verdict.outcome]}: {run.verdict.title} ({run.verdict.confidence.value})"
    if run.interrupted:
        return "interrupted"
    return f"queued ({queued} ahead)" if queued is not None else "running"


def _evidence_text(run: Run) -> str:
    assert run.verdict is not None
    steps = [s for s in (run.step(i) for i in run.verdict.decided_by) if s is not None]
    lines: list[str] = []
    for step in steps:
        lines.append(f"{step.title}: {step.status.value} — {_slack_words(step.summary)}")
        for ev in step.evidence:
            status = ev.status if ev.status is not None else "no response"
            auth = f" ({AUTH_WORDS.get(ev.auth, 'as ' + ev.auth)})" if ev.auth != "none" else ""
            lines.append(f"  {ev.request} → {status}{auth}")
            lines += [f"    {' '.join(text.split())}" for text in (ev.excerpt, ev.note) if text]
    if not lines:
        return ""
    head, marker = "*Decisive evidence*\n```", EVIDENCE_TRUNCATED.format(run_id=run.run_id)
    body = clip(code_safe("\n".join(lines)), SECTION_TEXT - len(head) - 3, marker)
    return f"{head}{body}```"


def _extras(run: Run) -> list[dict[str, Any]]:
    assert run.verdict is not None
    others = [f for f in run.findings if f.cause is not run.verdict.cause]
    blocks = []
    for key, heading, items, more in rivals.sections(run.verdict):  # in words; the JSON lists every rival
        lines = [f"• {escape(_slack_words(item))}" for item in items] + ([f"(+{more} more)"] if more else [])
        blocks.append(_section(clip(f"*{heading}*\n" + "\n".join(lines), 1500, TRUNCATED),
                               block_id(BlockId.VERDICT, key)))
    if others:
        lines = [f"• {escape(f.title)} (`{f.cause.value}`, {f.confidence.value})" for f in others]
        blocks.append(_section(clip("*Other findings*\n" + "\n".join(lines), 1000, TRUNCATED),
                               block_id(BlockId.VERDICT, "findings")))
    if run.not_checked:
        lines = [f"• {escape(n.what)}: {escape(_slack_words(n.why))}" for n in run.not_checked]
        blocks.append(_section(clip("*Not checked*\n" + "\n".join(lines), 1500, TRUNCATED),
                               block_id(BlockId.VERDICT, "not_checked")))
    return blocks


def _run_facts(run: Run) -> list[str]:
    facts = [f"Run `{run.run_id}`"]
    if run.duration_ms is not None:
        facts.append(f"{run.duration_ms} ms")
    if run.request.get("actor_token_given"):
        facts.append("replayed with the actor's token")
    if run.previous_run_id:
        facts.append(f"re-run of `{run.previous_run_id}`")
    return facts


def _history_line(run: Run, link: str | None, *, with_actor: bool = False) -> str:
    when = run.started_at.strftime("%Y-%m-%d %H:%M")
    who = f"`{escape(run.actor)}` · " if with_actor else ""
    thread = f" · <{link}|thread>" if link else ""
    return f"{_glance(run)}\n        {who}{when} UTC · `{run.run_id}`{thread}"


def _verdict_actions(ref: RunRef) -> dict[str, Any]:
    return {"type": "actions", "block_id": block_id(BlockId.VERDICT_ACTIONS, ref.run_id),
            "elements": [
                _button("Re-run", ActionId.RERUN, ref, style="primary"),
                _button("Test with the actor's token", ActionId.TEST_WITH_TOKEN, ref),
                _button("Share with support", ActionId.SHARE, ref),
                _button("History", ActionId.HISTORY, ref),
            ]}


def _mention(user: str) -> str:
    return f"<@{user}>" if _SLACK_USER.match(user) else escape(user)


# --- Block Kit primitives, with the limits of https://docs.slack.dev/reference/block-kit/blocks ---


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": clip(text, limit), "emoji": True}


def _header(text: str, bid: str) -> dict[str, Any]:
    return {"type": "header", "block_id": bid, "text": _plain(text, HEADER_TEXT)}


def _section(mrkdwn: str, bid: str) -> dict[str, Any]:
    return {"type": "section", "block_id": bid,
            "text": {"type": "mrkdwn", "text": clip(mrkdwn, SECTION_TEXT, TRUNCATED)}}


def _context(items: Sequence[str], bid: str) -> dict[str, Any]:
    return {"type": "context", "block_id": bid,
            "elements": [{"type": "mrkdwn", "text": clip(" · ".join(items), CONTEXT_TEXT, TRUNCATED)}]}


def _button(label: str, action: ActionId, ref: RunRef, style: str | None = None) -> dict[str, Any]:
    button = {"type": "button", "action_id": action.value, "text": _plain(label, BUTTON_TEXT),
              "value": ref.encode()}
    if style:
        button["style"] = style
    return button


def _within(lines: Sequence[str], budget: int) -> list[str]:
    """The first lines that fit in `budget` characters, then how many were left out."""
    kept: list[str] = []
    for line in lines:
        if sum(len(k) + 1 for k in kept) + len(line) > budget:
            return [*kept, f"_… and {len(lines) - len(kept)} more_"]
        kept.append(line)
    return kept


def _sections(lines: Sequence[str], prefix: BlockId, part: str) -> list[dict[str, Any]]:
    return [_section(chunk, block_id(prefix, f"{part}.{n}")) for n, chunk in enumerate(_chunks(lines))]


def _chunks(lines: Sequence[str], limit: int = SECTION_TEXT) -> list[str]:
    """Lines packed into texts of at most `limit` characters (a longer line is clipped)."""
    chunks: list[str] = []
    current = ""
    for line in (clip(raw, limit, TRUNCATED) for raw in lines):
        if current and len(current) + 1 + len(line) > limit:
            chunks.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    return [*chunks, current] if current else chunks


def _message(text: str, blocks: list[dict[str, Any]]) -> Message:
    return {"text": clip(escape(text), FALLBACK_TEXT, TRUNCATED), "blocks": _fit(blocks)}


def _fit(blocks: list[dict[str, Any]], max_blocks: int = MAX_BLOCKS) -> list[dict[str, Any]]:
    """Blocks within the count and total-text limits: trailing text goes first, buttons stay."""
    kept: list[dict[str, Any]] = []
    used, dropped = 0, False
    for block in blocks:
        size = _text_size(block)
        if block["type"] != "actions" and (used + size > MESSAGE_BUDGET or len(kept) >= max_blocks - 2):
            dropped = True
            continue
        kept.append(block)
        used += size
    if dropped:
        at = len(kept) - 1 if kept and kept[-1]["type"] == "actions" else len(kept)
        kept.insert(at, _section(f"_{TRUNCATED}_", "truncated"))
    return kept


def _text_size(node: Any) -> int:
    if isinstance(node, dict):
        own = len(node["text"]) if isinstance(node.get("text"), str) else 0
        return own + sum(_text_size(v) for v in node.values() if isinstance(v, dict | list))
    if isinstance(node, list):
        return sum(_text_size(item) for item in node)
    return 0
