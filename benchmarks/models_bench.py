"""Benchmark the SQL models: full build, incremental build after 10k new posts, mart queries,
and warehouse size against raw payload bytes.

    .venv/bin/python benchmarks/models_bench.py --posts 1000000
    .venv/bin/python benchmarks/models_bench.py --posts 10000000 --db /tmp/bench10m.duckdb

norm.* is filled in SQL (benchmarks/models_synthetic.py) because the simulated source is too
slow for millions of posts; raw payload bytes are estimated from pages the real simulated
source renders for a sample (see `raw_bytes_per_post`). Prints numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models_synthetic import add_posts  # noqa: E402

from tracker.config import parse_config  # noqa: E402
from tracker.models import build, discover  # noqa: E402
from tracker.pages import RunLog  # noqa: E402
from tracker.sources import build_source  # noqa: E402
from tracker.store.db import connect  # noqa: E402
from tracker.store.load import store_batch  # noqa: E402
from tracker.store.normalise import prepare  # noqa: E402

SHARES = {"x": 0.70, "mastodon": 0.15, "bluesky": 0.15}


def campaigns(base: Path):
    return parse_config({"campaigns": [
        {"name": "aleppo", "hashtags": ["AleppoIsBurning", "حلب_تحترق"],
         "timezone": "Asia/Damascus", "start": dt.date(2016, 4, 22),
         "end": dt.date(2016, 5, 5),
         "sources": [{"type": "simulated", "platform": p, "posts": 20000}
                     for p in SHARES]},
        {"name": "red", "hashtags": ["MakeFacebookRed"], "timezone": "Asia/Damascus"},
    ]}, base / "tracker.toml")


def raw_bytes_per_post(cfg, workdir: Path, sample: int) -> tuple[float, float]:
    """(payload bytes per post, warehouse bytes of raw.* + norm.* per payload byte) from
    pages of the real simulated source, `sample` posts split across platforms like the
    benchmark, stored through the real loader."""
    path = workdir / "raw_sample.duckdb"
    for p in (path, Path(str(path) + ".wal")):
        p.unlink(missing_ok=True)
    con = connect(path)
    con.execute("set enable_progress_bar = false")
    prepare(con, cfg.campaigns)
    c = cfg.campaigns[0]
    total_bytes, total_posts = 0, 0
    for s in c.sources:
        n = int(sample * SHARES[s.options["platform"]])
        src = build_source(c, s.__class__(s.type, s.name, {**s.options, "posts": n}))
        pages = list(src.pages(None, RunLog()))
        total_bytes += sum(len(p.payload.encode()) for p in pages)
        total_posts += n
        store_batch(con, pages, run_id="sample", source=s.name, campaign=c.name)
    used = used_bytes(con)
    con.close()
    return total_bytes / total_posts, used / total_bytes


def file_size(path: Path) -> int:
    return sum(p.stat().st_size for p in (path, Path(str(path) + ".wal")) if p.exists())


def used_bytes(con) -> int:
    """Bytes in used blocks (the file can also hold free blocks DuckDB reuses later)."""
    con.execute("checkpoint")
    used, block = con.execute("select total_blocks - free_blocks, block_size "
                              "from pragma_database_size()").fetchone()
    return used * block


def add_new_posts(con, first: int, n: int, authors: int, live: bool) -> None:
    """Add n posts spread over the whole campaign like the rest (every day and most hours
    touched: the worst case), or, when `live`, posted in the hour after the last one (what a
    collector running every few minutes adds, with an observation of each of their authors)."""
    mark = con.execute("select coalesce(max(rowid), -1) from norm.posts").fetchone()[0]
    add_posts(con, first, first + n, authors)
    if live:
        last = con.execute("select date_trunc('hour', max(created_at)) from norm.posts "
                           f"where rowid <= {mark}").fetchone()[0]
        con.execute("update norm.posts set created_at = ? + to_microseconds("
                    "(hash(post_id) % 3600000000)::bigint) + interval 1 hour "
                    f"where rowid > {mark}", [last])
        # a collector observes the new posts' authors as it fetches them: their follower
        # counts, newer than every earlier observation, for authors seen before as well
        con.execute(f"""
            insert into norm.author_observations (platform, author_id, observed_at, followers)
            select platform, author_id, p.at, l.followers + 1
            from (select platform, author_id, max(created_at) + interval 1 minute as at
                  from norm.posts where rowid > {mark} group by all) p
            join (select platform, author_id, arg_max(followers, observed_at) as followers
                  from norm.author_observations group by all) l using (platform, author_id)""")


def incremental_rounds(con, cfg, args, authors: int):
    """Incremental builds after --new posts: `--rounds` spread ones, then `--live` live ones.
    Returns the first spread one's time (the historical headline number) and the connection.

    With --reopen, each build runs on a connection opened for it, as the daemon's builds do
    (it opens the warehouse for each load and build, so DuckDB's buffers start cold), in a
    process that has already read the models (the daemon parses them once)."""
    first = con.execute("select count(*) from norm.posts").fetchone()[0]
    times = []
    if args.reopen:
        discover()
    for r in range(args.rounds + args.live):
        live = r >= args.rounds
        add_new_posts(con, first, args.new, authors, live)
        first += args.new
        if args.reopen:
            con.execute("checkpoint")
            con.close()
            con = open_bench(Path(args.db), args.threads)
        t0 = time.perf_counter()
        steps = build(con, cfg.campaigns)
        times.append(time.perf_counter() - t0)
        what = "live (next hour)" if live else "spread over the campaign"
        print(f"\nincremental build {r + 1} after {args.new:,} new posts, {what}"
              f"{' (connection opened for it)' if args.reopen else ''}: {times[-1]:.2f} s")
        for s in steps:
            if s.mode != "view":
                print(f"  {s.model.table:30} {s.mode:12} {s.seconds:7.3f} s")
        # DuckDB checkpoints when its log passes 16 MB, at whichever commit crosses it (the
        # build's or the loader's): timed apart, since it also writes the new posts
        t0 = time.perf_counter()
        con.execute("checkpoint")
        print(f"  then a checkpoint (new posts and build written to the file): "
              f"{time.perf_counter() - t0:.2f} s")
    spread, live = times[:args.rounds], times[args.rounds:]
    print(f"\nINCREMENTAL spread={', '.join(f'{t:.2f}s' for t in spread)} "
          f"live={', '.join(f'{t:.2f}s' for t in live)}"
          + (f" (median {statistics.median(live):.2f}s)" if live else ""))
    return (times[0] if times else 0.0), con


def open_bench(db: Path, threads: int):
    con = connect(db)
    con.execute(f"set threads = {threads}")
    con.execute("set enable_progress_bar = false")
    return con


def mart_queries(db: Path, threads: int) -> float:
    """Time `select *` of every mart for one campaign (all rows fetched); the slowest."""
    ro = connect(db, read_only=True)
    ro.execute(f"set threads = {threads}")
    ro.execute("set enable_progress_bar = false")
    marts = [r[0] for r in ro.execute("select table_name from information_schema.tables "
                                      "where table_schema = 'marts' order by 1").fetchall()]
    print("\nmart query (select * ... where campaign = 'aleppo', all rows fetched):")
    worst = 0.0
    for m in marts:
        where = "" if m == "share_of_voice" else " where campaign = 'aleppo'"
        t0 = time.perf_counter()
        rows = ro.execute(f"select * from marts.{m}{where}").fetchall()
        t = time.perf_counter() - t0
        worst = max(worst, t)
        print(f"  marts.{m:24} {t * 1000:8.1f} ms  {len(rows):>7,} rows")
    ro.close()
    return worst


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=1_000_000)
    ap.add_argument("--new", type=int, default=10_000, help="posts added before the "
                                                            "incremental build")
    ap.add_argument("--db", default="/tmp/models_bench.duckdb")
    ap.add_argument("--sample", type=int, default=20_000, help="posts rendered by the "
                                                               "simulated source for bytes")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reuse", action="store_true",
                    help="keep an existing --db (filled and built before): add the new posts "
                         "and time incremental builds only")
    ap.add_argument("--rounds", type=int, default=2, help="incremental builds, each after "
                                                          "--new posts spread over the campaign")
    ap.add_argument("--live", type=int, default=1, help="then incremental builds, each after "
                                                        "--new posts in the next hour")
    ap.add_argument("--reopen", action="store_true",
                    help="open the warehouse anew for each incremental build, as the daemon "
                         "does (its buffers start cold; the models are parsed before timing)")
    ap.add_argument("--full", action="store_true",
                    help="with --reuse: time a full build first")
    args = ap.parse_args()
    db = Path(args.db)
    reuse = args.reuse and db.exists()
    if not reuse:
        for p in (db, Path(str(db) + ".wal")):
            p.unlink(missing_ok=True)
    cfg = campaigns(db.parent)
    print(f"machine: {os.cpu_count()} cores; duckdb threads={args.threads}; posts={args.posts:,}")

    con = open_bench(db, args.threads)
    authors = max(20, args.posts // 4)
    if reuse:
        if args.full:
            t0 = time.perf_counter()
            steps = build(con, cfg.campaigns, full=True)
            print(f"\nfull build: {time.perf_counter() - t0:.2f} s")
            for s in steps:
                print(f"  {s.model.table:30} {s.mode:12} {s.seconds:7.3f} s")
            con.execute("checkpoint")
        _, con = incremental_rounds(con, cfg, args, authors)
        con.close()
        mart_queries(db, args.threads)
        return
    t0 = time.perf_counter()
    for lo in range(0, args.posts, 1_000_000):
        add_posts(con, lo, min(args.posts, lo + 1_000_000), authors)
    con.execute("insert into ledger.runs (run_id, kind, campaign, source, started_at, status) "
                "select 'bench-' || s, 'collect', 'aleppo', s, now(), 'ok' "
                "from (values ('simulated-x'), ('simulated-mastodon'), ('simulated-bluesky')) "
                "t(s)")
    con.execute("insert into ledger.gaps values ('bench-simulated-x', 'aleppo', 'simulated-x', "
                "'2016-04-25 03:00:00+00', '2016-04-25 05:00:00+00', 'rate limited')")
    size_norm = used_bytes(con)
    print(f"fill norm.* in SQL: {time.perf_counter() - t0:.1f} s; "
          f"file {size_norm / 1e6:.0f} MB")

    t0 = time.perf_counter()
    steps = build(con, cfg.campaigns, full=True)
    full = time.perf_counter() - t0
    print(f"\nfull build: {full:.2f} s")
    for s in steps:
        print(f"  {s.model.table:30} {s.mode:12} {s.seconds:7.3f} s")
    con.execute("checkpoint")

    inc, con = incremental_rounds(con, cfg, args, authors)
    size = used_bytes(con)
    counts = con.execute("select count(*) from core.campaign_posts").fetchone()[0]
    con.close()

    worst = mart_queries(db, args.threads)

    per_post, stored_ratio = raw_bytes_per_post(cfg, db.parent, args.sample)
    raw = per_post * (args.posts + args.new)
    models_bytes = size - size_norm
    with_raw = raw * stored_ratio + models_bytes
    print(f"\ncore.campaign_posts rows: {counts:,}")
    print(f"raw payload bytes: {per_post:.0f} B/post (simulated pages) -> {raw / 1e9:.2f} GB")
    print(f"benchmark warehouse: {size / 1e9:.2f} GB in used blocks, file "
          f"{file_size(db) / 1e9:.2f} GB (norm.* {size_norm / 1e9:.2f} GB, "
          f"core + marts + 10k posts {models_bytes / 1e9:.2f} GB)")
    print(f"raw.* + norm.* take {stored_ratio:.2f} B per payload byte (real loader, "
          f"{args.sample:,} simulated posts, used blocks)")
    print(f"estimated warehouse = raw.* + norm.* + core + marts: {with_raw / 1e9:.2f} GB = "
          f"{with_raw / raw:.2f} x raw payload bytes")
    print(f"\nSUMMARY posts={args.posts:,} full={full:.2f}s incremental={inc:.2f}s "
          f"worst_mart_query={worst * 1000:.0f}ms size_ratio={with_raw / raw:.2f}")


if __name__ == "__main__":
    main()
