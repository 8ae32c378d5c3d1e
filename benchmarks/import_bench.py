"""Import benchmark: `tracker import` vs `twarc2 csv` vs bare DuckDB on one twarc2 archive.

    python benchmarks/import_bench.py --mb 150                 # builds /tmp/bench-150mb.jsonl
    python benchmarks/import_bench.py --archive FILE --twarc-venv /tmp/twarc-venv

Prints posts/s and peak RSS (of the process and its children, from wait4) for:
  (a) tracker import FILE into a fresh warehouse,
  (b) twarc-csv's `twarc2 csv FILE out.csv` (install it in its own venv: it needs pandas<3:
      python3.11 -m venv /tmp/twarc-venv && /tmp/twarc-venv/bin/pip install twarc-csv 'pandas<3'),
  (c) bare DuckDB: read_json_objects + JSON extraction of the core fields into a table.
posts = tweets in the pages' `data` (the same count for all three).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))

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


def measure(cmd: list[str], cwd: Path) -> tuple[float, float, int, str]:
    """(seconds, peak RSS in MB, exit code, last output line) of one command."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL)
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
    runs = {
        "a": ("tracker import", [sys.executable, "-c", "from tracker.cli import main; main()",
                                 "import", str(archive)]),
        "b": ("twarc2 csv (twarc-csv)", [str(args.twarc_venv / "bin" / "twarc2"),
                                         "--bearer-token", "unused", "csv",
                                         str(archive), str(work / "out.csv")]),
        "c": ("bare DuckDB", [sys.executable, "-c", DUCKDB_BARE, str(archive),
                              str(work / "bare.duckdb")]),
    }
    results = {}
    env_note = ""
    for key in args.only or ["a", "b", "c"]:
        name, cmd = runs[key]
        if key == "b" and not Path(cmd[0]).exists():
            print(f"({key}) {name}: skipped, {cmd[0]} not found (see --help)")
            continue
        seconds, rss, code, last = measure(cmd, work)
        results[key] = seconds
        status = "" if code == 0 else f"  EXIT {code}: {last}"
        print(f"({key}) {name:24} {seconds:7.1f} s  {posts / seconds:9,.0f} posts/s  "
              f"{size_mb / seconds:6.1f} MB/s  peak RSS {rss:6.0f} MB{status}")
        if key == "a":
            env_note = last
    if env_note:
        print(f"tracker says: {env_note}")
    if "a" in results and "b" in results:
        print(f"tracker import vs twarc2 csv: {results['b'] / results['a']:.1f}x the throughput")
    if "a" in results and "c" in results:
        print(f"tracker import vs bare DuckDB: {results['a'] / results['c']:.1f}x the time")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
