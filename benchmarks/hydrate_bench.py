"""Hydration cost: requests per 1,000 ids, and the tracker's own time per request (tweepy's
request path, storing each page and its answers in one transaction). The X lookup endpoint is
mocked with `responses`: a found tweet for one id in `found_every`, "Not Found" problems for the
others. No network.

    .venv/bin/python benchmarks/hydrate_bench.py [ids] [found_every]
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import responses

from tracker.config import load_config
from tracker.lookup.hydrate import hydrate
from tracker.store.db import connect

ROOT = Path(__file__).resolve().parent.parent
PAGE = json.loads((ROOT / "tests/fixtures/shared/x_v2/twarc2_two_tweets.jsonl")
                  .read_text(encoding="utf-8").splitlines()[0])


def answer(ids: list[str], found_every: int) -> dict:
    data, errors = [], []
    for i, tid in enumerate(ids):
        if i % found_every == 0:
            data.append({**PAGE["data"][0], "id": tid, "edit_history_tweet_ids": [tid]})
        else:
            errors.append({"value": tid, "detail": f"Could not find tweet with ids: [{tid}].",
                           "title": "Not Found Error", "resource_type": "tweet",
                           "parameter": "ids", "resource_id": tid,
                           "type": "https://api.twitter.com/2/problems/resource-not-found"})
    out: dict = {"errors": errors} if errors else {}
    if data:
        out.update(data=data, includes=PAGE["includes"])
    return out


def main(n: int = 10_000, found_every: int = 2) -> None:
    tmp = Path(tempfile.mkdtemp())
    (tmp / "tracker.toml").write_text(textwrap.dedent("""
        [warehouse]
        path = "wh.duckdb"
        [[campaigns]]
        name = "bench"
        hashtags = ["AleppoIsBurning"]
        """), encoding="utf-8")
    os.environ["X_BEARER_TOKEN"] = "bench"
    ids = [str(1_500_000_000_000_000_000 + i) for i in range(n)]
    (tmp / "ids.txt").write_text("\n".join(ids) + "\n", encoding="utf-8")
    cfg = load_config(tmp / "tracker.toml")
    con = connect(cfg.warehouse)
    with responses.RequestsMock() as rsps:
        rsps.add_callback(responses.GET, "https://api.twitter.com/2/tweets", callback=lambda r: (
            200, {"content-type": "application/json"}, json.dumps(answer(
                parse_qs(urlparse(r.url).query)["ids"][0].split(","), found_every))))
        t0 = time.perf_counter()
        run = hydrate(con, cfg, "bench", [tmp / "ids.txt"])
        seconds = time.perf_counter() - t0
    con.close()
    print(f"{n} ids, 1 in {found_every} found: {run.requests} requests "
          f"({run.requests * 1000 / n:.1f} per 1,000 ids), {seconds:.1f} s "
          f"({seconds * 1000 / max(run.requests, 1):.0f} ms per request of tracker time, "
          f"{n / seconds:,.0f} ids/s), status {run.status}")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
