"""Which posts a campaign counts, on real recorded archives.

`tracker import FILE --campaign C` counts the posts the archive delivered as results (twarc2
`data`, v1.1 status lines), deduplicated, plus only those context posts (includes.tweets,
retweeted/quoted statuses) that carry one of C's tags, all inside C's window. The expected
figures are computed here in plain Python from the JSON, never with the project's SQL.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from zoneinfo import ZoneInfo

import pytest

from tracker.hashtags import normalise_tag
from tracker.models import build
from tracker.store.db import connect

from .conftest import FIXTURES, jsonl
from .import_helpers import make_config, query, run_import, v11_search_body

TWARC_FILES = sorted((FIXTURES / "x_v2").glob("twarc2_*.jsonl"))


def ts(value: str) -> dt.datetime:
    if value[:1].isalpha():   # v1.1: 'Fri Apr 29 10:00:00 +0000 2016'
        return dt.datetime.strptime(value, "%a %b %d %H:%M:%S %z %Y").astimezone(dt.UTC)
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(dt.UTC)


class Expected:
    """Posts as delivered, with what the campaign figures need."""

    def __init__(self) -> None:
        self.posts: dict[str, dict] = {}
        self.followers: dict[str, dict[dt.datetime, int]] = defaultdict(dict)

    def add(self, key: str, created: str, author: str, kind: str, tags: list[str],
            matched: bool) -> None:
        post = self.posts.setdefault(key, {"created": ts(created), "author": author,
                                           "kind": kind, "tags": set(), "matched": False})
        post["created"] = min(post["created"], ts(created))
        post["tags"] |= {normalise_tag(t) for t in tags}
        post["matched"] = post["matched"] or matched

    def observe(self, author: str, at: dt.datetime, followers: int) -> None:
        seen = self.followers[author].get(at)
        self.followers[author][at] = followers if seen is None else max(seen, followers)

    def counted(self, tags: set[str], start=None, end=None, tz="UTC") -> dict[str, dict]:
        def inside(p):
            day = p["created"].astimezone(ZoneInfo(tz)).date()
            return (start is None or day >= start) and (end is None or day <= end)
        return {k: p for k, p in self.posts.items()
                if (p["matched"] or p["tags"] & tags) and inside(p)}

    def followers_at(self, post: dict) -> int | None:
        obs = sorted(self.followers.get(post["author"], {}).items())
        before = [f for at, f in obs if at <= post["created"]]
        return before[-1] if before else (obs[0][1] if obs else None)


def twarc2_expected() -> Expected:
    want = Expected()
    for path in TWARC_FILES:
        for page in jsonl(path):
            data = page.get("data")
            results = data if isinstance(data, list) else [data] if data else []
            context = page.get("includes", {}).get("tweets", [])
            for i, t in enumerate(results + context):
                refs = [r["type"] for r in t.get("referenced_tweets", [])]
                kind = ("repost" if "retweeted" in refs else "quote" if "quoted" in refs
                        else "reply" if "replied_to" in refs else "original")
                key = (t.get("edit_history_tweet_ids") or [t["id"]])[0]
                want.add(key, t["created_at"], t["author_id"], kind,
                         [h["tag"] for h in t.get("entities", {}).get("hashtags", [])],
                         matched=i < len(results))
            at = ts(page["__twarc"]["retrieved_at"])
            for u in page.get("includes", {}).get("users", []):
                if "public_metrics" in u:
                    want.observe(u["id"], at, u["public_metrics"]["followers_count"])
    return want


def v11_expected(body: dict) -> Expected:
    want = Expected()
    for s in body["statuses"]:
        nested = [(s, True)] + [(s[k], False) for k in ("retweeted_status", "quoted_status")
                                if isinstance(s.get(k), dict)]
        for st, matched in nested:
            kind = ("repost" if isinstance(st.get("retweeted_status"), dict)
                    else "quote" if st.get("quoted_status_id_str")
                    else "reply" if st.get("in_reply_to_status_id_str") else "original")
            want.add(st["id_str"], st["created_at"], st["user"]["id_str"], kind,
                     [h["text"] for h in st["entities"]["hashtags"]], matched)
            # v1.1 user objects are snapshots taken with the status: observed at its time
            want.observe(st["user"]["id_str"], ts(st["created_at"]),
                         st["user"]["followers_count"])
    return want


CAMPAIGN = """
[[campaigns]]
name = "tw"
hashtags = ["gaming", "POIUYTREWQ"]
{window}
"""


def figures(cfg, campaign: str) -> tuple[dict, dict]:
    con = connect(cfg.warehouse)
    try:
        build(con, cfg.campaigns)
    finally:
        con.close()
    rows = query(cfg, "select post_id, kind, followers_at_post from core.campaign_posts "
                      "where campaign = ?", [campaign])
    (summary,) = query(cfg, "select posts, contributors, potential_impressions, first_post "
                            "from marts.campaign_summary where campaign = ?", [campaign])
    return {r[0]: (r[1], r[2]) for r in rows}, dict(zip(
        ("posts", "contributors", "potential_impressions", "first_post"), summary, strict=True))


def expected_figures(want: Expected, counted: dict[str, dict]) -> tuple[dict, dict]:
    posts = {k: (p["kind"], want.followers_at(p)) for k, p in counted.items()}
    return posts, {
        "posts": len(counted),
        "contributors": len({p["author"] for p in counted.values()}),
        "potential_impressions": sum(f for _, f in posts.values() if f is not None),
        "first_post": min(p["created"] for p in counted.values()),
    }


@pytest.mark.parametrize("window, start, end", [
    ("", None, None),
    # a window (local dates in Damascus) that leaves out the 2022 results and context
    ('start = 2020-01-01\nend = 2021-12-31\ntimezone = "Asia/Damascus"',
     dt.date(2020, 1, 1), dt.date(2021, 12, 31)),
])
def test_twarc2_archive_counts_results_and_tagged_context_only(tmp_path, window, start, end):
    cfg = make_config(tmp_path, CAMPAIGN.format(window=window))
    run_import(cfg, TWARC_FILES, campaign="tw")
    want = twarc2_expected()
    context_only = {k for k, p in want.posts.items() if not p["matched"]}
    assert context_only, "the archives carry context tweets"
    counted = want.counted({"gaming", "poiuytrewq"}, start, end, "Asia/Damascus")
    assert counted, "the window keeps some posts"
    posts, summary = figures(cfg, "tw")
    assert (posts, summary) == expected_figures(want, counted)
    if start is None:
        # the tagged context tweets count, the untagged ones do not
        assert {k for k in posts if not want.posts[k]["matched"]} == {
            k for k in context_only if want.posts[k]["tags"] & {"gaming", "poiuytrewq"}} != set()
    # context tweets stay stored (a reply's parent, the quoted text), counted or not
    stored = {r[0] for r in query(cfg, "select post_id from norm.posts where not matched")}
    assert stored == context_only


def test_v11_search_counts_the_statuses_not_the_retweeted_ones(tmp_path):
    body = v11_search_body()
    path = tmp_path / "search.json"
    path.write_text(json.dumps(body), encoding="utf-8")
    cfg = make_config(tmp_path, CAMPAIGN.format(window=""))
    run_import(cfg, [path], campaign="tw")
    want = v11_expected(body)
    assert any(not p["matched"] for p in want.posts.values()), "the search has retweets"
    counted = want.counted({"gaming", "poiuytrewq"})
    assert len(counted) == len({s["id_str"] for s in body["statuses"]})
    assert figures(cfg, "tw") == expected_figures(want, counted)


def test_a_post_matched_later_is_matched(tmp_path):
    """A tweet first stored as context, then returned as a result, counts: matched wins."""
    two = FIXTURES / "x_v2" / "twarc2_two_tweets.jsonl"
    page = json.loads(two.read_text(encoding="utf-8").splitlines()[0])
    parent = page["includes"]["tweets"][0]
    later = tmp_path / "later.jsonl"
    later.write_text(json.dumps({"data": [parent], "includes": {"users": page["includes"][
        "users"]}, "__twarc": page["__twarc"]}) + "\n", encoding="utf-8")
    cfg = make_config(tmp_path, '[[campaigns]]\nname = "solo"\nhashtags = ["nothing_here"]\n')
    run_import(cfg, [two], campaign="solo")
    assert query(cfg, "select matched from norm.posts where post_id = ?", [parent["id"]]) == [
        (False,)]
    run_import(cfg, [later], campaign="solo")
    assert query(cfg, "select matched from norm.posts where post_id = ?", [parent["id"]]) == [
        (True,)]
    posts, _ = figures(cfg, "solo")
    assert parent["id"] in posts


def test_two_clean_imports_of_the_same_input_give_the_same_figures(tmp_path):
    """Every mart, row for row, after importing the same archives into two new warehouses:
    no figure or label (e.g. the spelling shown for a tag) depends on the run."""
    body = v11_search_body()
    v11 = tmp_path / "v11.json"
    v11.write_text(json.dumps(body), encoding="utf-8")
    inputs = [*TWARC_FILES, v11, *sorted((FIXTURES / "mastodon").glob("mpy_*")),
              *sorted((FIXTURES / "bluesky").glob("bskyr_search*.json"))]
    tables = []
    for run in ("a", "b"):
        (tmp_path / run).mkdir()
        cfg = make_config(tmp_path / run, '[[campaigns]]\nname = "all"\nhashtags = '
                                          '["gaming", "poiuytrewq", "python", "hoot"]\n')
        run_import(cfg, inputs)
        con = connect(cfg.warehouse)
        try:
            build(con, cfg.campaigns)
            names = [r[0] for r in con.execute(
                "select schema_name || '.' || table_name from duckdb_tables() "
                "where schema_name in ('core', 'marts') and table_name <> 'build_state' "
                "order by 1").fetchall()]
            tables.append({t: sorted(con.execute(f"select * exclude (norm_row) from {t}"
                                                 if "norm_row" in _columns(con, t)
                                                 else f"select * from {t}").fetchall(),
                                     key=repr)
                           for t in names})
        finally:
            con.close()
    assert tables[0].keys() == tables[1].keys() and len(tables[0]) > 10
    assert any(tables[0]["marts.campaign_summary"])
    for t in tables[0]:
        assert tables[0][t] == tables[1][t], t


def _columns(con, table: str) -> list[str]:
    schema, name = table.split(".")
    return [r[0] for r in con.execute("select column_name from information_schema.columns "
                                      "where table_schema = ? and table_name = ?",
                                      [schema, name]).fetchall()]


def test_x_edits_are_one_post_with_the_latest_text_and_every_version_kept(tmp_path):
    path = FIXTURES / "x_v2" / "twarc2_edited.jsonl"
    page = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    data = page["data"] if isinstance(page["data"], list) else [page["data"]]
    versions = {t["id"]: t for t in [*data, *page["includes"]["tweets"]]}
    history = data[0]["edit_history_tweet_ids"]
    assert len(history) == 2 and set(history) <= set(versions)
    cfg = make_config(tmp_path)
    run_import(cfg, [path])
    latest = versions[history[-1]]
    assert query(cfg, "select post_id, text, version_id, created_at, edited_at from norm.posts"
                 ) == [(history[0], latest["text"], history[-1],
                        ts(versions[history[0]]["created_at"]), ts(latest["created_at"]))]
    assert query(cfg, "select version_id, text, version_at from norm.post_versions "
                      "order by version_at") == [
        (v, versions[v]["text"], ts(versions[v]["created_at"])) for v in history]


def test_a_reply_that_quotes_keeps_both_links(tmp_path):
    """A tweet that quotes one version of an edited tweet and replies to the other: both
    links kept, each pointing at the post (the edit history's first id)."""
    path = FIXTURES / "x_v2" / "twarc2_quoted_edit.jsonl"
    page = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    tweet = page["data"] if isinstance(page["data"], dict) else page["data"][0]
    refs = {r["type"]: r["id"] for r in tweet["referenced_tweets"]}
    assert set(refs) == {"quoted", "replied_to"}
    edits = {t["id"]: t["edit_history_tweet_ids"][0] for t in page["includes"]["tweets"]}
    cfg = make_config(tmp_path)
    run_import(cfg, [path])
    assert query(cfg, "select kind, parent_id, quote_of_id, reply_to_id from norm.posts "
                      "where post_id = ?", [tweet["id"]]) == [
        ("quote", edits[refs["quoted"]], edits[refs["quoted"]], edits[refs["replied_to"]])]
