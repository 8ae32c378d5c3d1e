"""Readers beside the daemon: two processes query the warehouse in a loop while it collects.

`beside_readers(tmp, seconds)` starts `tracker run` (tests/daemon_harness.py) on a simulated
source releasing posts at a steady rate, runs two reader processes (this file as a script)
for `seconds`, lets collection finish, and returns the figures: reader queries and failures,
posts lost against an uninterrupted run, and the collection delay (a run's end of fetching
to its posts being readable), as seen by the readers.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

PER_RUN = 100          # posts per run, one run a second: ~100 posts/s sustained
QUERIES = ["select count(*) from norm.posts",
           "select platform, count(*) from norm.posts group by all",
           "select max(ended_at) from ledger.runs where kind = 'collect' and status = 'ok'",
           "select count(*) from norm.post_hashtags h join norm.posts p using (platform, "
           "post_id)"]


def read_loop(path: str, seconds: float) -> dict:
    """Query in a loop; every error is a failure; note when each run becomes readable."""
    from tracker.store.db import connect

    end = time.monotonic() + seconds
    n = failures = decreases = 0
    last, newest, delays, errors = -1, None, [], []
    while time.monotonic() < end:
        try:
            con = connect(path, read_only=True, wait=30, on_wait=lambda m: None)
            try:
                results = [con.execute(q).fetchall() for q in QUERIES]
            finally:
                con.close()
        except Exception as exc:  # what this measures
            failures += 1
            errors.append(str(exc)[:200])
            continue
        now = dt.datetime.now(dt.UTC)
        count, ended = results[0][0][0], results[2][0][0]
        decreases += count < last
        if ended is not None and ended != newest:
            if newest is not None:     # a run newly visible: how long since it was fetched
                delays.append((now - ended).total_seconds())
            newest = ended
        last, n = count, n + 1
        time.sleep(0.05)
    return {"queries": n * len(QUERIES), "failures": failures, "decreases": decreases,
            "delays": delays, "errors": errors[:3]}


def beside_readers(tmp: Path, seconds: float) -> dict:
    from ..test_daemon import ROOT, Daemon, done, env, reference, snapshot, wait_for, write

    x_posts = int(PER_RUN * seconds)
    cfg = write(tmp, x_posts=x_posts, x_per_run=PER_RUN, batch_pages=1)
    d = Daemon(cfg)
    try:
        wait_for(lambda: d.events("spool_loaded"), what="a first load")
        wh = str(tmp / "wh" / "tracker.duckdb")
        readers = [subprocess.Popen([sys.executable, __file__, wh, str(seconds)], env=env(),
                                    cwd=ROOT, stdout=subprocess.PIPE, text=True)
                   for _ in range(2)]
        results = [json.loads(r.communicate(timeout=seconds + 120)[0]) for r in readers]
        codes = [r.returncode for r in readers]
        wait_for(lambda: done(cfg, x_posts), timeout=120 + seconds,
                 what="collection to complete")
    finally:
        stop_code = d.stop()
    got, want = snapshot(cfg), reference(tmp, x_posts, x_per_run=PER_RUN)
    delays = sorted(x for r in results for x in r["delays"])
    return {
        "seconds": seconds, "readers": 2, "reader_exit_codes": codes,
        "reader_queries": sum(r["queries"] for r in results),
        "reader_failures": sum(r["failures"] for r in results),
        "reader_errors": [e for r in results for e in r["errors"]],
        "count_went_down": sum(r["decreases"] for r in results),
        "posts_expected": len(want[2]), "posts_lost": len(want[2] - got[2]),
        "posts_extra": len(got[2] - want[2]), "tables_equal": got[0] == want[0],
        "loads": len(d.events("spool_loaded")), "daemon_exit": stop_code,
        "delay_s": {"n": len(delays),
                    "median": round(statistics.median(delays), 2) if delays else None,
                    "p95": round(delays[int(len(delays) * 0.95)], 2) if delays else None,
                    "max": round(delays[-1], 2) if delays else None},
    }


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    print(json.dumps(read_loop(sys.argv[1], float(sys.argv[2]))))
