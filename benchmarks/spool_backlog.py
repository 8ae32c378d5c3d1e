"""A spool backlog drained by the daemon's loader: a run at a time against entry by entry.

When a build, a reader (on the file) or another machine (on a lake) holds the warehouse,
fetched batches wait in the spool; this measures how fast the loader catches up. For each
backend (the DuckDB file, a lake with a SQLite catalog), alternating the two ways, fresh
warehouse each time:
- grouped: the loader as shipped (a run's consecutive entries in one transaction, up to
  `GROUP_ENTRIES`, tracker/daemon/loader.py);
- entrywise: `GROUP_ENTRIES = 1`, one transaction per spooled entry (the loader before).

The backlog: --runs runs of the simulated X source, each --batches batches of one page (100
posts) and its end. Prints the median drain time, entries/s and posts/s of each. No network.

    .venv/bin/python benchmarks/spool_backlog.py [--runs 10] [--batches 5] [--repeat 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from lake_readers import WAREHOUSE  # noqa: E402  (the same two warehouses)

CONFIG = """
[[campaigns]]
name = "bench"
hashtags = ["AleppoIsBurning"]
[[campaigns.sources]]
type = "simulated"
platform = "x"
posts = {posts}
"""


def drain_seconds(backend: str, group_entries: int, runs: int, batches: int) -> float:
    from tracker.config import load_config
    from tracker.daemon import loader as loader_mod
    from tracker.daemon.spool import Spool, run_header
    from tracker.daemon.state import StateFile
    from tracker.pages import RunLog
    from tracker.sources.simulated import SimulatedSource

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tracker.toml"
        path.write_text(WAREHOUSE[backend] + CONFIG.format(posts=runs * batches * 100),
                        encoding="utf-8")
        cfg = load_config(path)
        spool = Spool(cfg.spool)
        loader = loader_mod.Loader(lambda: cfg, spool, StateFile(Path(tmp) / "s.json", 1),
                                   threading.Event(), lambda: set())
        assert loader.drain() == "done"        # creates the warehouse: not timed
        camp = cfg.campaigns[0]
        pages = iter(SimulatedSource(camp, camp.sources[0]).pages(None, RunLog()))
        start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        for r in range(runs):
            head = {"run_id": f"r{r}", "campaign": "bench", "source": "simulated-x",
                    "started_at": (start + dt.timedelta(minutes=r)).isoformat()}
            for _ in range(batches):
                page = next(pages)
                spool.write("batch", {**head, "cursor": page.cursor}, [page])
            spool.write("run", run_header(head, start + dt.timedelta(minutes=r, seconds=30),
                                          "ok", None, RunLog(requests=batches)))
        before = loader_mod.GROUP_ENTRIES
        loader_mod.GROUP_ENTRIES = group_entries
        try:
            t0 = time.perf_counter()
            while (result := loader.drain()) == "more":
                pass
            seconds = time.perf_counter() - t0
        finally:
            loader_mod.GROUP_ENTRIES = before
        assert result == "done" and spool.entries() == [], result
        return seconds


def main() -> None:
    from tracker.daemon.loader import GROUP_ENTRIES

    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--batches", type=int, default=5, help="batches (pages) a run")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--backends", default="duckdb,ducklake")
    args = ap.parse_args()
    entries = args.runs * (args.batches + 1)
    posts = args.runs * args.batches * 100
    print(f"backlog: {args.runs} runs x {args.batches} batches of 100 posts + their ends = "
          f"{entries} entries, {posts} posts; median of {args.repeat}, alternating")
    for backend in args.backends.split(","):
        times: dict[str, list[float]] = {"grouped": [], "entrywise": []}
        for _ in range(args.repeat):
            times["grouped"].append(drain_seconds(backend, GROUP_ENTRIES, args.runs,
                                                  args.batches))
            times["entrywise"].append(drain_seconds(backend, 1, args.runs, args.batches))
        for way, xs in times.items():
            m = statistics.median(xs)
            print(f"{backend:9} {way:10} {m:6.2f} s  {entries / m:6.1f} entries/s  "
                  f"{posts / m:7.0f} posts/s  (runs: {', '.join(f'{x:.2f}' for x in xs)})")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
