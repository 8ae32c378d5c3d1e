"""Readers beside the daemon, file against lake (issue #18 item 2), side by side in one run.

For each backend in turn: `tracker run` collects from a simulated X source (--per-run posts a
run, a run every --interval seconds: 1 by default, a test-only setting; 10 is the product's
shortest; batches of one page) and builds the models every 10 s, while
- 3 reader processes each open the warehouse read-only as `tracker sql` does, run a count,
  and close it, every 100 ms;
- 1 reader process opens it once and keeps that connection for the whole run, querying
  every second (a notebook left open).

`--backends` also takes `ducklake-entrywise` (and `duckdb-entrywise`): the same daemon with
the loader storing each spooled entry in its own transaction, as before backlogs were loaded a
run at a time (`GROUP_ENTRIES = 1` in tracker/daemon/loader.py), for a side-by-side run, and
`ducklake-threads1` (and `duckdb-threads1`): the daemon and the readers with TRACKER_THREADS=1
(DuckDB on one worker thread, store/db.py), and `ducklake-nowait`: builds that start at once
instead of waiting for the collection runs under way (before `await_runs` in
tracker/daemon/build.py). Variants combine with `+`: `ducklake-threads1+nowait`.

`--polling N` sets the number of polling readers (0: only the holding one), `--polling-hold`
makes them keep one connection each (a dashboard), `--build-interval 0` runs no builds, and
`--logs DIR` keeps each daemon's JSON log (loads, builds and their seconds).

Prints per backend: reader queries, failures, latency (open + query, median / p95 / max), the
delay from a collection run's end to its posts being visible to the readers (median / p95 /
max), posts stored at the end against posts released, and the load average. No network.

    .venv/bin/python benchmarks/lake_readers.py --seconds 120 [--per-run 100] [--interval 1]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
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

PER_RUN = 100
WAREHOUSE = {
    "duckdb": '[warehouse]\npath = "wh/tracker.duckdb"\n',
    "ducklake": ('[warehouse]\nbackend = "ducklake"\npath = "wh/writer.duckdb"\n'
                 'catalog = "sqlite:wh/lake.sqlite"\ndata_path = "wh/lake"\n'),
}
CONFIG = """
[reports]
dir = "out"
[daemon]
jitter = "0s"
batch_pages = 1
{build}[[campaigns]]
name = "bench"
hashtags = ["AleppoIsBurning"]
schedule = {{ interval = "{interval}s" }}
[[campaigns.sources]]
type = "simulated"
platform = "x"
posts = {posts}
per_run = {per_run}
"""
QUERY = ("select (select count(*) from norm.posts), (select max(ended_at) from ledger.runs "
         "where kind = 'collect' and status = 'ok')")


def reader(cfg_path: str, seconds: float, every: float, hold: bool) -> dict:
    """One reader process: query every `every` s; with `hold`, on one connection."""
    from tracker.config import load_config
    from tracker.store.db import connect

    cfg = load_config(cfg_path)

    def open_():
        return connect(cfg.warehouse, lake=cfg.lake, read_only=True, wait=30,
                       on_wait=lambda m: None)

    end = time.monotonic() + seconds
    held = None
    latencies: list[float] = []
    delays: list[float] = []
    failures, errors, newest = 0, [], None
    while time.monotonic() < end:
        t0 = time.monotonic()
        try:
            if hold and held is None:
                held = open_()
            con = held or open_()
            try:
                count, ended = con.execute(QUERY).fetchone()
            finally:
                if not hold:
                    con.close()
        except Exception as exc:  # what this measures
            failures += 1
            errors.append(str(exc).splitlines()[0][:160])
            time.sleep(every)
            continue
        latencies.append(time.monotonic() - t0)
        if ended is not None and ended != newest:
            if newest is not None:
                delays.append((dt.datetime.now(dt.UTC) - ended).total_seconds())
            newest = ended
        time.sleep(max(0.0, every - (time.monotonic() - t0)))
    if held is not None:
        held.close()
    return {"latencies": latencies, "delays": delays, "failures": failures,
            "errors": errors[:3]}


def stats(xs: list[float]) -> str:
    if not xs:
        return "-"
    xs = sorted(xs)
    p95 = xs[int(len(xs) * 0.95)]
    return (f"median {statistics.median(xs) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
            f"max {xs[-1] * 1000:.0f} ms")


def stats_s(xs: list[float]) -> str:
    if not xs:
        return "- (no run became visible while the readers ran)"
    xs = sorted(xs)
    return (f"median {statistics.median(xs):.1f} s, p95 {xs[int(len(xs) * 0.95)]:.1f} s, "
            f"max {xs[-1]:.1f} s (n={len(xs)})")


# Variants of the daemon, run as `python -c PATCH... MAIN`: one transaction per spooled entry
# (the loader before grouped loading), and builds that do not wait for the collection runs
# under way (before tracker/daemon/build.py `await_runs`).
PATCHES = {
    "entrywise": "import tracker.daemon.loader as loader; loader.GROUP_ENTRIES = 1; ",
    "nowait": "import tracker.daemon.build as build; build.RUNS_WAIT = build.SETTLE = 0; ",
}
MAIN = "import sys; from tracker.cli import main; sys.argv[0] = 'tracker'; main()"


def run_backend(variant: str, seconds: float, per_run: int = PER_RUN,
                interval: int = 1, logs: Path | None = None, polling: int = 3,
                build: int = 10, polling_hold: bool = False) -> dict:
    backend, _, how_ = variant.partition("-")
    how = set(how_.split("+"))
    env = {**os.environ, "TRACKER_MIN_INTERVAL": "1"}
    if "threads1" in how:
        env["TRACKER_THREADS"] = "1"
    posts = int(per_run * seconds / interval)
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "tracker.toml"
        cfg.write_text(WAREHOUSE[backend] + CONFIG.format(
            posts=posts, per_run=per_run, interval=interval,
            build=f'build = {{ interval = "{build}s" }}\n' if build else ""),
                       encoding="utf-8")
        tracker = str(Path(sys.executable).parent / "tracker")
        subprocess.run([tracker, "--config", str(cfg), "collect"], env=env, check=True,
                       capture_output=True)   # a first page, so readers find a warehouse
        patches = "".join(PATCHES[h] for h in sorted(how & PATCHES.keys()))
        run = [sys.executable, "-c", patches + MAIN] if patches else [tracker]
        log = open(logs / f"{variant}.log", "w") if logs else subprocess.DEVNULL  # noqa: SIM115
        daemon = subprocess.Popen([*run, "--config", str(cfg), "--log-format", "json",
                                   "run"], env=env, stdout=subprocess.DEVNULL, stderr=log)
        time.sleep(2)
        readers = [subprocess.Popen([sys.executable, __file__, "--reader", str(cfg),
                                     str(seconds), "0.1", str(int(polling_hold))],
                                    stdout=subprocess.PIPE, text=True, env=env)
                   for _ in range(polling)]
        readers.append(subprocess.Popen([sys.executable, __file__, "--reader", str(cfg),
                                         str(seconds), "1.0", "1"], stdout=subprocess.PIPE,
                                        text=True, env=env))
        try:
            results = [json.loads(r.communicate(timeout=seconds + 300)[0]) for r in readers]
            load = os.getloadavg()[0]
        finally:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(timeout=300)
            if not isinstance(log, int):
                log.close()
        os.environ["TRACKER_MIN_INTERVAL"] = "1"
        from tracker.config import load_config
        from tracker.store.db import connect
        c = load_config(cfg)
        con = connect(c.warehouse, lake=c.lake, read_only=True)
        stored = con.execute("select count(*) from norm.posts").fetchone()[0]
        con.close()
    polling, holder = results[:-1], results[-1]
    return {
        "backend": variant, "seconds": seconds, "load": round(load, 1),
        "queries": sum(len(r["latencies"]) for r in results),
        "failures": sum(r["failures"] for r in results),
        "errors": [e for r in results for e in r["errors"]][:3],
        "latency": stats([x for r in polling for x in r["latencies"]]),
        "holder_latency": stats(holder["latencies"]),
        # the polling readers see a run first (with none, the holding reader)
        "delay": stats_s([x for r in (polling or [holder]) for x in r["delays"]]),
        "posts_released_by_end": posts, "posts_stored_after_stop": stored,
    }


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--reader":
        _, _, cfg, seconds, every, hold = sys.argv
        print(json.dumps(reader(cfg, float(seconds), float(every), hold == "1")))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--backends", default="duckdb,ducklake")
    ap.add_argument("--per-run", type=int, default=PER_RUN,
                    help="posts the source releases a run")
    ap.add_argument("--interval", type=int, default=1, help="seconds between runs")
    ap.add_argument("--logs", type=Path, help="keep each daemon's JSON log here")
    ap.add_argument("--polling", type=int, default=3,
                    help="readers opening, querying and closing every 100 ms")
    ap.add_argument("--build-interval", type=int, default=10,
                    help="seconds between the daemon's builds (0: no builds)")
    ap.add_argument("--polling-hold", action="store_true",
                    help="the polling readers keep one connection each (a dashboard)")
    args = ap.parse_args()
    for backend in args.backends.split(","):
        r = run_backend(backend, args.seconds, args.per_run, args.interval, args.logs,
                        args.polling, args.build_interval, args.polling_hold)
        print(f"{backend}: {r['seconds']:.0f} s, {args.per_run} posts a run every "
              f"{args.interval} s, builds every {args.build_interval or '-'} s, "
              f"{args.polling} readers every 100 ms"
              f"{' (each holding its connection)' if args.polling_hold else ''}"
              f" + 1 holding its connection every 1 s, "
              f"load {r['load']}")
        print(f"  reader queries {r['queries']}, failures {r['failures']} {r['errors'] or ''}")
        print(f"  latency (open + query): {r['latency']}")
        print(f"  latency of the reader holding its connection: {r['holder_latency']}")
        print(f"  collection run end -> visible to readers: {r['delay']}")
        print(f"  posts: {r['posts_stored_after_stop']} stored after stop "
              f"(source releases {r['posts_released_by_end']} in all)")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
