"""A stream-grab import killed (SIGKILL) mid-tar, run again, resumes after the last member it
stored: the warehouse ends as after one uninterrupted import, no member is read twice and no
post is counted twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tracker.store.db import connect

from .grab_helpers import grab_tar
from .import_helpers import make_config

ROOT = Path(__file__).resolve().parent.parent
MINUTES = 6

# `tracker import` storing a batch at every member's end; with KILL_AT set, the process kills
# itself in that batch: "inside" after its rows are written but before the commit, "after"
# just after the commit (before the next member is read).
DRIVER = textwrap.dedent("""
    import os, signal, sys
    from tracker.importers import run, storing
    from tracker.cli import main
    run.MEMBER_FLUSH_BYTES = 0
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
    if __name__ == "__main__":
        sys.argv = ["tracker", "import", sys.argv[1]]
        main()
""")


def _import(cwd: Path, archive: Path, kill_at: int = 0, where: str = "") -> int:
    env = dict(os.environ, KILL_AT=str(kill_at), KILL_WHERE=where, PYTHONPATH=str(ROOT))
    driver = cwd / "driver.py"
    driver.write_text(DRIVER)
    proc = subprocess.run([sys.executable, str(driver), str(archive)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)
    return proc.returncode


def _snapshot(cwd: Path) -> dict:
    cfg = make_config(cwd)
    con = connect(cfg.warehouse, read_only=True)
    try:
        snap = {t: con.execute(f"select * from {t} order by all").fetchall()
                for t in ("norm.posts", "norm.post_hashtags", "norm.campaign_posts")}
        snap["raw.pages"] = con.execute(
            "select page_id, request from raw.pages order by all").fetchall()
        snap["posts counted"] = con.execute(
            "select sum(posts_new) from ledger.runs where kind = 'import'").fetchone()[0]
        snap["members"] = con.execute(
            "select member, records, lines, statuses, deletes, other, matched "
            "from ledger.import_members order by member").fetchall()
        return snap
    finally:
        con.close()


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    return grab_tar(tmp_path_factory.mktemp("grab") / "archiveteam-twitter-stream-2016-04.tar",
                    minutes=MINUTES)


@pytest.fixture(scope="module")
def clean(tmp_path_factory, archive) -> dict:
    cwd = tmp_path_factory.mktemp("clean")
    make_config(cwd)
    assert _import(cwd, archive) == 0
    return _snapshot(cwd)


@pytest.mark.parametrize("kill_at,where", [(2, "inside"), (3, "after")])
def test_killed_grab_import_resumes_after_last_stored_member(tmp_path, archive, clean,
                                                             kill_at, where):
    make_config(tmp_path)
    assert _import(tmp_path, archive, kill_at, where) == -signal.SIGKILL
    killed = _snapshot(tmp_path)
    stored = kill_at if where == "after" else kill_at - 1
    assert len(killed["members"]) == stored       # the members committed before the kill
    assert _import(tmp_path, archive) == 0
    resumed = _snapshot(tmp_path)
    assert len(clean["members"]) == MINUTES
    assert clean["norm.posts"]
    for key, rows in clean.items():
        assert resumed[key] == rows, key
