"""Collector throughput: X search pages through tweepy (HTTP mocked with `responses`), the
pipeline and the warehouse. Prints pages/s and posts/s; no network.

    .venv/bin/python benchmarks/collectors.py [pages]
"""

from __future__ import annotations

import datetime as dt
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
from tracker.pages import RunLog
from tracker.pipeline import collect
from tracker.sources import build_source
from tracker.sources.simulated import SimulatedSource
from tracker.store.db import connect


def main(pages: int = 100) -> None:
    tmp = Path(tempfile.mkdtemp())
    start = dt.date.today() - dt.timedelta(days=3)
    (tmp / "tracker.toml").write_text(textwrap.dedent(f"""
        [warehouse]
        path = "wh.duckdb"
        [[campaigns]]
        name = "bench"
        hashtags = ["AleppoIsBurning", "حلب_تحترق"]
        start = {start}
        [[campaigns.sources]]
        type = "x"
        max_pages = {pages + 1}
        [[campaigns.sources]]
        type = "simulated"
        platform = "x"
        posts = {pages * 100}
        """), encoding="utf-8")
    cfg = load_config(tmp / "tracker.toml")
    campaign = cfg.campaigns[0]
    sim = SimulatedSource(campaign, campaign.source("simulated-x"))
    bodies: dict[str | None, bytes] = {}
    token = None
    for page in sim.pages(None, RunLog()):  # X v2 pages in the real shape, newest first
        bodies[token] = page.payload.encode()
        token = json.loads(page.payload)["meta"].get("next_token")
    os.environ["X_BEARER_TOKEN"] = "benchmark-token"
    con = connect(cfg.warehouse)
    with responses.RequestsMock() as rsps:
        rsps.add_callback(
            responses.GET, "https://api.twitter.com/2/tweets/search/recent",
            callback=lambda r: (200, {"content-type": "application/json"}, bodies[
                parse_qs(urlparse(r.url).query).get("next_token", [None])[0]]))
        t0 = time.perf_counter()
        fetched = list(build_source(campaign, campaign.source("x")).pages(None, RunLog()))
        fetch_secs = time.perf_counter() - t0
        t0 = time.perf_counter()
        s = collect(con, cfg, source="x")[0]
        secs = time.perf_counter() - t0
    con.close()
    print(f"X collector alone (tweepy + paging, no storage): {len(fetched)} pages in "
          f"{fetch_secs:.2f}s -> {1000 * fetch_secs / len(fetched):.1f} ms/page")
    print(f"X collector + pipeline + warehouse: {s.pages} pages, {s.posts_new} new posts, "
          f"{s.requests} requests "
          f"in {secs:.2f}s -> {s.pages / secs:.1f} pages/s, {s.posts_new / secs:.0f} posts/s "
          f"({os.cpu_count()} cores)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
