"""A calm terminal: readable logs on a terminal and JSON lines elsewhere (stdout carries only
data); `tracker sql` shows a screenful on a terminal and everything in files and pipes;
`tracker models` is one line per model; the import progress follows stored work."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys

import duckdb
import pytest
from click.testing import CliRunner

from tests.conftest import FIXTURES, ROOT, sim_toml, write_config
from tracker.cli import cli
from tracker.config import load_config
from tracker.importers import Importer
from tracker.importers.progress import progress_text
from tracker.models import CONFIG_TABLES, discover
from tracker.store.db import connect

TRACKER = [sys.executable, "-m", "tracker.cli"]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200", "TERM": "xterm"}
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def on_terminal(args: list[str], cwd, *, stdout_tty: bool = True, stderr_tty: bool = True
                ) -> tuple[str, str, int]:
    """Run `tracker ARGS` with stdout and/or stderr on a pseudo-terminal, as a user does."""
    master, slave = pty.openpty()
    out = slave if stdout_tty else subprocess.PIPE
    err = slave if stderr_tty else subprocess.PIPE
    proc = subprocess.Popen([*TRACKER, *args], cwd=cwd, env=ENV, stdout=out, stderr=err,
                            stdin=subprocess.DEVNULL)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    piped_out = proc.stdout.read().decode() if proc.stdout else ""
    piped_err = proc.stderr.read().decode() if proc.stderr else ""
    proc.wait(timeout=120)
    os.close(master)
    tty = ANSI.sub("", b"".join(chunks).decode().replace("\r\n", "\n"))
    return (tty if stdout_tty else piped_out), (tty if stderr_tty else piped_err), proc.returncode


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    base = tmp_path_factory.mktemp("term")
    path = write_config(base, sim_toml(x_posts=300, per_run=1000))
    assert CliRunner().invoke(cli, ["--config", str(path), "collect"]).exit_code == 0
    return base, path


# --- logs ---------------------------------------------------------------------------------
def test_logs_are_readable_on_a_terminal_and_json_lines_in_a_pipe(project, tmp_path):
    base, path = project
    conf = ["--config", str(path), "collect", "--source", "simulated-x"]
    _, err, code = on_terminal(conf, base, stdout_tty=False)
    assert code == 0
    assert "run finished" in err and "source=simulated-x" in err
    assert not any(line.lstrip().startswith("{") for line in err.splitlines()), err

    piped = subprocess.run([*TRACKER, *conf], cwd=base, env=ENV, capture_output=True, text=True)
    lines = piped.stderr.splitlines()
    assert lines and all(json.loads(line)["msg"] for line in lines)
    assert [json.loads(line)["event"] for line in lines] == ["run_started", "run_finished"]
    # stdout carries only the data: the run's one-line summary
    assert piped.stdout.splitlines() == [
        line for line in piped.stdout.splitlines() if line.startswith("aleppo/simulated-x: ")]

    # --log-format json on a terminal
    _, err, _ = on_terminal(["--log-format", "json", *conf], base, stdout_tty=False)
    assert json.loads(err.strip().splitlines()[-1])["event"] == "run_finished"


# --- sql ----------------------------------------------------------------------------------
QUERY = ("select post_id, length(text) as chars, length(text) / 7 as ratio "
         "from norm.posts order by post_id")


def expected_rows(path):
    con = duckdb.connect(str(load_config(path).warehouse), read_only=True)
    rows = con.execute(QUERY).fetchall()
    con.close()
    return rows


def test_sql_on_a_terminal_shows_50_rows_right_aligned_and_rounded(project):
    base, path = project
    rows = expected_rows(path)
    assert len(rows) > 60
    out, _, code = on_terminal(["--config", str(path), "sql", QUERY], base, stderr_tty=False)
    assert code == 0
    lines = out.rstrip("\n").split("\n")
    assert len(lines) == 2 + 50 + 1
    assert lines[-1] == (f"... {len(rows) - 50} more rows ({len(rows)} in all; --limit N shows "
                         "more, -o FILE or a pipe gets all)")
    width = len(lines[1].split()[1])
    for line, (post_id, chars, ratio) in zip(lines[2:52], rows, strict=False):
        cells = line.split()
        assert cells == [post_id, str(chars), f"{ratio:.2f}"]
        # numbers right-aligned: the count ends where its column's rule ends
        assert line.index(str(chars), len(post_id)) + len(str(chars)) == len(post_id) + 2 + width

    out, _, _ = on_terminal(["--config", str(path), "sql", "--limit", "3", QUERY], base,
                            stderr_tty=False)
    assert len(out.rstrip("\n").split("\n")) == 2 + 3 + 1


def test_sql_into_a_pipe_or_a_file_gets_every_row_unrounded(project, tmp_path):
    base, path = project
    rows = expected_rows(path)
    piped = subprocess.run([*TRACKER, "--config", str(path), "sql", QUERY], cwd=base, env=ENV,
                           capture_output=True, text=True)
    lines = piped.stdout.rstrip("\n").split("\n")
    assert len(lines) == 2 + len(rows) + 1 and lines[-1] == f"({len(rows)} rows)"
    assert [float(line.split()[2]) for line in lines[2:-1]] == [r[2] for r in rows]
    target = tmp_path / "all.csv"
    result = CliRunner().invoke(cli, ["--config", str(path), "sql", QUERY, "--format", "csv",
                                      "-o", str(target)])
    assert result.output == f"Wrote {len(rows)} rows to {target}\n"
    assert len(target.read_text(encoding="utf-8").splitlines()) == len(rows) + 1


# --- models -------------------------------------------------------------------------------
def test_models_lists_one_line_per_model_and_details_one(project):
    base, path = project
    result = CliRunner().invoke(cli, ["--config", str(path), "models"])
    assert result.exit_code == 0
    names = [line.split()[0] for line in result.stdout.splitlines()]
    want = list(CONFIG_TABLES) + [m.table for m in discover()]
    assert sorted(names) == sorted(want)
    assert result.stderr.startswith(f"({len(want)} models; ")
    detail = CliRunner().invoke(cli, ["--config", str(path), "models", "marts.volume_daily"])
    lines = detail.stdout.splitlines()
    assert lines[0] == "marts.volume_daily"
    assert any(line.split()[0] == "posts" for line in lines[2:])
    missing = CliRunner().invoke(cli, ["--config", str(path), "models", "nope"])
    assert missing.output == "Error: no model matches 'nope' (see `tracker models`)\n"


# --- import progress ----------------------------------------------------------------------
def test_import_progress_ends_with_the_work_and_counts_like_the_summary(tmp_path, monkeypatch):
    from tracker.importers import run as import_run

    monkeypatch.setattr(import_run, "BATCH_RECORDS", 2)     # several batches from a small file
    cfg = load_config(write_config(tmp_path, '[[campaigns]]\nname = "all"\nhashtags = ["x"]\n'))
    files = sorted((FIXTURES / "x_v2").glob("twarc2_*.jsonl"))
    total = sum(p.stat().st_size for p in files)
    seen = []

    def on_progress(s, t):
        seen.append((s.phase, s.bytes_stored, t, progress_text(s)))

    con = connect(cfg.warehouse)
    try:
        summary = Importer(con, cfg, on_progress=on_progress).run([str(p) for p in files])
    finally:
        con.close()
    assert len(seen) > 3
    stored = [b for phase, b, _, _ in seen]
    assert stored == sorted(stored) and stored[-1] == total
    # the bar is full only once every batch is stored; then the final write to disk
    importing = [b for phase, b, _, _ in seen if phase == "importing"]
    assert importing[-1] == total and importing.count(total) == 1
    assert seen[-1][0] == "writing to disk"
    assert {t for _, _, t, _ in seen} == {total}
    # its counts are the summary's, named as the summary names them
    assert seen[-1][3] == (f"{summary.posts_new:,} new posts, {summary.duplicates:,} duplicate "
                           f"posts, {summary.bad:,} bad records")
    assert f"{summary.posts_new} new posts, {summary.duplicates} duplicate posts" in summary.line()
