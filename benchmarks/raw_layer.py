"""The raw layer (payload segments, store/segments.py): size, reading pages, rebuild, live pages.

    python benchmarks/raw_layer.py /tmp/bench-150mb.jsonl [--baseline-src DIR] [--repeat 3]

Imports ARCHIVE into a fresh warehouse (a subprocess), then prints:
  - the warehouse on disk: database, segment files, against the archive's bytes;
  - reading one page's payload: through the view raw.pages (`where page_id = ?`) and through
    raw.page_index + its segment (what `tracker payload` does), median of 20 pages;
  - `tracker rebuild`: time and peak RSS (a subprocess, from wait4), and whether every norm.*
    table is the same as after the import (a hash of each table's rows);
  - live collection: benchmarks/collectors.py (pages/s of X pages through tweepy, the
    pipeline and the warehouse), alternating with the same run from --baseline-src DIR (a
    source tree of the version to compare with, e.g. `git archive main | tar -x -C DIR`).
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))

from benchmarks.baseline import baseline_env  # noqa: E402
from benchmarks.import_bench import CONFIG, disk_bytes, measure  # noqa: E402


def norm_hashes(db: Path) -> dict[str, int]:
    import duckdb
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [r[0] for r in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'norm'").fetchall()]
        return {t: con.execute(f"select count(*), sum(hash(x)) from norm.{t} x")
                .fetchone() for t in tables}  # type: ignore[misc]
    finally:
        con.close()


def read_pages(db: Path) -> tuple[float, float]:
    from tracker.store import segments
    from tracker.store.db import connect
    con = connect(db, read_only=True)
    try:
        ids = [r[0] for r in con.execute("select page_id from raw.page_index "
                                         "using sample 20 rows").fetchall()]
        view, direct = [], []
        for pid in ids:
            t0 = time.perf_counter()
            con.execute("select payload from raw.pages where page_id = ?", [pid]).fetchone()
            view.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            segments.read(con, pid)
            direct.append(time.perf_counter() - t0)
        return statistics.median(view), statistics.median(direct)
    finally:
        con.close()


def live(src: Path | None, pages: int) -> float:
    env = baseline_env(src) if src else None
    script = (src or BENCH_DIR.parent) / "benchmarks" / "collectors.py"
    out = subprocess.run([sys.executable, str(script), str(pages)], env=env,
                         capture_output=True, text=True, check=True).stdout
    m = re.search(r"pipeline \+ warehouse: .* -> ([\d.]+) pages/s", out)
    if not m:
        raise SystemExit(f"collectors.py printed no rate:\n{out}")
    return float(m.group(1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("archive", type=Path)
    ap.add_argument("--baseline-src", type=Path)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--pages", type=int, default=100, help="live pages per run")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="raw-bench-"))
    (work / "tracker.toml").write_text(CONFIG, encoding="utf-8")
    tracker = [sys.executable, "-c", "from tracker.cli import main; main()"]
    seconds, rss, code, last = measure([*tracker, "import", str(args.archive)], work)
    if code:
        raise SystemExit(f"import failed: {last}")
    db = work / "bench.duckdb"
    size = args.archive.stat().st_size
    raw = disk_bytes(work, "bench.duckdb.raw")
    total = disk_bytes(work, "bench.duckdb")
    print(f"import of {args.archive.name} ({size / 1e6:.0f} MB): {seconds:.1f} s, "
          f"peak RSS {rss:.0f} MB")
    print(f"on disk: {total / 1e6:.0f} MB = {total / size:.2f}x the archive (database "
          f"{(total - raw) / 1e6:.0f} MB, segments {raw / 1e6:.0f} MB)")
    view, direct = read_pages(db)
    print(f"one page's payload: {view * 1000:.1f} ms through raw.pages, "
          f"{direct * 1000:.1f} ms through raw.page_index + its segment")
    before = norm_hashes(db)
    seconds, rss, code, last = measure([*tracker, "rebuild"], work)
    same = norm_hashes(db) == before
    print(f"tracker rebuild: {seconds:.1f} s, peak RSS {rss:.0f} MB, norm.* "
          f"{'the same' if same else 'DIFFERENT'} ({last if code else 'ok'})")
    rates: dict[str, list[float]] = {"this tree": [], "baseline": []}
    for _ in range(args.repeat):
        if args.baseline_src:
            rates["baseline"].append(live(args.baseline_src, args.pages))
        rates["this tree"].append(live(None, args.pages))
    for name, got in rates.items():
        if got:
            print(f"live collection ({name}): {statistics.median(got):.1f} pages/s "
                  f"(median of {', '.join(f'{r:.1f}' for r in got)}), "
                  f"{1000 / statistics.median(got):.0f} ms per page")


if __name__ == "__main__":
    main()
