"""SIGKILL of `tracker import` and `tracker build` mid-way: a re-run equals a clean one."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.import_archive import write_archive
from tracker.store.db import connect

from ..import_helpers import make_config

pytestmark = pytest.mark.reliability

ROOT = Path(__file__).resolve().parents[2]
HARNESS = Path(__file__).with_name("kill_harness.py")
KEYS = {"norm.posts": "platform, post_id", "norm.authors": "platform, author_id",
        "norm.post_hashtags": "*", "norm.campaign_posts": "*", "raw.pages": "page_id"}


def tracker(config: Path, *args: str, kill_after: str | None = None, nth: int = 1,
            **env: str) -> subprocess.CompletedProcess | int:
    """Run the CLI through the harness; with kill_after, SIGKILL it once the nth marker that
    starts with kill_after appears and return how many markers were seen."""
    cmd = [sys.executable, str(HARNESS), "--config", str(config), *args]
    e = dict(os.environ, PYTHONPATH=str(ROOT), **env)
    if kill_after is None:
        return subprocess.run(cmd, capture_output=True, text=True, env=e, timeout=120)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, env=e)
    seen = 0
    for line in proc.stderr:
        if line.startswith(f"HARNESS {kill_after}"):
            seen += 1
            if seen == nth:
                proc.kill()
                break
    proc.wait(30)
    assert proc.returncode == -9, "the process ended before the kill point"
    return seen


def keys(config: Path, schemas: tuple[str, ...] | None = None) -> dict[str, tuple]:
    """Per table: (row count, distinct keys, content hash), read-only."""
    con = connect(config.parent / "wh" / "tracker.duckdb", read_only=True, wait=30)
    try:
        if schemas is None:
            tables = KEYS
        else:
            rows = con.execute(
                "select table_schema || '.' || table_name from information_schema.tables "
                "where table_schema in (select unnest(?)) and table_type = 'BASE TABLE'",
                [list(schemas)]).fetchall()
            tables = {t: "*" for (t,) in rows}
        out = {}
        for table, key in tables.items():
            cols = "t" if key == "*" else f"({key})"
            out[table] = con.execute(
                f"select count(*), count(distinct {cols}), "
                f"md5(coalesce(string_agg({cols}::varchar, '|' order by {cols}::varchar), '')) "
                f"from {table} t").fetchone()
        return out
    finally:
        con.close()


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("archive") / "aleppo.jsonl"
    write_archive(path, 6)
    return path


def project(tmp: Path, name: str) -> Path:
    (tmp / name).mkdir()
    return make_config(tmp / name).path


def test_sigkill_mid_import_then_reimport_equals_a_clean_import(tmp_path, archive):
    seed = int(os.environ.get("TRACKER_TEST_SEED", time.time_ns() % 100_000))
    clean = project(tmp_path, "clean")
    assert tracker(clean, "import", str(archive)).returncode == 0
    want = keys(clean)
    killed = project(tmp_path, "killed")
    nth = random.Random(seed).randint(1, 4)
    tracker(killed, "import", str(archive), kill_after="batch", nth=nth,
            HARNESS_BATCH_BYTES="1000000")
    partial = keys(killed)
    assert 0 <= partial["norm.posts"][0] < want["norm.posts"][0], f"seed {seed}"
    out = tracker(killed, "import", str(archive))
    assert out.returncode == 0, out.stderr
    got = keys(killed)
    assert got == want, f"seed {seed}"
    assert all(n == distinct for n, distinct, _ in got.values())     # no duplicates
    con = connect(killed.parent / "wh" / "tracker.duckdb", read_only=True)
    statuses = [s for (s,) in con.execute("select status from ledger.runs").fetchall()]
    con.close()
    assert sorted(statuses) == ["killed", "ok"]   # the killed run is not left 'running'


def test_sigkill_mid_build_leaves_the_previous_build_then_rebuild_equals_clean(
        tmp_path, archive):
    seed = int(os.environ.get("TRACKER_TEST_SEED", time.time_ns() % 100_000))
    first = project(tmp_path, "first")
    half = archive.parent / "half.jsonl"
    lines = archive.read_text(encoding="utf-8").splitlines(keepends=True)
    half.write_text("".join(lines[: len(lines) // 2]), encoding="utf-8")
    assert tracker(first, "import", str(half)).returncode == 0
    assert tracker(first, "build").returncode == 0
    assert tracker(first, "import", str(archive)).returncode == 0
    clean = project(tmp_path, "clean")
    shutil.copytree(first.parent / "wh", clean.parent / "wh")
    layers = ("core", "marts")
    before = keys(first, layers)
    assert tracker(clean, "build").returncode == 0
    want = keys(clean, layers)
    assert want != before                    # the second build has something to change
    nth = random.Random(seed).randint(1, 8)
    seen = tracker(first, "build", kill_after="model", nth=nth)
    assert seen == nth
    assert keys(first, layers) == before, f"seed {seed}: a reader saw a half-built set"
    assert tracker(first, "build").returncode == 0
    assert keys(first, layers) == want, f"seed {seed}"
