"""Posts whose posting time is not known, from real recorded payloads.

tweepy's recorded `search_all_tweets` response (tests/fixtures/shared/x_v2) was requested with
the API's default fields: each tweet is only `id`, `text` and `edit_history_tweet_ids`, with no
`created_at`. Imported for a campaign with no window, such posts count in its figures; they are
in no hour, day or share of voice, and the report says how many its time charts leave out
(before: the peak hour's post count was theirs, share of voice showed them as 0 with a NaN
share, and `tracker report` failed on them).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

from tracker.models import build
from tracker.pages import RawPage
from tracker.report import write_reports
from tracker.store import ledger
from tracker.store.load import store_batch
from tracker.store.normalise import prepare

from .cassettes import body
from .conftest import FIXTURES, connect_at
from .test_models_marts import config


def test_posts_without_a_posting_time_count_but_are_in_no_time_bucket(tmp_path):
    untimed = body("x_v2", "tweepy_cassette_search_all_tweets.yaml", uri_contains="all")
    timed = (FIXTURES / "x_v2" / "twarc2_two_tweets.jsonl").read_text("utf-8").splitlines()
    pages = [RawPage("x_v2_page", "x", untimed.decode("utf-8"),
                     retrieved_at=dt.datetime(2022, 10, 9, tzinfo=dt.UTC))]
    pages += [RawPage("x_v2_page", "x", line, retrieved_at=dt.datetime(2021, 5, 19, i,
                                                                        tzinfo=dt.UTC))
              for i, line in enumerate(timed) if line.strip()]
    cfg = config([{"name": "fixtures", "hashtags": ["unused_tag_for_assigned_posts"]}],
                 tmp_path)
    con = connect_at(tmp_path, "untimed", "duckdb")
    prepare(con, cfg.campaigns)
    run = ledger.start_run(con, "import", None, "import")
    store_batch(con, pages, run_id=run, source="import", campaign="fixtures",
                assign_campaign="fixtures")
    ledger.finish_run(con, run, "ok")
    build(con, cfg.campaigns)

    # plain Python over the payloads: the results (`data`) and their posting times
    results = [t for p in pages for t in json.loads(p.payload)["data"]]
    hours = Counter(dt.datetime.fromisoformat(t["created_at"].replace("Z", "+00:00"))
                    .replace(minute=0, second=0, microsecond=0)
                    for t in results if "created_at" in t)
    no_time = sum("created_at" not in t for t in results)
    assert no_time >= 10 and hours
    peak = min(hours, key=lambda h: (-hours[h], h))

    posts, peak_hour, peak_posts = con.execute(
        "select posts, peak_hour, peak_hour_posts from marts.campaign_summary").fetchone()
    assert posts == len({t["id"] for t in results})
    assert (peak_hour, peak_posts) == (peak, hours[peak])
    assert con.execute("select peak_hour, peak_hour_posts from marts.platform_summary "
                       "where platform = 'x'").fetchone() == (peak, hours[peak])
    days = Counter(h.date() for h in hours.elements())
    assert con.execute("select day, posts, share from marts.share_of_voice "
                       "order by day").fetchall() == [(d, n, 1.0) for d, n in sorted(days.items())]

    written = write_reports(con, cfg, tmp_path / "out")
    con.close()
    html = next(p for p in written if p.suffix == ".html").read_text("utf-8")
    assert (f"{no_time} post(s) have no known posting time" in html
            and "data-untimed" in html)
    summary = json.loads((tmp_path / "out" / "fixtures" / "summary.json").read_text("utf-8"))
    assert summary["posts_without_time"] == no_time
    assert summary["figures"]["posts"] == posts
