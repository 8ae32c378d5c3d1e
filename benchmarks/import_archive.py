"""Build a twarc2-style archive (one X API v2 page per line) from the simulated source.

    python benchmarks/import_archive.py /tmp/archive.jsonl --mb 150
    python benchmarks/import_archive.py /tmp/big.jsonl --replicate /tmp/archive.jsonl --copies 14

Every line is a real x_v2_page payload from `tracker.sources.simulated` with a `__twarc`
block added, as twarc2 writes it. Ids are fresh: post i has its own id for any size.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
from pathlib import Path

from tracker.config import Campaign, Schedule, SourceConfig
from tracker.pages import RunLog
from tracker.sources.simulated import SimulatedSource

TWARC = {"url": "https://api.twitter.com/2/tweets/search/all?query=%23AleppoIsBurning",
         "version": "2.14.0"}


def write_archive(path: Path, megabytes: float, seed: int = 2016) -> tuple[int, int]:
    """Write pages until the file holds `megabytes` MB; return (lines, tweets in data)."""
    target = int(megabytes * 1_000_000)
    campaign = Campaign("bench", "bench", ("AleppoIsBurning", "حلب_تحترق"), (), Schedule(900),
                        dt.date(2016, 4, 22), dt.date(2016, 5, 5))
    # posts is an upper bound; we stop at the byte target.
    src = SimulatedSource(campaign, SourceConfig("simulated", "x", {
        "platform": "x", "posts": 10_000_000, "seed": seed}))
    lines = tweets = written = 0
    with path.open("w", encoding="utf-8") as out:
        for page in src.pages(None, RunLog()):
            body = json.loads(page.payload)
            body["__twarc"] = dict(TWARC, retrieved_at=page.retrieved_at.isoformat())
            line = json.dumps(body, ensure_ascii=False) + "\n"
            out.write(line)
            written += len(line.encode())
            lines += 1
            tweets += len(body["data"])
            if written >= target:
                break
    return lines, tweets


_TWEET_ID = re.compile(rb'"7(\d{17})"')


def replicate(src: Path, dst: Path, copies: int) -> None:
    """Write `copies` copies of a simulated archive, each with fresh tweet ids (the leading
    digit 7 of every 2016 snowflake id becomes the copy number), so no post repeats."""
    with dst.open("wb") as out:
        for k in range(copies):
            prefix = str(k + 1).encode()
            with src.open("rb") as f:
                for line in f:
                    out.write(_TWEET_ID.sub(lambda m, p=prefix: b'"' + p + m.group(1) + b'"',
                                            line))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", type=Path)
    ap.add_argument("--mb", type=float, default=150.0)
    ap.add_argument("--replicate", type=Path, help="an archive to copy with fresh ids")
    ap.add_argument("--copies", type=int, default=2)
    args = ap.parse_args()
    if args.replicate:
        replicate(args.replicate, args.path, args.copies)
        print(f"{args.path}: {args.path.stat().st_size / 1e6:.0f} MB", file=sys.stderr)
        return
    lines, tweets = write_archive(args.path, args.mb)
    print(f"{args.path}: {lines} lines, {tweets} tweets, "
          f"{args.path.stat().st_size / 1e6:.0f} MB", file=sys.stderr)


if __name__ == "__main__":
    main()
