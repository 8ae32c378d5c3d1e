"""Kill-safety of the raw layer: an import killed (SIGKILL) in each phase of storing a batch's
payloads (segment being written, written but not renamed, renamed but not committed) or
before its final checkpoint, then run again, ends with the same warehouse as one
uninterrupted import, and no segment file is left that no page references."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tracker.store import segments

from .test_import_kill import ROOT, _import, _snapshot, archive, clean  # noqa: F401

DRIVER = textwrap.dedent("""
    import os, signal, sys
    from tracker.importers import run
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
    sys.argv = ["tracker", "import", sys.argv[1]]
    main()
""")


def _killed_import(cwd: Path, archive: Path, kill_at: int, where: str) -> int:  # noqa: F811
    env = dict(os.environ, KILL_AT=str(kill_at), KILL_WHERE=where, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", DRIVER, str(archive)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)
    return proc.returncode


@pytest.mark.parametrize("kill_at,where", [(3, "fsync_file"), (4, "fsync_dir"),
                                           (1, "finish")])
def test_killed_while_writing_segments(tmp_path, archive, clean, kill_at, where):  # noqa: F811
    from .import_helpers import make_config
    cfg = make_config(tmp_path)
    assert _killed_import(tmp_path, archive, kill_at, where) == -signal.SIGKILL
    folder = Path(str(cfg.warehouse) + ".raw")
    left = {p.name for p in folder.iterdir()}
    if where == "fsync_file":
        assert any(n.endswith(".tmp") for n in left), left
    assert _import(tmp_path, archive) == 0
    assert _snapshot(tmp_path) == clean
    from tracker.store.db import connect
    con = connect(cfg.warehouse, read_only=True)
    try:
        used = {r[0] for r in con.execute("select distinct segment from raw.page_index")
                .fetchall()}
    finally:
        con.close()
    assert {p.name for p in folder.iterdir()} == used | {segments.EMPTY}
