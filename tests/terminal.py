"""A command run in a pseudo-terminal of a given size, and what that terminal shows at the end.

The screen model is the part of a VT100 that our output uses: printable characters with automatic
wrap at the right margin, carriage return, line feed, and `ESC [ K` (erase to the end of the row);
colour codes are dropped. A progress line longer than the terminal wraps into a second row, and
`\\r ESC [ K` then clears only the last one: the row above stays on screen, stale.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Mapping, Sequence

_CSI = re.compile(r"\x1b\[([0-9;?]*)([A-Za-z])")


def screen_rows(output: str, columns: int) -> list[str]:
    """The rows a terminal `columns` wide shows after `output` (all of them, scrolled ones included)."""
    rows: list[list[str]] = [[]]
    row, col, i = 0, 0, 0
    while i < len(output):
        match = _CSI.match(output, i)
        if match:
            if match.group(2) == "K":
                del rows[row][col:]
            i = match.end()
            continue
        char = output[i]
        i += 1
        if char == "\r":
            col = 0
        elif char == "\n":
            row, col = row + 1, 0
            while len(rows) <= row:
                rows.append([])
        elif char >= " ":
            if col >= columns:  # the cursor waited at the margin: this character starts a new row
                row, col = row + 1, 0
                while len(rows) <= row:
                    rows.append([])
            line = rows[row]
            line.extend(" " * (col - len(line)))
            if col < len(line):
                line[col] = char
            else:
                line.append(char)
            col += 1
    out = ["".join(r).rstrip() for r in rows]
    while out and not out[-1]:
        out.pop()
    return out


def run_in_terminal(args: Sequence[str], *, columns: int, rows: int = 50, env: Mapping[str, str],
                    cwd: str, timeout: float = 120) -> tuple[int, str]:
    """Run `python -m bot ARGS` with its output on a pseudo-terminal of that size; (exit status, output)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    attrs = termios.tcgetattr(slave)
    attrs[1] &= ~termios.ONLCR  # keep "\n" as the program wrote it
    termios.tcsetattr(slave, termios.TCSANOW, attrs)
    proc = subprocess.Popen([sys.executable, "-m", "bot", *args], stdin=subprocess.DEVNULL, stdout=slave,
                            stderr=slave, env=dict(env), cwd=cwd)
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the program ended and closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
            elif proc.poll() is not None:
                continue  # drain what is left, then EIO ends the loop
        code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        os.close(master)
    return code, b"".join(chunks).decode("utf-8", "replace")
