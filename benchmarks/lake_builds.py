"""Builds on a lake as a daemon runs them: does each build cost more than the one before?

Collects a run of 200 simulated X posts (`tracker collect`, its own process), then times
`build` on a writer connection opened for it, as the daemon does, --builds times in a fresh
lake (SQLite catalog). With --compact-every K, `ducklake_merge_adjacent_files` runs after
every K-th build (what `tracker maintain` does first). Prints each round, then the first
and last builds and the average growth per build. No network.

    .venv/bin/python benchmarks/lake_builds.py --builds 15 [--compact-every 1]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from lake_readers import WAREHOUSE  # noqa: E402  (its lake on a SQLite catalog)
from spool_backlog import CONFIG as CAMPAIGN  # noqa: E402  (one simulated X source)

CONFIG = WAREHOUSE["ducklake"] + "[daemon]\nbatch_pages = 1\n" + CAMPAIGN + "per_run = 200\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--builds", type=int, default=15)
    ap.add_argument("--compact-every", type=int, default=0)
    args = ap.parse_args()
    os.environ["TRACKER_MIN_INTERVAL"] = "1"
    from tracker.config import load_config
    from tracker.models import build
    from tracker.store.db import connect

    tmp = Path(tempfile.mkdtemp(prefix="lake-builds-"))
    try:
        cfg_path = tmp / "tracker.toml"
        cfg_path.write_text(CONFIG.format(posts=200 * (args.builds + 1)), encoding="utf-8")
        cfg = load_config(cfg_path)
        tracker = str(Path(sys.executable).parent / "tracker")
        times = []
        for i in range(args.builds):
            t0 = time.perf_counter()
            subprocess.run([tracker, "--config", str(cfg_path), "collect"], check=True,
                           capture_output=True, cwd=tmp)
            t1 = time.perf_counter()
            con = connect(cfg.warehouse, lake=cfg.lake)
            try:
                t2 = time.perf_counter()
                build(con, cfg.campaigns)
                t3 = time.perf_counter()
                extra = ""
                if args.compact_every and (i + 1) % args.compact_every == 0:
                    con.execute("call ducklake_merge_adjacent_files('lake')").fetchall()
                    extra = f", compact {time.perf_counter() - t3:.2f} s"
                tables = con.execute("select count(*) from __ducklake_metadata_lake."
                                     "ducklake_table").fetchone()[0]
            finally:
                con.close()
            times.append(t3 - t2)
            print(f"round {i + 1:3d}: collect {t1 - t0:.2f} s, build {t3 - t2:.2f} s{extra}, "
                  f"tables in the catalog {tables}", flush=True)
        later = times[1:]   # the first build is a full one
        growth = statistics.linear_regression(range(len(later)), later).slope
        print(f"BUILDS first incremental {later[0]:.2f} s, last {later[-1]:.2f} s, median "
              f"{statistics.median(later):.2f} s, growth {growth * 1000:.0f} ms a build "
              "(least squares)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
