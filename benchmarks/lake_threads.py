"""DuckDB's worker threads (TRACKER_THREADS) against the default, side by side in one run.

For each backend (the DuckDB file, a lake on a SQLite catalog), a warehouse of --posts
simulated X posts, built once. Then --reps rounds; in each, for each thread setting in turn
(the one that goes first alternating): `tracker collect` of --per-run new posts, then, in a
fresh process with that setting, an incremental build on a writer connection and 5 reader
opens + a count (as `tracker sql` opens). Prints the medians per backend and setting, and
the ratio default / one thread. No network.

    .venv/bin/python benchmarks/lake_threads.py --posts 2000 --per-run 200 --reps 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from lake_readers import WAREHOUSE  # noqa: E402  (the same two warehouses)

LABEL = {"duckdb": "file", "ducklake": "lake"}
CONFIG = """
[[campaigns]]
name = "bench"
hashtags = ["AleppoIsBurning"]
[[campaigns.sources]]
type = "simulated"
platform = "x"
posts = 10000000
per_run = {per_run}
"""

# run in a child process, so that each setting gets its own DuckDB instance
TIMED = """
import json, sys, time
from tracker.config import load_config
from tracker.store.db import connect
from tracker import models
cfg = load_config(sys.argv[1])
t0 = time.perf_counter()
con = connect(cfg.warehouse, lake=cfg.lake)
models.build(con, cfg.campaigns)
con.close()
build = time.perf_counter() - t0
reads = []
for _ in range(5):
    t0 = time.perf_counter()
    con = connect(cfg.warehouse, lake=cfg.lake, read_only=True)
    con.execute("select count(*) from norm.posts").fetchone()
    con.close()
    reads.append(time.perf_counter() - t0)
print(json.dumps({"build": build, "read": sorted(reads)[2]}))
"""

SETTINGS = {"default": None, "1 thread": "1"}


def _env(threads: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "TRACKER_THREADS"}
    return {**env, "TRACKER_THREADS": threads} if threads else env


def tracker(cfg: Path, *args: str) -> None:
    subprocess.run([str(Path(sys.executable).parent / "tracker"), "--config", str(cfg), *args],
                   env=_env(None), check=True, capture_output=True)


def timed(cfg: Path, threads: str | None) -> dict:
    out = subprocess.run([sys.executable, "-c", TIMED, str(cfg)], env=_env(threads),
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posts", type=int, default=2000, help="posts stored before timing")
    ap.add_argument("--per-run", type=int, default=200, help="posts collected before a build")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--backends", default="duckdb,ducklake")
    args = ap.parse_args()
    print(f"cores {os.cpu_count()}, load {os.getloadavg()[0]:.1f}")
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            cfg = Path(tmp) / "tracker.toml"
            cfg.write_text(WAREHOUSE[backend] + CONFIG.format(per_run=args.posts),
                           encoding="utf-8")
            tracker(cfg, "collect")
            tracker(cfg, "build")
            cfg.write_text(WAREHOUSE[backend] + CONFIG.format(per_run=args.per_run),
                           encoding="utf-8")
            times: dict[str, list[dict]] = {name: [] for name in SETTINGS}
            for rep in range(args.reps):
                names = list(SETTINGS)
                for name in names if rep % 2 == 0 else reversed(names):
                    tracker(cfg, "collect")
                    times[name].append(timed(cfg, SETTINGS[name]))
            med = {name: {k: statistics.median(t[k] for t in ts) for k in ("build", "read")}
                   for name, ts in times.items()}
            for k, label in (("build", f"incremental build after {args.per_run} posts"),
                             ("read", "reader open + count")):
                d, one = med["default"][k], med["1 thread"][k]
                print(f"{LABEL[backend]}: {label}: default {d:.2f} s, 1 thread {one:.2f} s, "
                      f"default/1 thread {d / one:.2f}x")
            sys.stdout.flush()
    print(f"load at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
