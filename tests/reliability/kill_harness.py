"""Run `tracker` with markers on stderr, so a test can SIGKILL it at a chosen point.

Usage: python tests/reliability/kill_harness.py --config FILE import|build ...

Environment:
  HARNESS_BATCH_BYTES=N  import in batches of N bytes (many commits from a small archive)
Writes to stderr, flushed: `HARNESS batch` after each import batch is stored (before its
commit), `HARNESS model <table>` after each model is materialised (inside the build's
transaction). Nothing else changes: the real CLI, importer and build run.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tracker.build import run as build_run  # noqa: E402
from tracker.importers import run, storing  # noqa: E402


def marked(fn, label):
    def wrapper(*args, **kwargs):
        out = fn(*args, **kwargs)
        sys.stderr.write(f"HARNESS {label(*args)}\n")
        sys.stderr.flush()
        return out
    return wrapper


if os.environ.get("HARNESS_BATCH_BYTES"):
    run.BATCH_BYTES = int(os.environ["HARNESS_BATCH_BYTES"])
storing.store_batch_table = marked(storing.store_batch_table, lambda *a: "batch")
build_run._materialise = marked(build_run._materialise, lambda ctx, m, *a: f"model {m.table}")

if __name__ == "__main__":
    from tracker.cli import main

    main()
