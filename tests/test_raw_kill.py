"""Kill-safety of the raw layer: an import killed (SIGKILL) in each phase of storing a batch's
payloads (segment being written, written but not renamed, renamed but not committed; the
file a batch's payloads are loaded through written) or before its final checkpoint, then
run again, ends with the same warehouse as one uninterrupted import, and no segment file is
left that no page references. On both warehouse backends (with a lake, the segments are in
`<data_path>/raw/`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tracker.store import segments

from .conftest import open_warehouse
from .import_helpers import make_config
from .test_import_kill import ROOT, archive, snapshot_of  # noqa: F401

DRIVER = textwrap.dedent("""
    import os, signal, sys
    from tracker.importers import run, storing
    from tracker.store import segments
    from tracker.cli import main
    run.BATCH_BYTES = 120_000
    kill_at, where = int(os.environ["KILL_AT"]), os.environ["KILL_WHERE"]
    calls = {}
    def killer(name, real):
        def wrapped(*a, **k):
            calls[name] = calls.get(name, 0) + 1
            if name == where and calls[name] == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
            return real(*a, **k)
        return wrapped
    segments.fsync_file = killer("fsync_file", segments.fsync_file)   # .tmp written
    segments.fsync_dir = killer("fsync_dir", segments.fsync_dir)      # renamed, not committed
    run.Importer._finish = killer("finish", run.Importer._finish)     # before the checkpoint
    storing._columns = killer("load", storing._columns)   # a batch's load file written
    sys.argv = ["tracker", "import", sys.argv[1]]
    main()
""")


def _config(cwd: Path, backend: str):
    """import_helpers' config (tests/test_import_kill.py's campaigns) on `backend`."""
    return make_config(cwd, backend=backend)


def _import(cwd: Path, archive: Path, kill_at: int = 0,  # noqa: F811
            where: str = "") -> int:
    env = dict(os.environ, KILL_AT=str(kill_at), KILL_WHERE=where, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", DRIVER, str(archive)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)
    return proc.returncode


def _snapshot(cfg) -> dict:
    """tests/test_import_kill.py's snapshot, of the config's warehouse."""
    con = open_warehouse(cfg, read_only=True)
    try:
        snap = snapshot_of(con)
        snap["segments used"] = {r[0] for r in con.execute(
            "select distinct segment from raw.page_index").fetchall()}
        snap["folder"] = segments.raw_dir(con)
        return snap
    finally:
        con.close()


@pytest.fixture(scope="module")
def clean(tmp_path_factory, archive):  # noqa: F811
    """One uninterrupted import per backend, made when a test first asks for it."""
    done: dict[str, dict] = {}

    def of(backend: str) -> dict:
        if backend not in done:
            cwd = tmp_path_factory.mktemp(f"clean-{backend}")
            cfg = _config(cwd, backend)
            assert _import(cwd, archive) == 0
            done[backend] = {k: v for k, v in _snapshot(cfg).items()
                             if k not in ("segments used", "folder")}
        return done[backend]
    return of


@pytest.mark.parametrize("kill_at,where", [(3, "fsync_file"), (4, "fsync_dir"),
                                           (1, "finish"), (3, "load")])
def test_killed_while_writing_segments(tmp_path, archive, clean, backend,  # noqa: F811
                                       kill_at, where):
    cfg = _config(tmp_path, backend)
    assert _import(tmp_path, archive, kill_at, where) == -signal.SIGKILL
    folder = cfg.lake.raw_dir if cfg.lake else Path(str(cfg.warehouse) + ".raw")
    left = {p.name for p in folder.iterdir()}
    if where == "fsync_file":
        assert any(n.endswith(".tmp") for n in left), left
    if where == "load":
        assert any(n.startswith("load-") and n.endswith(".tmp") for n in left), left
    assert _import(tmp_path, archive) == 0
    got = _snapshot(cfg)
    assert got["folder"] == folder
    want = clean(backend)
    assert {k: v for k, v in got.items() if k in want} == want
    assert {p.name for p in folder.iterdir()} == got["segments used"] | {segments.EMPTY}
