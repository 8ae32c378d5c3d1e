"""Does import time grow with the archive and with the warehouse? (the raw layer's targets)

    python benchmarks/import_archive.py /tmp/big.jsonl --replicate SMALL --copies 14
    python benchmarks/import_linear.py /tmp/bench-150mb.jsonl /tmp/big.jsonl /tmp/second.jsonl

SMALL and SECOND are archives of the same size with different post ids (SECOND: e.g. SMALL
with every tweet id's leading 7 replaced by 15), BIG a large one (SMALL replicated). Prints,
each as a subprocess with its time and peak RSS (wait4):
  (1) SMALL into an empty warehouse,
  (2) BIG into an empty warehouse (time / (1), against BIG's size / SMALL's),
  (3) SECOND into the warehouse of (2), which holds BIG's posts (time / (1)),
and the warehouse's size on disk (database + segments) against the archives' bytes.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.import_bench import CONFIG, disk_bytes, measure  # noqa: E402

TRACKER = [sys.executable, "-c", "from tracker.cli import main; main()", "import"]


def run(work: Path, archive: Path, label: str) -> float:
    seconds, rss, code, last = measure([*TRACKER, str(archive)], work)
    print(f"{label}: {archive.name} ({archive.stat().st_size / 1e6:.0f} MB) {seconds:.1f} s, "
          f"peak RSS {rss:.0f} MB{'' if code == 0 else f'  EXIT {code}: {last}'}", flush=True)
    return seconds


def main() -> None:
    small, big, second = (Path(a) for a in sys.argv[1:4])
    base = Path(tempfile.mkdtemp(prefix="import-linear-"))
    empty, large = base / "empty", base / "large"
    for d in (empty, large):
        d.mkdir()
        (d / "tracker.toml").write_text(CONFIG, encoding="utf-8")
    t1 = run(empty, small, "(1) into an empty warehouse")
    t2 = run(large, big, "(2) into an empty warehouse")
    print(f"    {t2 / t1:.1f}x the time of (1) for {big.stat().st_size / small.stat().st_size:.1f}x"
          " the bytes")
    size = disk_bytes(large, "bench.duckdb")
    print(f"    on disk {size / 1e6:.0f} MB = {size / big.stat().st_size:.2f}x the archive")
    t3 = run(large, second, "(3) into the warehouse of (2)")
    print(f"    {t3 / t1:.2f}x the time of (1)")
    shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
