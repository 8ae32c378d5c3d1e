"""The messages the docs quote are the program's: every `Error: ...` quoted in README.md or
docs/*.md, and every message in docs/import.md's table of quarantine reasons, is produced by a
string in tracker/ (its fixed words, in order); the main ones are also run as a user meets
them and compared exactly."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import ROOT, write_config
from tracker.cli import cli

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_SPAN = re.compile(r"``\s?(.+?)\s?``|`([^`\n]+)`")
# three or more plain words in a row: the fixed part of a message that the code must contain
_WORDS = re.compile(r"[A-Za-z][A-Za-z'-]*(?: [A-Za-z][A-Za-z'-]*){2,}")


def code_spans(text: str) -> list[str]:
    return [a or b for a, b in _SPAN.findall(text)]


def quoted_messages() -> list[tuple[str, str]]:
    """(file, message): `Error: ...` spans anywhere, and the outcomes in import.md's table."""
    out = []
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        for span in code_spans(text):
            if span.startswith("Error: "):
                out.append((path.name, span.removeprefix("Error: ")))
        if path.name == "import.md":
            section = text.split("Bad records never stop an import", 1)[1].split("\n\n", 2)[1]
            for row in section.splitlines()[2:]:
                outcome = row.split("|")[2]
                out += [(path.name, s) for s in code_spans(outcome) if _WORDS.search(s)]
    return out


def _templates() -> list[tuple[re.Pattern[str], set[int]]]:
    """Every string literal in tracker/ as a pattern: f-string fields match anything; each
    piece is a group. With the pattern, the numbers of its groups that are fields."""
    pats = []
    for path in sorted((ROOT / "tracker").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            pieces: list[str | None] = []
            if isinstance(node, ast.JoinedStr):
                for v in node.values:
                    pieces.append(v.value if isinstance(v, ast.Constant) else None)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                pieces.append(node.value)
            fixed = [p for p in pieces if p]
            if sum(map(len, fixed)) < 8:
                continue
            pattern = "".join(f"({re.escape(p)})" if p is not None else "(.*?)"
                              for p in pieces)
            pats.append((re.compile(pattern, re.S),
                         {i + 1 for i, p in enumerate(pieces) if p is None}))
            # a quote may show a fixed piece alone (without the fields around it)
            pats += [(re.compile(f"({re.escape(core)})"), set()) for p in fixed
                     if len(core := p.strip(" :;,.()'\"")) >= 8 and core != p]
    return pats


TEMPLATES = _templates()


def explained(message: str) -> list[str]:
    """The runs of plain words in `message` that no string in the code produces: a run must
    be made of the code's fixed text, or of values its f-string fields put in (not only)."""
    fixed = [False] * len(message)
    field = [False] * len(message)
    for pat, fields in TEMPLATES:
        for m in pat.finditer(message):
            for g in range(1, (m.lastindex or 0) + 1):
                lo, hi = m.span(g)
                mark = field if g in fields else fixed
                mark[lo:hi] = [True] * (hi - lo)
    return [run.group() for run in _WORDS.finditer(message)
            if not any(fixed[run.start():run.end()])
            or not all(f or v for f, v in zip(fixed[run.start():run.end()],
                                               field[run.start():run.end()], strict=True))]


MESSAGES = quoted_messages()


def test_the_docs_quote_messages():
    files = {f for f, _ in MESSAGES}
    assert {"README.md", "import.md", "querying.md", "daemon.md"} <= files
    assert len(MESSAGES) >= 10


@pytest.mark.parametrize("where, message", MESSAGES)
def test_every_quoted_message_is_produced_by_the_code(where, message):
    unexplained = [run for part in message.split("...") for run in explained(part.strip())]
    assert not unexplained, f"{where}: no code produces {unexplained} in {message!r}"


def test_a_made_up_message_is_caught():
    assert explained("refused: COPY statements are not allowed; tracker sql is read-only")
    assert explained("the warehouse exploded into tiny pieces")
    assert not explained("refused: COPY statements are not allowed; `tracker sql` is read-only "
                         "(SELECT and EXPLAIN only)")


# --- the quoted cases, run -----------------------------------------------------------------
def doc_text(name: str) -> str:
    return (ROOT / name).read_text(encoding="utf-8")


def test_readme_config_error_is_what_the_cli_prints(tmp_path):
    quoted = re.search(r"`(Error: tracker\.toml: [^`]+)`", doc_text("README.md")).group(1)
    path = write_config(tmp_path, '[[campaigns]]\nname = "a"\nhashtags = []\n')
    result = CliRunner().invoke(cli, ["--config", str(path), "collect"])
    assert result.output == quoted + "\n"


def test_querying_refusal_is_what_the_cli_prints(tmp_path):
    quoted = re.search(r"``(Error: refused: COPY .+?)``", doc_text("docs/querying.md")).group(1)
    db = tmp_path / "wh.duckdb"
    from tracker.store.db import connect
    connect(db).close()
    result = CliRunner().invoke(cli, ["sql", "--db", str(db), "copy raw.pages to 'x.csv'"])
    assert result.output == quoted + "\n"


def test_daemon_workers_error_is_what_the_cli_prints(tmp_path):
    quoted = re.search(r"`(Error: tracker\.toml: daemon\.workers: [^`]+)`",
                       doc_text("docs/daemon.md")).group(1)
    path = write_config(tmp_path, "[daemon]\nworkers = 0\n")
    result = CliRunner().invoke(cli, ["--config", str(path), "run"])
    assert result.output == quoted + "\n"


def test_import_truncated_line_reason_is_what_the_import_records(tmp_path):
    row = next(line for line in doc_text("docs/import.md").splitlines()
               if line.startswith("| a truncated line"))
    quoted = code_spans(row)[0]
    size = int(re.search(r"\((\d+) bytes\)", quoted).group(1))
    good = '{"data": [{"id": "1", "text": "#x hello", "author_id": "9"}]}'
    cut = ('{"data": [{"id": "2", "text": "#x an interrupted stream ends in the mid' + "x" * 99
           )[:size]
    for_file = Path(tmp_path / "cut.jsonl")
    for_file.write_text(good + "\n" + cut, encoding="utf-8")
    path = write_config(tmp_path, '[[campaigns]]\nname = "x"\nhashtags = ["x"]\n')
    result = CliRunner().invoke(cli, ["--config", str(path), "import", str(for_file)])
    assert result.exit_code == 0, result.output
    out = CliRunner().invoke(cli, ["--config", str(path), "quarantine"]).stdout
    assert out.splitlines()[0].startswith(f"{for_file}:2: {quoted}  [")
