"""Load beside readers at full size: collection for N seconds beside two reader processes.

    .venv/bin/python benchmarks/reliability_readers.py [--seconds 300]

Prints one JSON object: reader queries and failures, posts lost, collection delay. No network.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.reliability.readers import beside_readers  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=300)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(json.dumps(beside_readers(Path(tmp), args.seconds)))


if __name__ == "__main__":
    main()
