"""The repository is self-contained: nothing in it reads a file outside it, and a copy of it with
nothing beside it passes the tests that read the repository's own documents (the OpenAPI files in
`bot/openapi/`, the cause table in `docs/causes.md`, the README and the docs)."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOURCES = ("bot", "tests", "scripts")
# The tests that read files from the repository rather than from Python imports.
READERS = ("tests/test_causes.py", "tests/contract/test_openapi.py", "tests/test_docs.py",
           "tests/probes/test_readme_routes.py", "tests/slack/test_manifest.py")


def _python_files() -> Iterator[Path]:
    for folder in SOURCES:
        yield from (path for path in (REPO / folder).rglob("*.py")
                    if "__pycache__" not in path.parts and path != Path(__file__).resolve())  # not the patterns below


def _reaches_outside(path: Path, node: ast.AST) -> str | None:
    """`Path(__file__).parents[n]` above the repository, or a string naming a place outside it."""
    if (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) and node.value.attr == "parents"
            and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, int)):
        reached = path.parents[node.slice.value]
        return None if reached == REPO or REPO in reached.parents else f"parents[{node.slice.value}] is {reached}"
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        text = node.value
        if text.startswith("../") or "/shared/" in text or text.startswith("shared/"):
            return repr(text)
    return None


def test_no_code_or_test_reaches_outside_the_repository() -> None:
    found = []
    for path in _python_files():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (why := _reaches_outside(path, node)) is not None:
                found.append(f"{path.relative_to(REPO)}:{getattr(node, 'lineno', '?')}: {why}")
    assert not found, "\n".join(found)


def test_the_scan_sees_a_path_above_the_repository() -> None:
    probe = REPO / "tests" / "probe.py"
    tree = ast.parse('A = Path(__file__).parents[2] / "shared"\nB = "../shared/CAUSES.md"')
    assert [why for node in ast.walk(tree) if (why := _reaches_outside(probe, node))]


def _copy_of_the_repository(into: Path) -> Path:
    """The files a clone would hold (tracked and new, not ignored), copied into `into`."""
    listed = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            capture_output=True, timeout=60, check=False)
    copy = into / "confluence-check"
    if listed.returncode == 0:
        for name in filter(None, listed.stdout.decode().split("\0")):
            source = REPO / name
            if source.is_file():
                (copy / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, copy / name)
    else:  # not a git checkout (an unpacked archive): everything but the environment and caches
        shutil.copytree(REPO, copy, ignore=shutil.ignore_patterns(".venv", ".git", "__pycache__", "*.db"))
    return copy


def test_a_copy_with_nothing_beside_it_passes_the_tests_that_read_the_repository(tmp_path: Path) -> None:
    copy = _copy_of_the_repository(tmp_path)
    assert not any((folder / "shared").exists() for folder in copy.parents), "a shared/ folder is above the copy"
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST")}
    env["PYTHONPATH"] = str(copy)  # `bot` is the copy's, not the installed checkout's
    probe = subprocess.run([sys.executable, "-c", "import bot; print(bot.__file__)"], cwd=copy, env=env,
                           capture_output=True, text=True, timeout=60, check=True)
    assert Path(probe.stdout.strip()).is_relative_to(copy)
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *READERS],
                            cwd=copy, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "skipped" not in result.stdout


# --- Citations: code cites what a reader of the repository can open ----------------------------------

# Documents that live outside the repository (the authors' notes) and issue numbers of its tracker.
OUTSIDE = re.compile(r"\bFACTS\b|\bDESIGN\.md|\bAUTOMATION\.md|(?<!docs/)\bCAUSES\.md|\bSTYLE\.md|\.\./shared"
                     r"|\b[Ii]ssue #?\d+")
ATLASSIAN_DOC = REPO / "docs" / "atlassian.md"
CITATION = re.compile(r"docs/atlassian\.md ?(§ ?[0-9A-Z](?:[0-9A-Z.]*[0-9A-Z])?(?: A\d+[a-c]?)?)")


def test_nothing_in_the_package_cites_a_document_outside_the_repository() -> None:
    files = [path for path in (REPO / "bot").rglob("*") if path.suffix in (".py", ".md", ".yml", ".json")]
    found = [f"{path.relative_to(REPO)}:{number}: {line.strip()}" for path in files
             for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1) if OUTSIDE.search(line)]
    assert not found, "\n".join(found)


def test_the_outside_pattern_finds_the_citations_it_is_for() -> None:
    for cited in ("(FACTS §1.4)", "DESIGN.md, Security", "AUTOMATION.md §5", "see CAUSES.md", "issue 8", "STYLE.md"):
        assert OUTSIDE.search(cited), cited
    assert not OUTSIDE.search("docs/causes.md and docs/atlassian.md §1.4 (https://jira.atlassian.com/browse/AUTO-648)")


def _sections() -> set[str]:
    """The labels docs/atlassian.md defines: its headings and the labelled items of §A."""
    labels = set()
    for line in ATLASSIAN_DOC.read_text().splitlines():
        if match := re.match(r"#+ (§\S+(?: A\d+)?)", line):
            labels.add(match.group(1))
        for item in re.findall(r"^- (§A[0-9.]+)(?:–(§A[0-9.]+))?", line):
            labels.update(filter(None, item))
    return labels


def test_every_citation_of_the_atlassian_document_names_a_section_it_has() -> None:
    sections = _sections()
    assert {"§0.1", "§1.17", "§2.9", "§8 A11", "§A.5.4"} <= sections
    missing = []
    for path in _python_files():
        for cited in CITATION.findall(path.read_text()):
            label = re.sub(r"(A\d+)[a-c]$", r"\1", cited.replace("§ ", "§"))
            if label not in sections and label.split(" ")[0] not in sections:
                missing.append(f"{path.relative_to(REPO)}: {cited}")
    assert not missing, "\n".join(missing)
