"""Readers beside `tracker run`: how long `tracker sql` waits while the daemon loads, rebuilds
the models and writes the reports.

Fills a warehouse with --posts synthetic posts (norm.* straight in SQL, as report_scale.py
does) and builds the models once. Then starts the daemon on it with a simulated X source
releasing new posts every 2 s, `[daemon] build` every --build seconds and `reports = true`
(unless --no-reports). Meanwhile:

- a reader opens the warehouse read-only exactly as `tracker sql` does (`store.db.connect`,
  waiting while it is locked), counts the posts and closes it, every 0.1 s: its open wait is
  the time `tracker sql` waits;
- every 3 s a real `tracker sql` process runs a count: its wall time, next to the same
  command's time before the daemon started.

Prints the waits (median, p95, max), the `tracker sql` times, each build's time holding the
warehouse for writing and time rendering reports, and the load average. No network.

    .venv/bin/python benchmarks/daemon_beside_readers.py --posts 100000 --seconds 120
    .venv/bin/python benchmarks/daemon_beside_readers.py --posts 1000000 --seconds 180
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.report_scale import fill  # noqa: E402
from tracker.config import load_config  # noqa: E402
from tracker.models import build  # noqa: E402
from tracker.store.db import connect  # noqa: E402

CONFIG = """
[warehouse]
path = "wh/tracker.duckdb"
[reports]
dir = "out"
[daemon]
jitter = "0s"
batch_pages = 10
build = {{ interval = "{build}s" }}
reports = {reports}
[[campaigns]]
name = "bench"
title = "#AleppoIsBurning (benchmark)"
hashtags = ["AleppoIsBurning", "حلب_تحترق"]
timezone = "Asia/Damascus"
start = 2016-04-22
end = 2016-05-05
schedule = {{ interval = "2s" }}
[[campaigns.sources]]
type = "simulated"
platform = "x"
posts = {new_posts}
per_run = {per_run}
"""
SQL = "select count(*) as posts from norm.posts"


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def summary(label: str, seconds: list[float]) -> str:
    if not seconds:
        return f"{label}: no samples"
    ms = [s * 1000 for s in seconds]
    return (f"{label}: n {len(ms)}, median {statistics.median(ms):.0f} ms, "
            f"p95 {pct(ms, 0.95):.0f} ms, max {max(ms):.0f} ms")


def tracker_sql(cfg: Path, env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "tracker.cli", "--config", str(cfg), "sql",
                          SQL, "--format", "csv"], capture_output=True, text=True, env=env,
                         cwd=ROOT, timeout=300)
    if out.returncode != 0:
        raise SystemExit(f"tracker sql failed: {out.stderr}")
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posts", type=int, default=100_000, help="posts in the warehouse "
                                                               "before the daemon starts")
    ap.add_argument("--new-posts", type=int, default=20_000, help="posts the simulated "
                                                                  "source releases")
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--build", type=int, default=20, help="build interval, seconds")
    ap.add_argument("--no-reports", action="store_true")
    args = ap.parse_args()
    base = Path(tempfile.mkdtemp(prefix="dbench-"))
    cfg_path = base / "tracker.toml"
    cfg_path.write_text(CONFIG.format(build=args.build,
                                      reports="false" if args.no_reports else "true",
                                      new_posts=args.new_posts,
                                      per_run=max(100, args.new_posts // 40)), encoding="utf-8")
    os.environ["TRACKER_MIN_INTERVAL"] = "1"      # a source every 2 s (a benchmark only)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    cfg = load_config(cfg_path)
    try:
        print(f"cpus {os.cpu_count()}, load average {os.getloadavg()[0]:.2f} at the start")
        t0 = time.perf_counter()
        con = connect(cfg.warehouse)
        fill(con, args.posts)
        t1 = time.perf_counter()
        build(con, cfg.campaigns)
        con.close()
        print(f"{args.posts:,} posts filled in {t1 - t0:.1f}s, models built in "
              f"{time.perf_counter() - t1:.1f}s")
        idle = [tracker_sql(cfg_path, env) for _ in range(3)]
        log_path = base / "daemon.log"
        with log_path.open("wb") as log_file:
            proc = subprocess.Popen([sys.executable, "-m", "tracker.cli", "--config",
                                     str(cfg_path), "run"], stderr=log_file,
                                    stdout=subprocess.DEVNULL, env=env, cwd=ROOT)
            waits, cli, last, loads = [], [], 0, []
            t_end = time.monotonic() + args.seconds

            def cli_loop() -> None:
                while time.monotonic() < t_end:
                    cli.append(tracker_sql(cfg_path, env))
                    time.sleep(3)

            runner = threading.Thread(target=cli_loop)
            runner.start()
            while time.monotonic() < t_end:
                t = time.perf_counter()
                con = connect(cfg.warehouse, read_only=True, wait=120)
                waits.append(time.perf_counter() - t)
                last = con.execute(SQL).fetchone()[0]
                con.close()
                loads.append(os.getloadavg()[0])
                time.sleep(0.1)
            runner.join()
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(120)
        events = [json.loads(x) for x in log_path.read_text().splitlines()
                  if x.startswith("{")]
        builds = [e for e in events if e.get("event") == "build_done"]
        loaded = sum(e.get("entries", 0) for e in events if e.get("event") == "spool_loaded")
        print(f"daemon: {len(builds)} builds, {loaded} spool entries loaded, posts seen at "
              f"the end {last:,}, exit code {code}")
        for b in builds:
            print(f"  build: warehouse open for writing {b.get('write_seconds', '?')}s, "
                  f"reports {b.get('report_seconds', '?')}s, total {b['seconds']}s")
        print(summary("reader open wait (= tracker sql's wait)", waits))
        print(summary("tracker sql wall time beside the daemon", cli))
        print(summary("tracker sql wall time before the daemon started", idle))
        print(f"load average (1 min) while measuring: median {statistics.median(loads):.2f}, "
              f"max {max(loads):.2f}")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
