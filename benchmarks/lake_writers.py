"""Two collector machines writing into one lake on a PostgreSQL catalog (issue #18 item 3),
against one machine alone, side by side in one run.

Each machine is a `tracker run` daemon with its own config (writer file, spool, state,
`[warehouse] machine`) naming the same PostgreSQL catalog and data folder; both collect the
same simulated X and Bluesky sources (every post is fetched by both). Scenario "one": machine
m1 alone; scenario "two": m1 and m2 at once, each on a fresh catalog. Prints per scenario:
seconds until every machine's cursors reached the end (checked every second), load sessions
and pages loaded per machine, pages/s into the lake, times a machine found the lake locked by
the other (`warehouse_busy`), posts stored against distinct posts (a duplicate would show),
raw pages kept, and the load average. Needs the PostgreSQL of `scripts/test-postgres` (or
PG* variables naming another); no network.

    .venv/bin/python benchmarks/lake_writers.py --posts 2000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CONFIG = """
[warehouse]
backend = "ducklake"
path = "wh/writer.duckdb"
catalog = "postgres:dbname={db}"
data_path = "{data}"
machine = "{machine}"
[reports]
dir = "out"
[daemon]
jitter = "0s"
batch_pages = 1
load_retry = "1s"
stop_timeout = "120s"
[[campaigns]]
name = "bench"
hashtags = ["AleppoIsBurning"]
schedule = {{ interval = "1s" }}
[[campaigns.sources]]
type = "simulated"
platform = "x"
posts = {posts}
per_run = {per_run}
page_size = 20
[[campaigns.sources]]
type = "simulated"
platform = "bluesky"
posts = {bluesky}
per_run = {per_run}
page_size = 20
"""


def postgres_env() -> None:
    for line in (ROOT / "tests" / "postgres.env").read_text(encoding="utf-8").splitlines():
        key, sep, value = line.partition("=")
        if sep and key.startswith("PG"):
            os.environ.setdefault(key, value)


def scenario(machines: list[str], posts: int, per_run: int, timeout: float) -> dict:
    import psycopg

    from tracker.config import load_config
    from tracker.store.db import connect

    db = f"tracker_bench_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(dbname="postgres", autocommit=True)
    admin.execute(f'create database "{db}"')
    tmp = Path(tempfile.mkdtemp(prefix="lake-writers-"))
    data = tmp / "shared" / "lake"
    env = dict(os.environ, TRACKER_MIN_INTERVAL="1", PYTHONPATH=str(ROOT))
    configs, procs, logs = {}, {}, {}
    try:
        t0 = time.monotonic()
        for m in machines:
            folder = tmp / m
            folder.mkdir()
            cfg = folder / "tracker.toml"
            cfg.write_text(CONFIG.format(db=db, data=data, machine=m, posts=posts,
                                         bluesky=posts // 2, per_run=per_run),
                           encoding="utf-8")
            configs[m], logs[m] = cfg, folder / "daemon.log"
            procs[m] = subprocess.Popen(
                [sys.executable, "-m", "tracker.cli", "--config", str(cfg), "run"],
                stdout=subprocess.DEVNULL, stderr=logs[m].open("wb"), env=env)
        want = {(m, s, str(n)) for m in machines
                for s, n in (("simulated-x", posts), ("simulated-bluesky", posts // 2))}
        reader = load_config(configs[machines[0]])
        done_at = None
        while time.monotonic() - t0 < timeout:
            time.sleep(1)
            try:
                con = connect(reader.warehouse, lake=reader.lake, read_only=True)
            except Exception:
                continue
            try:
                rows = set(con.execute("select machine, source, cursor->>'next_index' "
                                       "from ledger.cursors").fetchall())
            except Exception:
                rows = set()
            con.close()
            if rows == want:
                done_at = time.monotonic() - t0
                break
        for p in procs.values():
            p.terminate()
        for p in procs.values():
            p.wait(180)
        con = connect(reader.warehouse, lake=reader.lake, read_only=True)
        stored, distinct, pages = con.execute(
            "select (select count(*) from norm.posts), (select count(distinct (platform, "
            "post_id)) from norm.posts), (select count(*) from raw.pages)").fetchone()
        con.close()
        out: dict = {"seconds": done_at, "stored": stored, "distinct": distinct,
                     "raw_pages": pages, "load": os.getloadavg()[0], "machines": {}}
        for m in machines:
            lines = [json.loads(x) for x in logs[m].read_text().splitlines()
                     if x.startswith("{")]
            loads = [x for x in lines if x.get("event") == "spool_loaded"]
            out["machines"][m] = {
                "sessions": len(loads),
                "entries": sum(x["entries"] for x in loads),
                "load_seconds": sum(x["seconds"] for x in loads),
                "busy": sum(1 for x in lines if x.get("event") == "warehouse_busy"),
                "errors": sum(1 for x in lines if x.get("level") == "ERROR")}
        return out
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
        admin.execute(f'drop database if exists "{db}" with (force)')
        admin.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--posts", type=int, default=2000, help="X posts (Bluesky: half)")
    ap.add_argument("--per-run", type=int, default=200)
    ap.add_argument("--timeout", type=float, default=900)
    args = ap.parse_args()
    postgres_env()
    os.environ["TRACKER_MIN_INTERVAL"] = "1"   # the daemons collect every second
    want = args.posts + args.posts // 2
    print(f"posts released per source set: {want}; pages of 20; one page a batch")
    for name, machines in (("one machine", ["m1"]), ("two machines", ["m1", "m2"])):
        r = scenario(machines, args.posts, args.per_run, args.timeout)
        secs = f"{r['seconds']:.1f} s" if r["seconds"] else f"not done in {args.timeout:.0f} s"
        print(f"\n{name}: all collected and loaded in {secs}; posts stored {r['stored']}, "
              f"distinct {r['distinct']} (want {want}); raw pages {r['raw_pages']}; "
              f"load average {r['load']:.1f}")
        for m, s in r["machines"].items():
            rate = s["entries"] / s["load_seconds"] if s["load_seconds"] else 0
            print(f"  {m}: {s['sessions']} load sessions, {s['entries']} batches in "
                  f"{s['load_seconds']:.1f} s of loading ({rate:.1f} batches/s), found the "
                  f"lake locked {s['busy']} times, {s['errors']} errors")


if __name__ == "__main__":
    main()
