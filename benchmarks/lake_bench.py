"""Benchmark the DuckLake backend against the DuckDB file, side by side in one run.

    .venv/bin/python benchmarks/lake_bench.py                       # 1M posts, 30 MB archive
    .venv/bin/python benchmarks/lake_bench.py --posts 10000000 --mb 100 --dir /tmp/lake10m
    .venv/bin/python benchmarks/lake_bench.py --reuse --only build marts   # warehouses kept
    .venv/bin/python benchmarks/lake_bench.py --lake-option data_inlining_row_limit=0

Both backends run in the same process (imports in a subprocess each), one after the other
in every repetition, the one that goes first alternating; the medians are printed with the
ratio lake/file. The lake is DuckLake with a SQLite catalog and a local data_path, opened
the way the product opens it (store/db.py `connect(..., lake=Lake(...))`).

1. import: `tracker import` of a twarc2 archive (benchmarks/import_archive.py, --mb MB) into
   a new warehouse of each backend; seconds, MB/s of archive, peak RSS, size on disk.
2. build: a warehouse of --posts posts (norm.* filled in SQL by models_synthetic.add_posts,
   like models_bench.py) copied into a lake with store/to_lake.copy_to_lake, both built in
   full; then each repetition adds the same --new posts, posted in the hour after the last
   post (a live collector), to both and times `build(con, campaigns, full=False)`.
3. marts: `select *` of every mart (one campaign) on a fresh read-only connection; the
   slowest few.
4. report: `write_reports` for one campaign on a fresh read-only connection, without images
   (--no-images) and with them.
Prints numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))
sys.path.insert(0, str(BENCH_DIR.parent))

from import_archive import write_archive  # noqa: E402
from import_bench import count_posts, measure  # noqa: E402
from models_bench import campaigns  # noqa: E402
from models_synthetic import _AUTHORS, _OBS, _POSTS, _REST, _TAGS, add_posts  # noqa: E402

from tracker.models import build  # noqa: E402
from tracker.report import write_reports  # noqa: E402
from tracker.report.assets import vega_bundle  # noqa: E402
from tracker.store.db import connect  # noqa: E402
from tracker.store.lake import Lake  # noqa: E402
from tracker.store.to_lake import copy_to_lake  # noqa: E402

BACKENDS = ("file", "lake")
CAMPAIGNS_TOML = """
[[campaigns]]
name = "aleppo"
hashtags = ["AleppoIsBurning", "حلب_تحترق"]
"""
WAREHOUSE_TOML = {
    "file": '[warehouse]\npath = "bench.duckdb"\n',
    "lake": '[warehouse]\nbackend = "ducklake"\npath = "lake-writer.duckdb"\n'
            'catalog = "sqlite:lake.sqlite"\ndata_path = "lake"\n',
}
Times = dict[str, list[float]]
# the import's own time in its summary line: "... (2.4s, 927 posts/s)"
_OWN_TIME = re.compile(r"\(([\d.]+)s, [\d,]+ posts/s\)")


def lake_in(folder: Path) -> Lake:
    return Lake(f"sqlite:{folder / 'lake.sqlite'}", folder / "lake")


def folder_bytes(folder: Path, skip: tuple[str, ...] = ()) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*")
               if p.is_file() and not p.name.endswith(skip))


def parquet_files(folder: Path) -> int:
    return sum(1 for _ in folder.rglob("*.parquet"))


def order(rep: int) -> tuple[str, ...]:
    """file first in even repetitions, lake first in odd ones."""
    return BACKENDS if rep % 2 == 0 else BACKENDS[::-1]


def med(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def line(label: str, t: Times, unit: str = "s", scale: float = 1.0, extra: str = "") -> None:
    f, lk = med(t["file"]) * scale, med(t["lake"]) * scale
    runs = " | ".join(f"{b}: " + ", ".join(f"{x * scale:.2f}" for x in t[b]) for b in BACKENDS)
    print(f"  {label:38} file {f:8.2f} {unit}  lake {lk:8.2f} {unit}  lake/file "
          f"{lk / f:5.2f}x{extra}  [{runs}]", flush=True)


def apply_lake_options(con, options: list[tuple[str, str]]) -> None:
    """DuckLake options stored in the lake's catalog (`lake.set_option`), e.g.
    data_inlining_row_limit or target_file_size."""
    for key, value in options:
        con.execute(f"call lake.set_option('{key}', {value})")


# -- 1. import ----------------------------------------------------------------------------

def bench_import(args, work: Path) -> None:
    archive = args.archive or work / f"archive-{args.mb:.0f}mb.jsonl"
    if not archive.exists():
        t0 = time.perf_counter()
        write_archive(archive, args.mb)
        print(f"built {archive} in {time.perf_counter() - t0:.0f} s", flush=True)
    size_mb = archive.stat().st_size / 1e6
    posts = count_posts(archive)
    print(f"\n1. tracker import of a twarc2 archive: {size_mb:.0f} MB, {posts:,} posts "
          f"(medians of {args.reps})", flush=True)
    tracker = [sys.executable, "-c", "from tracker.cli import main; main()", "import",
               str(archive)]
    times: Times = {b: [] for b in BACKENDS}
    own: Times = {b: [] for b in BACKENDS}
    rss: Times = {b: [] for b in BACKENDS}
    sizes: dict[str, int] = {}
    files = 0
    for rep in range(args.reps):
        for b in order(rep):
            folder = work / "import" / b
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            (folder / "tracker.toml").write_text(WAREHOUSE_TOML[b] + CAMPAIGNS_TOML,
                                                 encoding="utf-8")
            if b == "lake" and args.lake_option:   # the lake made first, to hold its options
                con = connect(folder / "lake-writer.duckdb", lake=lake_in(folder))
                apply_lake_options(con, args.lake_option)
                con.close()
            seconds, peak, code, last = measure(tracker, folder)
            if code != 0:
                print(f"  {b}: EXIT {code}: {last}")
            times[b].append(seconds)
            m = _OWN_TIME.search(last)
            own[b].append(float(m.group(1)) if m else float("nan"))
            rss[b].append(peak)
            sizes[b] = folder_bytes(folder, skip=("tracker.toml",))
            if b == "lake":
                files = parquet_files(folder / "lake")
            print(f"    rep {rep + 1} {b}: {seconds:.1f} s  ({last})", flush=True)
    line("tracker import (the whole command)", times)
    line("  of which importing (its summary)", own)
    for b in BACKENDS:
        m = med(times[b])
        print(f"    {b}: {size_mb / m:5.2f} MB/s  {posts / m:8,.0f} posts/s  peak RSS "
              f"{max(rss[b]):5.0f} MB  on disk {sizes[b] / 1e6:6.1f} MB"
              + (f" ({files} Parquet files)" if b == "lake" else ""))
    print(f"  MB/s lake/file: {med(times['file']) / med(times['lake']):.2f}x the throughput; "
          f"size lake/file {sizes['lake'] / sizes['file']:.2f}x", flush=True)


# -- 2. build -----------------------------------------------------------------------------

def add_live_posts(con, lo: int, hi: int, authors: int, after: object) -> None:
    """models_synthetic.add_posts, but the posts are dated in the hour after `after` (what a
    collector running every few minutes adds): the dates are set in the temp table before
    anything is written, so norm.* is only appended to (the build's high-water marks)."""
    con.execute("begin transaction")
    con.execute(_POSTS.replace("$lo", str(lo)).replace("$hi", str(hi))
                .replace("$authors", str(authors)))
    con.execute("update bench_posts set created_at = ?::timestamptz + interval 1 hour "
                "+ to_microseconds((hash(post_id) % 3600000000)::bigint)", [after])
    con.execute(_AUTHORS)
    con.execute(_OBS)
    con.execute(_TAGS)
    con.execute(_REST.replace("$authors", str(authors)))
    con.execute("commit")


def models_paths(work: Path) -> tuple[Path, Path, Lake]:
    folder = work / "models"
    return folder / "file.duckdb", folder / "lake-writer.duckdb", lake_in(folder)


def fill(args, work: Path, cfg) -> None:
    """The file warehouse of --posts posts, copied into the lake; both built in full."""
    db, writer, lake = models_paths(work)
    shutil.rmtree(db.parent, ignore_errors=True)
    db.parent.mkdir(parents=True)
    con = connect(db)
    con.execute("set enable_progress_bar = false")
    t0 = time.perf_counter()
    authors = max(20, args.posts // 4)
    for lo in range(0, args.posts, 1_000_000):
        add_posts(con, lo, min(args.posts, lo + 1_000_000), authors)
    con.execute("insert into ledger.runs (run_id, kind, campaign, source, started_at, status) "
                "select 'bench-' || s, 'collect', 'aleppo', s, now(), 'ok' "
                "from (values ('simulated-x'), ('simulated-mastodon'), ('simulated-bluesky')) "
                "t(s)")
    con.execute("checkpoint")
    con.close()
    print(f"  fill norm.* of the file in SQL: {time.perf_counter() - t0:.1f} s", flush=True)
    if args.lake_option:
        con = connect(writer, lake=lake)
        apply_lake_options(con, args.lake_option)
        con.close()
    t0 = time.perf_counter()
    copied = copy_to_lake(db, writer, lake)
    print(f"  copy_to_lake: {copied.rows:,} rows in {copied.tables} tables: "
          f"{time.perf_counter() - t0:.1f} s", flush=True)
    for b in BACKENDS:
        con = connect(db) if b == "file" else connect(writer, lake=lake)
        con.execute("set enable_progress_bar = false")
        t0 = time.perf_counter()
        build(con, cfg.campaigns, full=True)
        if b == "file":
            con.execute("checkpoint")
        con.close()
        print(f"  full build on the {b}: {time.perf_counter() - t0:.1f} s", flush=True)


def bench_build(args, work: Path, cfg) -> None:
    db, writer, lake = models_paths(work)
    print(f"\n2. live incremental build: {args.new:,} posts added (in the hour after the "
          f"last) to {args.posts:,}, then build(full=False) (medians of {args.reps})",
          flush=True)
    cons = {"file": connect(db), "lake": connect(writer, lake=lake)}
    for con in cons.values():
        con.execute("set enable_progress_bar = false")
    authors = max(20, args.posts // 4)
    adds: Times = {b: [] for b in BACKENDS}
    builds: Times = {b: [] for b in BACKENDS}
    steps: dict[str, dict[str, list[float]]] = {b: {} for b in BACKENDS}
    for rep in range(args.reps):
        first, last = cons["file"].execute("select count(*), date_trunc('hour', "
                                           "max(created_at)) from norm.posts").fetchone()
        for b in order(rep):
            con = cons[b]
            t0 = time.perf_counter()
            add_live_posts(con, first, first + args.new, authors, last)
            adds[b].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            done = build(con, cfg.campaigns, full=False)
            builds[b].append(time.perf_counter() - t0)
            for s in done:
                steps[b].setdefault(f"{s.model.table} ({s.mode})", []).append(s.seconds)
            print(f"    rep {rep + 1} {b}: add {adds[b][-1]:.2f} s, build {builds[b][-1]:.2f} s",
                  flush=True)
    line(f"add {args.new:,} posts (add_posts)", adds)
    line("incremental build", builds)
    print("  slowest steps (median s; file | lake):")
    keys = sorted(set(steps["file"]) | set(steps["lake"]),
                  key=lambda k: -max(med(steps["file"].get(k, [])) or 0,
                                     med(steps["lake"].get(k, [])) or 0))
    for k in keys[:args.slowest * 2]:
        f, lk = med(steps["file"].get(k, [])), med(steps["lake"].get(k, []))
        print(f"    {k:46} {f:7.3f} | {lk:7.3f}")
    cons["file"].execute("checkpoint")
    for con in cons.values():
        con.close()


def warehouse_sizes(work: Path) -> None:
    db, writer, lake = models_paths(work)
    file_size = sum(p.stat().st_size for p in db.parent.glob("file.duckdb*") if p.is_file())
    lake_size = folder_bytes(lake.data_path) + sum(
        p.stat().st_size for p in db.parent.glob("lake*") if p.is_file())
    catalog = sum(p.stat().st_size for p in db.parent.glob("lake.sqlite*"))
    print(f"\n  on disk: file {file_size / 1e6:.0f} MB, lake {lake_size / 1e6:.0f} MB "
          f"(catalog {catalog / 1e6:.1f} MB, {parquet_files(lake.data_path)} Parquet files), "
          f"lake/file {lake_size / file_size:.2f}x", flush=True)


# -- 3. marts and 4. report ---------------------------------------------------------------

def reader(work: Path, b: str):
    db, writer, lake = models_paths(work)
    con = connect(db, read_only=True) if b == "file" else connect(writer, lake=lake,
                                                                  read_only=True)
    con.execute("set enable_progress_bar = false")
    return con


def bench_marts(args, work: Path) -> None:
    print(f"\n3. select * from marts.X where campaign = 'aleppo', all rows fetched, a fresh "
          f"read-only connection per repetition (medians of {args.reps})", flush=True)
    opens: Times = {b: [] for b in BACKENDS}
    per: dict[str, Times] = {}
    rows: dict[str, int] = {}
    for rep in range(args.reps):
        for b in order(rep):
            t0 = time.perf_counter()
            con = reader(work, b)
            opens[b].append(time.perf_counter() - t0)
            marts = [r[0] for r in con.execute(
                "select table_name from information_schema.tables where table_schema = "
                "'marts' and table_catalog = current_database() order by 1").fetchall()]
            for m in marts:
                where = "" if m == "share_of_voice" else " where campaign = 'aleppo'"
                t0 = time.perf_counter()
                rows[m] = len(con.execute(f"select * from marts.{m}{where}").fetchall())
                per.setdefault(m, {x: [] for x in BACKENDS})[b].append(
                    time.perf_counter() - t0)
            con.close()
    line("open a reader", opens, "ms", 1000)
    worst = sorted(per, key=lambda m: -max(med(per[m]["file"]), med(per[m]["lake"])))
    for m in worst[:args.slowest]:
        line(f"marts.{m} ({rows[m]:,} rows)", per[m], "ms", 1000)
    total = {b: [sum(per[m][b][i] for m in per) for i in range(args.reps)] for b in BACKENDS}
    line(f"all {len(per)} marts", total, "ms", 1000)


def bench_report(args, work: Path, cfg) -> None:
    print(f"\n4. report for one campaign (write_reports, a fresh read-only connection each; "
          f"medians of {args.reps})", flush=True)
    vega_bundle()   # loaded once per process, as in the CLI; not part of the timings
    cases = [("report --no-images", False)] + ([("report with images", True)]
                                               if args.images else [])
    for label, images in cases:
        times: Times = {b: [] for b in BACKENDS}
        for rep in range(args.reps):
            for b in order(rep):
                out = work / "reports" / b
                shutil.rmtree(out, ignore_errors=True)
                t0 = time.perf_counter()
                con = reader(work, b)
                write_reports(con, cfg, out, "aleppo", images=images)
                con.close()
                times[b].append(time.perf_counter() - t0)
        line(label + " (incl. connect)", times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posts", type=int, default=1_000_000)
    ap.add_argument("--new", type=int, default=10_000, help="posts added before each "
                                                            "incremental build")
    ap.add_argument("--mb", type=float, default=30.0, help="size of the generated archive")
    ap.add_argument("--archive", type=Path, help="a twarc2 archive to import instead")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--slowest", type=int, default=4, help="mart queries shown")
    ap.add_argument("--dir", type=Path, default=Path("/tmp/lake_bench"),
                    help="work folder (kept: archive and warehouses, for --reuse)")
    ap.add_argument("--reuse", action="store_true", help="keep the warehouses of --dir "
                                                         "(filled and built by an earlier run)")
    ap.add_argument("--only", nargs="+", choices=["import", "build", "marts", "report"])
    ap.add_argument("--no-images", dest="images", action="store_false",
                    help="skip the report with images")
    ap.add_argument("--lake-option", action="append", default=[], type=_option,
                    help="KEY=VALUE set on every new lake with lake.set_option, e.g. "
                         "data_inlining_row_limit=0 or target_file_size='64MB'")
    args = ap.parse_args()
    only = set(args.only or ["import", "build", "marts", "report"])
    work = args.dir
    work.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} "
          f"{load[2]:.2f}; posts={args.posts:,}; lake options {args.lake_option or 'default'}",
          flush=True)
    cfg = campaigns(work)
    steps: list[tuple[str, Callable[[], None]]] = [
        ("import", lambda: bench_import(args, work)),
        ("build", lambda: bench_build(args, work, cfg)),
        ("marts", lambda: bench_marts(args, work)),
        ("report", lambda: bench_report(args, work, cfg)),
    ]
    t_all = time.perf_counter()
    if only & {"build", "marts", "report"} and not (args.reuse and models_paths(work)[0].exists()):
        print(f"\nwarehouses of {args.posts:,} posts (setup, not compared):", flush=True)
        fill(args, work, cfg)
    for name, run in steps:
        if name in only:
            run()
    if only & {"build", "marts", "report"}:
        warehouse_sizes(work)
    load = os.getloadavg()
    print(f"\ndone in {time.perf_counter() - t_all:.0f} s; load average now {load[0]:.2f} "
          f"{load[1]:.2f} {load[2]:.2f}")


def _option(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.isidentifier():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


if __name__ == "__main__":
    main()
