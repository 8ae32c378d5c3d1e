"""Every CLI command and option is documented: it has help text and the README or docs/ name it.

An option counts as documented for its command when a passage (a paragraph, one table row or
one line of a code block) names both the command and the option, e.g. the README row
`tracker status [--json] [--wait SECONDS]`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from tracker.cli import cli

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _walk(cmd: click.Command, path: str) -> Iterator[tuple[str, click.Command]]:
    yield path, cmd
    if isinstance(cmd, click.Group):
        for name, sub in sorted(cmd.commands.items()):
            yield from _walk(sub, f"{path} {name}")


COMMANDS = list(_walk(cli, "tracker"))
OPTIONS = [(path, cmd, opt) for path, cmd in COMMANDS for p in cmd.params
           if isinstance(p, click.Option) for opt in (*p.opts, *p.secondary_opts)]


def _passages() -> list[str]:
    out: list[str] = []
    for doc in DOCS:
        for block in re.split(r"\n\s*\n", doc.read_text(encoding="utf-8")):
            lines = block.strip().splitlines()
            if lines and (lines[0].startswith("|") or lines[0].startswith("```")):
                out.extend(lines)    # table rows and command lines stand alone
            else:
                out.append(block)
    return out


PASSAGES = _passages()


def _names(text: str, word: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text) is not None


def test_the_walk_finds_the_commands():
    names = {path for path, _ in COMMANDS}
    assert {"tracker", "tracker demo", "tracker sql", "tracker import", "tracker run"} <= names
    assert ("tracker sql", "--format") in {(path, opt) for path, _, opt in OPTIONS}


@pytest.mark.parametrize("path,cmd", COMMANDS, ids=[p for p, _ in COMMANDS])
def test_command_has_help_and_is_documented(path, cmd):
    assert (cmd.help or "").strip(), f"{path}: no help text (give the function a docstring)"
    assert any(_names(p, path) for p in PASSAGES), f"{path}: not named in README.md or docs/"


@pytest.mark.parametrize("path,cmd,opt", OPTIONS, ids=[f"{p} {o}" for p, _, o in OPTIONS])
def test_option_has_help_and_is_documented(path, cmd, opt):
    param = next(p for p in cmd.params if opt in (*p.opts, *p.secondary_opts))
    assert isinstance(param, click.Option) and (param.help or "").strip(), (
        f"{path} {opt}: no help text")
    assert any(_names(p, path) and _names(p, opt) for p in PASSAGES), (
        f"{path} {opt}: no passage of README.md or docs/ names both (add it to the command's "
        "row in the README's Commands table or to its page in docs/)")
