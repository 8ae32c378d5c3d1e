"""Peak memory and time of `tracker export` on a large synthetic warehouse.

Fills norm.* with N posts in SQL (benchmarks/models_synthetic.py), builds the models, then runs
`tracker export` in a child process per format and reports its peak RSS (ru_maxrss of the
child), time and output size. The export should need about the same memory for 100k and 1M
posts: DuckDB's COPY streams to the file, JSONL/CSV to stdout are fetched in chunks.

    .venv/bin/python benchmarks/export_bench.py --posts 1000000 --workdir /tmp/export-bench
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models_synthetic import add_posts  # noqa: E402

from tracker.config import load_config  # noqa: E402
from tracker.models import build  # noqa: E402
from tracker.store.db import connect  # noqa: E402

CONFIG = """
[warehouse]
path = "bench.duckdb"
[[campaigns]]
name = "aleppo"
hashtags = ["AleppoIsBurning", "حلب_تحترق"]
timezone = "Asia/Damascus"
start = 2016-04-22
end = 2016-05-05
[[campaigns]]
name = "red"
hashtags = ["MakeFacebookRed"]
timezone = "Asia/Damascus"
"""


def fill(workdir: Path, posts: int) -> Path:
    cfg_path = workdir / "tracker.toml"
    cfg_path.write_text(CONFIG, encoding="utf-8")
    cfg = load_config(cfg_path)
    for p in (cfg.warehouse, Path(str(cfg.warehouse) + ".wal")):
        p.unlink(missing_ok=True)
    con = connect(cfg.warehouse)
    con.execute("set enable_progress_bar = false")
    t0 = time.perf_counter()
    for lo in range(0, posts, 1_000_000):
        add_posts(con, lo, min(posts, lo + 1_000_000), max(20, posts // 4))
    build(con, cfg.campaigns, full=True)
    con.execute("checkpoint")
    n = con.execute("select count(*) from core.campaign_posts where campaign = 'aleppo'"
                    ).fetchone()[0]
    con.close()
    print(f"filled and built {posts:,} posts in {time.perf_counter() - t0:.0f} s; "
          f"{n:,} counted for 'aleppo'")
    return cfg_path


def run(cfg_path: Path, args: list[str], stdout_path: Path | None) -> tuple[float, int, float]:
    """(seconds, peak RSS in MB, MB written) of one `tracker export` child."""
    tracker = Path(sys.executable).with_name("tracker")
    out = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL  # noqa: SIM115
    t0 = time.perf_counter()
    proc = subprocess.Popen([str(tracker), "--config", str(cfg_path), "export",
                             "--campaign", "aleppo", *args], stdout=out)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    if stdout_path:
        out.close()
    if status:
        raise SystemExit(f"tracker export {' '.join(args)} failed ({status})")
    return seconds, usage.ru_maxrss // 1024, 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--posts", type=int, default=1_000_000)
    ap.add_argument("--workdir", default="/tmp/export-bench")
    ap.add_argument("--reuse", action="store_true", help="keep an existing filled warehouse")
    a = ap.parse_args()
    work = Path(a.workdir)
    work.mkdir(parents=True, exist_ok=True)
    cfg_path = work / "tracker.toml"
    if not (a.reuse and (work / "bench.duckdb").exists()):
        fill(work, a.posts)
        # a child's ru_maxrss counts the parent's memory at fork: measure from a fresh process
        os.execv(sys.executable, [sys.executable, __file__, "--reuse", "--workdir", str(work)])
    print(f"{'export':34} {'seconds':>8} {'peak RSS MB':>12} {'output MB':>10}")
    cases = [("csv -o", ["--format", "csv"], "posts.csv"),
             ("parquet -o", ["--format", "parquet"], "posts.parquet"),
             ("jsonl -o", ["--format", "jsonl"], "posts.jsonl"),
             ("ids only csv -o", ["--ids-only"], "ids.csv"),
             ("csv to stdout", ["--format", "csv"], None),
             ("jsonl to stdout", ["--format", "jsonl"], None)]
    for label, args, name in cases:
        target = work / (name or f"stdout.{args[-1]}")
        for p in (target, target.with_name(target.name.split(".")[0] + ".README.md")):
            p.unlink(missing_ok=True)
        extra = ["-o", str(target)] if name else []
        seconds, rss, _ = run(cfg_path, [*args, *extra], None if name else target)
        print(f"{label:34} {seconds:8.1f} {rss:12d} {target.stat().st_size / 1e6:10.0f}")
    print(f"(this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB)")


if __name__ == "__main__":
    main()
