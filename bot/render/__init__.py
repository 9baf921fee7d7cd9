"""One run, rendered for each surface: terminal text, Markdown support bundle, JSON.

Every renderer is a pure function of a `Run` (in progress or finished); callers print or post.
"""

from bot.redact import MASK
from bot.render.glyphs import MARKDOWN, MARKDOWN_PENDING, TERMINAL, TERMINAL_PENDING, Glyph
from bot.render.json import format_history_json, format_json
from bot.render.markdown import escape_cell, format_markdown, scrub
from bot.render.text import (
    format_account_history,
    format_history,
    format_layer,
    format_rule_heading,
    format_run,
    format_step,
    format_timeline,
    format_verdict,
)

__all__ = [
    "MARKDOWN",
    "MARKDOWN_PENDING",
    "MASK",
    "TERMINAL",
    "TERMINAL_PENDING",
    "Glyph",
    "escape_cell",
    "format_account_history",
    "format_history",
    "format_history_json",
    "format_json",
    "format_layer",
    "format_markdown",
    "format_rule_heading",
    "format_run",
    "format_step",
    "format_timeline",
    "format_verdict",
    "scrub",
]
