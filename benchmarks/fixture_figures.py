"""Headline campaign figures on the real recorded fixtures, through the CLI only.

    python benchmarks/fixture_figures.py [--tracker PATH/TO/tracker] [--fixtures DIR]

Imports each set of real recordings (tests/fixtures/shared) into a new warehouse with a
campaign, builds, and prints marts.campaign_summary as JSON. It talks to the `tracker`
command alone, so the same script run with an older checkout's `tracker` gives the figures
before a change: that is how the closing notes compare versions.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# name -> (hashtags, files relative to the fixtures folder, --campaign or None)
SETS = {
    "twarc2 search archives (--campaign)": (
        ["gaming", "poiuytrewq"], ["x_v2/twarc2_*.jsonl"], True),
    "X v1.1 search (--campaign)": (["python"], ["x_v1/search.json"], True),
    "Mastodon tag timeline, 4 pages (tag)": (
        ["fgiztsshwiaqqiztpmmjbtvmescsculuvmgjgopwoeidbcrixp"],
        ["mastodon/mpy_tag_timeline_pages.jsonl"], False),
    "Mastodon statuses: quotes, reblogs, edits (--campaign)": (
        ["hoot"], ["mastodon/mpy_statuses_quote_reblog_poll_edit.jsonl"], True),
    "Bluesky searchPosts q=redistricting (--campaign)": (
        ["redistricting"], ["bluesky/bskyr_searchPosts_q-redistricting.json"], True),
}


def v11_search(fixtures: Path, out: Path) -> None:
    """The v1.1 search response body out of its vcrpy cassette."""
    cassette = json.loads((fixtures / "x_v1" / "tweepy_cassette_v11_search_tweets.json")
                          .read_text(encoding="utf-8"))
    out.write_text(cassette["interactions"][0]["response"]["body"]["string"],
                   encoding="utf-8")


def run(tracker: str, *args: str, cwd: Path) -> str:
    done = subprocess.run([tracker, *args], cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        return "ERROR " + (done.stderr.strip().splitlines() or ["?"])[-1]
    return done.stdout


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tracker", default=shutil.which("tracker") or "tracker")
    ap.add_argument("--fixtures", type=Path, default=ROOT / "tests" / "fixtures" / "shared")
    args = ap.parse_args()
    for name, (tags, files, assign) in SETS.items():
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            (work / "x_v1").mkdir()
            v11_search(args.fixtures, work / "x_v1" / "search.json")
            paths = [str(work / f) if f.startswith("x_v1/") else str(args.fixtures / f)
                     for f in files]
            (work / "tracker.toml").write_text(
                '[warehouse]\npath = "wh.duckdb"\n[[campaigns]]\nname = "c"\nhashtags = '
                + json.dumps(tags) + "\n", encoding="utf-8")
            out = run(args.tracker, "import", *paths, *(["--campaign", "c"] if assign else []),
                      cwd=work)
            if out.startswith("ERROR"):
                print(f"{name}: import {out}")
                continue
            run(args.tracker, "build", cwd=work)
            rows = run(args.tracker, "sql", "select * from marts.campaign_summary",
                       "--format", "json", "--db", "wh.duckdb", cwd=work)
            try:
                summary = json.loads(rows)[0]
            except (ValueError, IndexError):
                print(f"{name}: {rows.strip()[:300]}")
                continue
            keep = {k: v for k, v in summary.items()
                    if k not in ("title", "timezone", "campaign", "synthetic")}
            print(f"{name}: {json.dumps(keep, default=str)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
