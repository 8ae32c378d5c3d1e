"""Import benchmark: `tracker import` vs `twarc2 csv` vs bare DuckDB on one twarc2 archive.

    python benchmarks/import_bench.py --mb 150                 # builds /tmp/bench-150mb.jsonl
    python benchmarks/import_bench.py --archive FILE --twarc-venv /tmp/twarc-venv
    python benchmarks/import_bench.py --repeat 3 --baseline-src /tmp/main-src  # vs a checkout

Prints posts/s and peak RSS (of the process and its children, from wait4) for:
  (a) tracker import FILE into a fresh warehouse (and its size on disk: database + payload
      segments, against the archive's bytes),
  (a0) with --baseline-src DIR: the same with the tracker of another source tree (e.g.
      `git archive main | tar -x -C DIR`), side by side,
  (b) twarc-csv's `twarc2 csv FILE out.csv` (install it in its own venv: it needs pandas<3:
      python3.11 -m venv /tmp/twarc-venv && /tmp/twarc-venv/bin/pip install twarc-csv 'pandas<3'),
  (c) bare DuckDB: read_json_objects + JSON extraction of the core fields into a table.
posts = tweets in the pages' `data` (the same count for all three). With --repeat N the
commands run N times, alternating, and the medians are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))

from benchmarks.baseline import baseline_env  # noqa: E402
from benchmarks.import_archive import write_archive  # noqa: E402

DUCKDB_BARE = """
import duckdb, sys
con = duckdb.connect(sys.argv[2])
con.execute('''
create table tweets as
with
pages as (select json as j from read_json_objects(?, format = 'newline_delimited',
                                                  maximum_object_size = 1073741824)),
tw as (select unnest(json_extract(j, '$.data[*]')) as t from pages)
select t->>'id' as id, (t->>'created_at')::timestamptz as created_at,
       t->>'author_id' as author_id, t->>'text' as text, t->>'lang' as lang,
       json_extract_string(t, '$.entities.hashtags[*].tag') as hashtags,
       (t->>'$.public_metrics.retweet_count')::bigint as retweets,
       (t->>'$.public_metrics.like_count')::bigint as likes
from tw''', [sys.argv[1]])
print(con.execute('select count(*) from tweets').fetchone()[0])
"""

CONFIG = """
[warehouse]
path = "bench.duckdb"
[[campaigns]]
name = "aleppo"
hashtags = ["AleppoIsBurning", "حلب_تحترق"]
"""


def measure(cmd: list[str], cwd: Path, env: dict[str, str] | None = None
            ) -> tuple[float, float, int, str]:
    """(seconds, peak RSS in MB, exit code, last output line) of one command."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, env=env)
    out = b""
    assert p.stdout is not None
    for chunk in iter(lambda: p.stdout.read(65536), b""):
        out += chunk
        out = out[-4000:]
    _, status, usage = os.wait4(p.pid, 0)
    seconds = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    lines = [ln for ln in out.decode("utf-8", "replace").splitlines() if ln.strip()]
    return seconds, usage.ru_maxrss / 1024, p.returncode, (lines[-1] if lines else "")


def count_posts(path: Path) -> int:
    n = 0
    with path.open("rb") as f:
        for line in f:
            data = json.loads(line).get("data")
            n += len(data) if isinstance(data, list) else int(bool(data))
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--archive", type=Path)
    ap.add_argument("--mb", type=float, default=150.0)
    ap.add_argument("--twarc-venv", type=Path, default=Path("/tmp/twarc-venv"))
    ap.add_argument("--only", choices=["a", "b", "c"], action="append")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each, alternating")
    ap.add_argument("--baseline-src", type=Path, help="also run `tracker import` from this "
                                                      "source tree (side by side)")
    args = ap.parse_args()
    archive = args.archive or Path(tempfile.gettempdir()) / f"bench-{args.mb:.0f}mb.jsonl"
    if not archive.exists():
        print(f"building {archive} ...", file=sys.stderr)
        write_archive(archive, args.mb)
    size_mb = archive.stat().st_size / 1e6
    posts = count_posts(archive)
    print(f"archive: {archive} ({size_mb:.0f} MB, {posts:,} posts in data), "
          f"{os.cpu_count()} cores")
    work = Path(tempfile.mkdtemp(prefix="import-bench-"))
    (work / "tracker.toml").write_text(CONFIG, encoding="utf-8")
    tracker = [sys.executable, "-c", "from tracker.cli import main; main()", "import",
               str(archive)]
    runs: dict[str, tuple[str, list[str], dict[str, str] | None]] = {
        # this tree's Python and its own SQL (not the editable install's: benchmarks/baseline.py)
        "a": ("tracker import", tracker, baseline_env(BENCH_DIR.parent)),
        "b": ("twarc2 csv (twarc-csv)", [str(args.twarc_venv / "bin" / "twarc2"),
                                         "--bearer-token", "unused", "csv",
                                         str(archive), str(work / "out.csv")], None),
        "c": ("bare DuckDB", [sys.executable, "-c", DUCKDB_BARE, str(archive),
                              str(work / "bare.duckdb")], None),
    }
    keys = args.only or ["a", "b", "c"]
    if args.baseline_src:
        runs["a0"] = (f"tracker import ({args.baseline_src.name})", tracker,
                      baseline_env(args.baseline_src))
        keys = ["a0", *keys]
    keys = [k for k in keys if k != "b" or Path(runs["b"][1][0]).exists()]
    if "b" in (args.only or ["a", "b", "c"]) and "b" not in keys:
        print(f"(b) twarc2 csv: skipped, {runs['b'][1][0]} not found (see --help)")
    times: dict[str, list[float]] = {k: [] for k in keys}
    peaks: dict[str, list[float]] = {k: [] for k in keys}
    sizes: dict[str, int] = {}
    last_line = ""
    for _ in range(args.repeat):
        for key in keys:
            _, cmd, env = runs[key]
            for f in [*work.glob("bench.duckdb*"), *work.glob("bare.duckdb*"),
                      *work.glob("out.csv")]:
                shutil.rmtree(f) if f.is_dir() else f.unlink()
            seconds, rss, code, last = measure(cmd, work, env)
            if code != 0:
                print(f"({key}) EXIT {code}: {last}")
            times[key].append(seconds)
            peaks[key].append(rss)
            if key in ("a", "a0"):
                sizes[key] = disk_bytes(work, "bench.duckdb")
                last_line = last if key == "a" else last_line
    for key in keys:
        name = runs[key][0]
        sec = statistics.median(times[key])
        ratio = sizes.get(key, 0) / archive.stat().st_size
        extra = (f"  on disk {sizes[key] / 1e6:5.0f} MB = {ratio:.2f}x the archive"
                 if key in sizes else "")
        print(f"({key}) {name:28} {sec:7.1f} s  {posts / sec:9,.0f} posts/s  "
              f"{size_mb / sec:6.1f} MB/s  peak RSS {max(peaks[key]):6.0f} MB{extra}  "
              f"[runs: {', '.join(f'{t:.1f}' for t in times[key])}]")
    if last_line:
        print(f"tracker says: {last_line}")
    med = {k: statistics.median(v) for k, v in times.items()}
    if "a" in med and "b" in med:
        print(f"tracker import vs twarc2 csv: {med['b'] / med['a']:.1f}x the throughput")
    if "a" in med and "c" in med:
        print(f"tracker import vs bare DuckDB: {med['a'] / med['c']:.1f}x the time")
    if "a" in med and "a0" in med:
        print(f"tracker import vs {args.baseline_src}: {med['a0'] / med['a']:.2f}x the "
              "throughput")
    shutil.rmtree(work, ignore_errors=True)


def disk_bytes(work: Path, name: str) -> int:
    """The warehouse on disk: database, write-ahead log and payload segments."""
    total = 0
    for f in work.glob(name + "*"):
        paths = f.rglob("*") if f.is_dir() else [f]
        total += sum(p.stat().st_size for p in paths if p.is_file())
    return total


if __name__ == "__main__":
    main()
