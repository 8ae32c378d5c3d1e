"""Stream-grab scan speed: `tracker import` of a stream-grab tar with campaigns configured,
against decompressing the same tar with bzcat (the practical limit of one core).

    python benchmarks/stream_grab_data.py /tmp/grab.tar --mb 1024     # once
    python benchmarks/stream_grab_bench.py /tmp/grab.tar --workers 1,2

Prints MB/s of compressed input (the tar's size over the wall time, and over the CPU time
of all processes involved: on a shared machine the wall time follows the load) for:
- `tar -xOf TAR | bzcat > /dev/null`: every member's bz2 data decompressed, nothing else;
- `tracker import TAR` (a fresh warehouse, campaigns #AleppoIsBurning and #حلب_تحترق, the
  campaign filter on: decompress, count lines by kind, prefilter, parse and store the few
  matches) with the scan in this process (workers 1) and in a pool of worker processes.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import tempfile
import time
from pathlib import Path

from tracker.config import load_config
from tracker.importers import Importer
from tracker.store.db import connect

CONFIG = """
[warehouse]
path = "wh/tracker.duckdb"
[[campaigns]]
name = "aleppo"
hashtags = ["AleppoIsBurning", "حلب_تحترق"]
"""


def cpu() -> float:
    """CPU seconds of this process and its finished children (the scan workers, bzcat)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), \
        resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def bzcat(path: Path) -> tuple[float, float]:
    t0, c0 = time.perf_counter(), cpu()
    subprocess.run(f"tar -xOf '{path}' | bzcat > /dev/null", shell=True, check=True)
    return time.perf_counter() - t0, cpu() - c0


def tracker_import(path: Path, workers: int) -> tuple[float, float, str]:
    with tempfile.TemporaryDirectory() as tmp:
        cfg_path = Path(tmp) / "tracker.toml"
        cfg_path.write_text(CONFIG, encoding="utf-8")
        cfg = load_config(cfg_path)
        con = connect(cfg.warehouse)
        try:
            t0, c0 = time.perf_counter(), cpu()
            summary = Importer(con, cfg, workers=workers).run([str(path)])
            seconds, cpu_s = time.perf_counter() - t0, cpu() - c0
        finally:
            con.close()
    return seconds, cpu_s, summary.line()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", type=Path)
    ap.add_argument("--workers", default="1,2", help="comma-separated pool sizes to run")
    ap.add_argument("--no-bzcat", action="store_true")
    args = ap.parse_args()
    size = args.path.stat().st_size
    mb = size / 1e6
    print(f"input: {args.path} ({mb:,.0f} MB); cores: {os.cpu_count()}; "
          f"load before: {os.getloadavg()[0]:.1f}")
    rows = []
    if not args.no_bzcat:
        s, c = bzcat(args.path)
        rows.append(("tar -xOf | bzcat > /dev/null", s, c))
        print(f"  bzcat: {s:.1f}s", flush=True)
    for w in (int(x) for x in args.workers.split(",")):
        s, c, line = tracker_import(args.path, w)
        rows.append((f"tracker import, scan workers {w}", s, c))
        print(f"  import, workers {w}: {s:.1f}s: {line}", flush=True)
    print(f"\n{'':36} {'wall s':>8} {'MB/s':>7} {'CPU s':>8} {'MB/CPU s':>9}")
    for name, s, c in rows:
        print(f"{name:36} {s:8.1f} {mb / s:7.2f} {c:8.1f} {mb / c:9.2f}")
    print(f"load after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
