#!/usr/bin/env python3
"""Mutation check of the diagnosis core: does the suite notice when a rule changes?

Each mutant changes one thing in one file — a comparison flipped (== and !=, < and >=, is and is not,
in and not in), `and` swapped with `or`, a `not` dropped, a boolean or small number changed, a
confidence swapped for another, one row dropped from a table (a tuple, list, set or dict literal of two
or more entries) — in a copy of the repository, and the chosen tests run against that copy with a
timeout. A mutant the tests fail on is killed; one they pass is a survivor, printed with its place
so a test can be written that asserts the behaviour it breaks. Not part of CI: run it by hand.

    python scripts/mutate.py                       # bot/judge.py if present, else bot/causes.py + bot/probes
    python scripts/mutate.py bot/judge.py --max 150 --timeout 240
    python scripts/mutate.py --list                # the mutants only, nothing run
    python scripts/mutate.py --max 60 --seed 7     # a first pass with the fast judge tests, then the full list

A mutant runs the fast judge tests first (--first, in-process, no simulator: seconds); a mutant they
kill is killed by the suite (they are part of it), and only a mutant that survives them pays for the
whole list. --first with no paths turns the first pass off.

The score is killed / (killed + survived); mutants whose run timed out count as killed (the change
made the product hang, which a test noticed), and mutants that do not compile are skipped.
"""

from __future__ import annotations

import argparse
import ast
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# fastest killers first (-x stops at the first failure): a survivor pays for the whole list, the matrix last
TESTS = ["tests/test_judge.py", "tests/test_judge_mutants.py", "tests/test_causes.py", "tests/field",
         "tests/test_scenarios.py", "tests/test_engine.py", "tests/probes", "tests/test_confidence_rules.py",
         "tests/test_matrix.py"]
# the judge's own tests: observations in, verdict out, no HTTP (the first pass; `--first`)
FIRST = ["tests/test_judge.py", "tests/test_judge_mutants.py"]
COMPARE_SWAP: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Lt: ast.GtE, ast.GtE: ast.Lt, ast.Gt: ast.LtE, ast.LtE: ast.Gt,
    ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In,
}
CONFIDENCES = ("CONFIRMED", "LIKELY", "POSSIBLE")


@dataclass(frozen=True)
class Mutant:
    path: str  # relative to the repository
    line: int
    what: str
    source: str  # the whole mutated file

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}"


def _segment_replace(text: str, node: ast.AST, replacement: str) -> str:
    lines = text.splitlines(keepends=True)
    start = sum(len(line) for line in lines[: node.lineno - 1]) + _byte_col(lines[node.lineno - 1], node.col_offset)
    end_line = node.end_lineno or node.lineno
    end = sum(len(line) for line in lines[: end_line - 1]) + _byte_col(lines[end_line - 1], node.end_col_offset or 0)
    return text[:start] + replacement + text[end:]


def _byte_col(line: str, col: int) -> int:
    """ast offsets count UTF-8 bytes; the text is indexed by characters."""
    return len(line.encode("utf-8")[:col].decode("utf-8", errors="ignore"))


def _variants(node: ast.AST) -> Iterator[tuple[str, ast.AST]]:
    """(description, replacement node) for each mutation of this one node."""
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in COMPARE_SWAP:
        new = ast.Compare(node.left, [COMPARE_SWAP[type(node.ops[0])]()], node.comparators)
        yield f"{type(node.ops[0]).__name__} -> {type(new.ops[0]).__name__}", new
    elif isinstance(node, ast.BoolOp):
        other = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        yield f"{type(node.op).__name__} -> {type(other).__name__}", ast.BoolOp(other, node.values)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        yield "drop not", node.operand
    elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
        yield f"{node.value} -> {not node.value}", ast.Constant(not node.value)
    elif isinstance(node, ast.Constant) and type(node.value) is int and 0 <= node.value <= 1000:
        yield f"{node.value} -> {node.value + 1}", ast.Constant(node.value + 1)
    elif isinstance(node, ast.Attribute) and node.attr in CONFIDENCES and isinstance(node.value, ast.Name) \
            and node.value.id == "Confidence":
        for other in CONFIDENCES:
            if other != node.attr:
                yield f"Confidence.{node.attr} -> {other}", ast.Attribute(node.value, other, ast.Load())
    elif isinstance(node, ast.Tuple | ast.List | ast.Set) and len(node.elts) >= 2:
        for index in range(len(node.elts)):
            rest = node.elts[:index] + node.elts[index + 1:]
            yield f"drop row {index + 1} of {len(node.elts)}", type(node)(elts=rest, ctx=ast.Load()) \
                if not isinstance(node, ast.Set) else ast.Set(elts=rest)
    elif isinstance(node, ast.Dict) and len(node.keys) >= 2 and all(k is not None for k in node.keys):
        for index in range(len(node.keys)):
            yield (f"drop entry {index + 1} of {len(node.keys)}",
                   ast.Dict(keys=node.keys[:index] + node.keys[index + 1:],
                            values=node.values[:index] + node.values[index + 1:]))


def _tables(tree: ast.Module) -> set[int]:
    """The literals a row may be dropped from: module- and class-level tables (the value of an
    assignment there) and the literals directly inside them — not every tuple in the code."""
    found: set[int] = set()
    bodies = [tree.body, *(n.body for n in tree.body if isinstance(n, ast.ClassDef))]
    for body in bodies:
        for statement in body:
            value = statement.value if isinstance(statement, ast.Assign | ast.AnnAssign) else None
            if isinstance(value, ast.Call):  # e.g. frozenset({...}), dict(...), a table built by a call
                value = value.args[0] if value.args else None
            if isinstance(value, ast.Tuple | ast.List | ast.Set | ast.Dict):
                found.add(id(value))
                inner = value.values if isinstance(value, ast.Dict) else value.elts
                found |= {id(e) for e in inner if isinstance(e, ast.Tuple | ast.List | ast.Set | ast.Dict)}
    return found


def _prose(node: ast.AST) -> bool:
    """A table of text only (fix lines, placeholder defaults): dropping a row changes wording, not a rule."""
    leaves = [n for n in ast.walk(node) if not isinstance(n, ast.Tuple | ast.List | ast.Set | ast.Dict | ast.Load)]
    return bool(leaves) and all(isinstance(n, ast.Constant) and isinstance(n.value, str) for n in leaves)


def mutants(path: Path) -> list[Mutant]:
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text)
    docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                  if isinstance(n, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
                  and n.body and isinstance(n.body[0], ast.Expr)}
    annotations = {id(sub) for n in ast.walk(tree) if isinstance(n, ast.AnnAssign | ast.arg) and n.annotation
                   for sub in ast.walk(n.annotation)}
    annotations |= {id(sub) for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
                    and n.returns for sub in ast.walk(n.returns)}
    tables = _tables(tree)
    out = []
    rel = str(path.relative_to(REPO))
    for node in ast.walk(tree):
        if id(node) in docstrings or id(node) in annotations or not hasattr(node, "lineno"):
            continue
        if isinstance(node, ast.Tuple | ast.List | ast.Set | ast.Dict) and (id(node) not in tables or _prose(node)):
            continue
        for what, new in _variants(node):
            try:
                mutated = _segment_replace(text, node, ast.unparse(new))
                compile(mutated, rel, "exec")
            except (SyntaxError, ValueError):
                continue
            out.append(Mutant(rel, node.lineno, what, mutated))
    return out


def run_one(mutant: Mutant, tests: list[str], timeout: float, first: list[str] | None = None) -> str:
    """'killed', 'survived' or 'timeout', for one mutant in a fresh copy of the repository. With `first`,
    those tests run before the whole list: a mutant they kill is killed without running the rest."""
    with tempfile.TemporaryDirectory(prefix="mutant-") as tmp:
        copy = Path(tmp) / "repo"
        shutil.copytree(REPO, copy, ignore=shutil.ignore_patterns(".git", ".venv", "__pycache__", "*.db",
                                                                   ".mypy_cache", ".ruff_cache"))
        (copy / mutant.path).write_text(mutant.source, encoding="utf-8")
        env = {**os.environ, "PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1"}
        command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
                   "--timeout=60"]
        # a path not in this checkout (a test file not written yet) is left out, not counted as a kill
        stages = [[t for t in stage if (copy / t).exists()] for stage in ([first] if first else []) + [tests]]
        for stage in [s for s in stages if s]:
            try:
                done = subprocess.run([*command, *stage], cwd=copy, env=env, capture_output=True, timeout=timeout,
                                      check=False)
            except subprocess.TimeoutExpired:
                return "timeout"
            if done.returncode != 0:
                return "killed"
        return "survived"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*",
                        help="files to mutate (default: bot/judge.py, else bot/causes.py + bot/probes)")
    parser.add_argument("--tests", nargs="*", default=TESTS, help="test paths run per mutant")
    parser.add_argument("--first", nargs="*", default=FIRST,
                        help="fast tests run first; only a mutant they miss runs the whole list (none: off)")
    parser.add_argument("--max", type=int, default=0, help="run at most this many mutants, sampled evenly (0 = all)")
    parser.add_argument("--seed", type=int, default=13, help="sampling seed")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per mutant run")
    parser.add_argument("--list", action="store_true", help="list the mutants and stop")
    parser.add_argument("--lines", type=int, nargs="*", default=[],
                        help="only the mutants on these lines (to check a new test kills what it was written for)")
    parser.add_argument("--only", type=Path, default=None,
                        help="only the mutants a file lists, one 'LINE: WHAT' a line (a former run's survivors)")
    args = parser.parse_args(argv)
    default = [REPO / "bot/judge.py"] if (REPO / "bot/judge.py").is_file() \
        else [REPO / "bot/causes.py", *sorted((REPO / "bot/probes").glob("*.py"))]
    files = [REPO / f for f in args.files] or default
    wanted = set(args.only.read_text(encoding="utf-8").splitlines()) if args.only else None
    found = [m for f in files for m in mutants(f) if (not args.lines or m.line in args.lines)
             and (wanted is None or f"{m.line}: {m.what}" in wanted)]
    chosen = found
    if args.max and len(found) > args.max:
        chosen = sorted(random.Random(args.seed).sample(found, args.max), key=lambda m: (m.path, m.line))
    print(f"{len(found)} mutants in {len(files)} file(s); running {len(chosen)}", flush=True)
    if args.list:
        for mutant in chosen:
            print(mutant)
        return 0
    baseline = Mutant(str(files[0].relative_to(REPO)), 0, "none (the unchanged code)", files[0].read_text("utf-8"))
    if run_one(baseline, args.tests, args.timeout) != "survived":
        print("the chosen tests fail on the unchanged code: fix that first (no score without a green baseline)")
        return 1
    tally = {"killed": 0, "survived": 0, "timeout": 0}
    survivors = []
    started = time.monotonic()
    for number, mutant in enumerate(chosen, 1):
        result = run_one(mutant, args.tests, args.timeout, args.first)
        tally[result] += 1
        if result == "survived":
            survivors.append(mutant)
        print(f"[{number}/{len(chosen)}] {result:8} {mutant}", flush=True)
    killed = tally["killed"] + tally["timeout"]
    scored = killed + tally["survived"]
    print(f"\nkilled {killed}, survived {tally['survived']} (timeouts {tally['timeout']}) in "
          f"{time.monotonic() - started:.0f} s: score {100 * killed / max(scored, 1):.1f}%")
    for mutant in survivors:
        print(f"  survivor: {mutant}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
