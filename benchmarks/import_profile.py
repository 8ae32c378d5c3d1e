"""Where `tracker import` spends its time: every DuckDB statement timed, summed over the run.

Imports ARCHIVE into a fresh warehouse in a temporary directory (in this process) and prints
the total, the bytes the process read and wrote (/proc/self/io: the write-ahead log,
checkpoints and DuckDB's spilling to temporary files), the warehouse file's size, peak RSS,
each commit's time in order (a commit that checkpoints is the slow one) and the statements
that took longest. The format's SQL and _merge.sql are split into statements to time each.

    python benchmarks/import_profile.py /tmp/arch150.jsonl [--top 25]
"""

from __future__ import annotations

import argparse
import collections
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.import_bench import CONFIG  # noqa: E402
from tracker.config import load_config  # noqa: E402
from tracker.importers import Importer  # noqa: E402
from tracker.store.db import connect  # noqa: E402


class Timed:
    """A DuckDB connection whose `execute` times each statement (by its first 70 characters)."""

    def __init__(self, con: Any) -> None:
        self._con = con
        self.seconds: dict[str, float] = collections.defaultdict(float)
        self.calls: collections.Counter[str] = collections.Counter()
        self.commits: list[float] = []
        self.written: dict[str, int] = collections.defaultdict(int)
        self.prefix = ""

    def execute(self, sql: str, *args: Any) -> Any:
        if not args and sql.count(";\n") > 1:   # a SQL file: time each statement
            result = None
            for statement in sql.split(";\n"):
                if statement.strip():
                    result = self.execute(statement)
            return result
        key = " ".join(line for line in sql.splitlines() if not line.strip().startswith("--"))
        key = self.prefix + " ".join(key.split())[:70]
        wrote = _written()
        start = time.perf_counter()
        result = self._con.execute(sql, *args)
        took = time.perf_counter() - start
        self.seconds[key] += took
        self.written[key] += _written() - wrote
        self.calls[key] += 1
        if key.endswith("] commit") or key == "commit":
            self.commits.append(took)
        return result

    def cursor(self) -> Timed:
        """A second connection (the import's overlap), timed into the same sums under
        "[prep] " (its statements run beside the main connection's)."""
        other = Timed(self._con.cursor())
        other.seconds, other.calls, other.written = self.seconds, self.calls, self.written
        other.commits, other.prefix = self.commits, "[prep] "
        return other

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def _written() -> int:
    """Bytes this process has written so far (all threads: log, checkpoints, spilling)."""
    with open("/proc/self/io", encoding="ascii") as f:
        for line in f:
            if line.startswith("wchar:"):
                return int(line.split()[1])
    return 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("archive")
    ap.add_argument("--top", type=int, default=25)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "tracker.toml").write_text(CONFIG, encoding="utf-8")
        cfg = load_config(Path(tmp) / "tracker.toml")
        con = connect(cfg.warehouse)
        timed = Timed(con)
        start = time.perf_counter()
        summary = Importer(timed, cfg).run([args.archive])  # type: ignore[arg-type]
        total = time.perf_counter() - start
        con.close()
        size = sum(p.stat().st_size for p in Path(tmp).iterdir()) / 2**20
    io = dict(line.split(": ") for line in Path("/proc/self/io").read_text().splitlines())
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(summary.line())
    print(f"total {total:.2f} s, read {int(io['rchar']) / 2**20:,.0f} MB, written "
          f"{int(io['wchar']) / 2**20:,.0f} MB, warehouse {size:,.0f} MB, peak RSS {rss:.0f} MB")
    prep = sum(v for k, v in timed.seconds.items() if k.startswith("[prep] "))
    print(f"DuckDB statements {sum(timed.seconds.values()) - prep:.2f} s on the import's "
          f"connection (the rest: Python on the storing thread, and waiting for the reader "
          f"thread), {prep:.2f} s on the overlap's, beside it")
    print("commits:", " ".join(f"{s:.2f}" for s in timed.commits))
    for key, seconds in sorted(timed.seconds.items(), key=lambda kv: -kv[1])[:args.top]:
        print(f"{seconds:7.2f} s {timed.calls[key]:5d}x {timed.written[key] / 2**20:6.0f} MB "
              f"written  {key}")


if __name__ == "__main__":
    main()
