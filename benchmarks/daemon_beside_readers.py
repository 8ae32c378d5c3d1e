"""Readers beside `tracker run`: how long a read-only open waits, and how fast the daemon loads.

Starts the daemon on a temporary warehouse with a simulated X source releasing posts in
steps, runs a reader that opens the warehouse read-only and counts posts in a loop, and prints
the reader's wait times and the daemon's load throughput. No network.

    .venv/bin/python benchmarks/daemon_beside_readers.py [--seconds 30] [--posts 20000]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tracker.store.db import connect  # noqa: E402

CONFIG = """
[warehouse]
path = "wh/tracker.duckdb"
[daemon]
jitter = "0s"
batch_pages = 10
[[campaigns]]
name = "aleppo"
hashtags = ["AleppoIsBurning"]
schedule = {{ interval = "2s" }}
[[campaigns.sources]]
type = "simulated"
platform = "x"
posts = {posts}
per_run = {per_run}
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--posts", type=int, default=20000)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    cfg = tmp / "tracker.toml"
    cfg.write_text(CONFIG.format(posts=args.posts, per_run=max(100, args.posts // 10)))
    env = dict(os.environ, TRACKER_MIN_INTERVAL="1")
    proc = subprocess.Popen([sys.executable, "-m", "tracker.cli", "--config", str(cfg), "run"],
                            stderr=subprocess.DEVNULL, env=env, cwd=ROOT)
    wh = tmp / "wh" / "tracker.duckdb"
    while not wh.exists():
        time.sleep(0.1)
    waits, failures, last = [], 0, 0
    t_end = time.monotonic() + args.seconds
    while time.monotonic() < t_end:
        t0 = time.perf_counter()
        try:
            con = connect(wh, read_only=True, wait=30)
        except Exception as exc:  # a failed read is what this measures
            failures += 1
            print("reader failed:", exc)
            continue
        waits.append(time.perf_counter() - t0)
        last = con.execute("select count(*) from norm.posts").fetchone()[0]
        con.close()
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(60)
    con = connect(wh, read_only=True, wait=30)
    posts, seconds = con.execute(
        "select sum(posts_new), epoch(max(ended_at) - min(started_at)) from ledger.runs"
    ).fetchone()
    con.close()
    waits.sort()
    print(f"reader opens: {len(waits)}, failures: {failures}, posts seen at the end: {last}")
    print(f"open wait ms: median {statistics.median(waits) * 1000:.0f}, "
          f"p95 {waits[int(len(waits) * 0.95)] * 1000:.0f}, max {waits[-1] * 1000:.0f}")
    print(f"daemon: {posts} posts stored in {seconds:.1f}s of runs "
          f"({posts / max(seconds, 1e-9):.0f} posts/s incl. waiting for the schedule); "
          f"exit code {code}")


if __name__ == "__main__":
    main()
