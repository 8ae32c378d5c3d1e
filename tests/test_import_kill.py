"""Kill-safety: an import killed (SIGKILL) at any point and run again ends with the same
warehouse as one uninterrupted import, and no post is counted twice in the ledger."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from benchmarks.import_archive import write_archive
from tracker.store.db import connect

from .import_helpers import make_config

ROOT = Path(__file__).resolve().parent.parent
TABLES = ["norm.posts", "norm.authors", "norm.author_observations", "norm.post_hashtags",
          "norm.post_mentions", "norm.campaign_posts", "norm.engagement_observations"]

# Runs `tracker import` with small batches; with KILL_AT set, the process kills itself with
# SIGKILL in that batch: "inside" after its rows are written but before the commit, "after"
# just after the commit (before the next batch).
DRIVER = textwrap.dedent("""
    import os, signal, sys
    from tracker.importers import run, storing
    from tracker.cli import main
    run.BATCH_BYTES = 120_000
    kill_at, where = int(os.environ.get("KILL_AT", "0")), os.environ.get("KILL_WHERE")
    seen = [0]
    store_table, store = storing.store_batch_table, run.Importer._store
    def store_batch_table(*a, **k):
        seen[0] += 1
        result = store_table(*a, **k)
        if seen[0] == kill_at and where == "inside":
            os.kill(os.getpid(), signal.SIGKILL)
        return result
    def _store(self, *a, **k):
        result = store(self, *a, **k)
        if seen[0] == kill_at and where == "after":
            os.kill(os.getpid(), signal.SIGKILL)
        return result
    storing.store_batch_table, run.Importer._store = store_batch_table, _store
    sys.argv = ["tracker", "import", sys.argv[1]]
    main()
""")


def _import(cwd: Path, archive: Path, kill_at: int = 0, where: str = "") -> int:
    env = dict(os.environ, KILL_AT=str(kill_at), KILL_WHERE=where,
               PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", DRIVER, str(archive)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)
    return proc.returncode


def snapshot_of(con) -> dict:
    """What an import stored: the norm tables, the pages' provenance, the posts counted."""
    snap = {t: con.execute(f"select * from {t} order by all").fetchall() for t in TABLES}
    snap["raw.pages"] = con.execute(
        "select page_id, format, request, retrieved_at from raw.pages order by all"
    ).fetchall()
    snap["posts counted"] = con.execute(
        "select sum(posts_new) from ledger.runs where kind = 'import'").fetchone()[0]
    return snap


def _snapshot(cwd: Path) -> dict:
    con = connect(make_config(cwd).warehouse, read_only=True)
    try:
        return snapshot_of(con)
    finally:
        con.close()


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("archive") / "twarc2.jsonl"
    write_archive(path, 1.2)
    return path


@pytest.fixture(scope="module")
def clean(tmp_path_factory, archive) -> dict:
    cwd = tmp_path_factory.mktemp("clean")
    make_config(cwd)
    assert _import(cwd, archive) == 0
    return _snapshot(cwd)


@pytest.mark.parametrize("kill_at,where", [(1, "inside"), (3, "after"), (4, "inside")])
def test_killed_import_rerun_matches_clean_import(tmp_path, archive, clean, kill_at, where):
    make_config(tmp_path)
    assert _import(tmp_path, archive, kill_at, where) == -signal.SIGKILL
    assert _import(tmp_path, archive) == 0
    resumed = _snapshot(tmp_path)
    assert clean["norm.posts"], "the archive must hold posts"
    assert len(clean["raw.pages"]) > 5, "the archive must span several batches"
    for key, rows in clean.items():
        assert resumed[key] == rows, key
