"""Crash loop at full size: SIGKILL `tracker run` N times at random moments, then compare.

    .venv/bin/python benchmarks/reliability_crash_loop.py [--kills 100] [--seed 1] \
        [--backend duckdb|ducklake]

With `--backend ducklake` the warehouse is a lake (SQLite catalog, tests/conftest.py's
`warehouse_toml`); every other kill is then, as on the file, inside the loader's commit.

Prints one JSON object of figures (posts lost, duplicates, ...). No network.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.reliability.crashloop import crash_loop  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kills", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--backend", choices=["duckdb", "ducklake"], default="duckdb")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(json.dumps(crash_loop(Path(tmp), args.kills, args.seed, backend=args.backend)))


if __name__ == "__main__":
    main()
