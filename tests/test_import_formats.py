"""`tracker import` on every supported format, with counts checked against the real fixtures."""

from __future__ import annotations

import json

import pytest

from tracker.hashtags import normalise_tag

from .conftest import FIXTURES
from .import_helpers import (
    build_and_query,
    make_config,
    mastodon_timeline,
    query,
    run_import,
    v11_search_body,
)
from .test_warehouse import expected_from_payloads, x_post_key

TWARC_FILES = sorted((FIXTURES / "x_v2").glob("twarc2_*.jsonl"))


def readable_lines(path):
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            pass
    return out


def post_ids(cfg, platform=None):
    where, params = ("where platform = ?", [platform]) if platform else ("", [])
    return {r[0] for r in query(cfg, f"select post_id from norm.posts {where}", params)}


@pytest.mark.parametrize("path", TWARC_FILES, ids=lambda p: p.name)
def test_twarc2_fixture_counts(tmp_path, path):
    cfg = make_config(tmp_path)
    pages = readable_lines(path)
    s = run_import(cfg, [path])
    want = expected_from_payloads(pages)
    assert post_ids(cfg) == want["posts"]
    assert {r[0] for r in query(cfg, "select author_id from norm.authors")} == want["authors"]
    assert set(query(cfg, "select post_id, tag from norm.post_hashtags")) == want["tags"]
    assert s.records == sum(1 for ln in path.read_text().splitlines() if ln.strip())
    assert s.pages_new == len(pages)
    assert s.posts_new == len(want["posts"])
    # __twarc.retrieved_at becomes retrieved_at, request names file and line
    rows = query(cfg, "select request, strftime(retrieved_at, '%Y-%m-%dT%H:%M:%S') "
                      "from raw.pages order by request")
    expected = sorted((f"{path}:{i}", p["__twarc"]["retrieved_at"][:19])
                      for i, p in enumerate(pages, 1))
    assert rows == expected


def test_all_twarc2_files_at_once_and_campaign_by_hashtag(tmp_path):
    cfg = make_config(tmp_path)
    s = run_import(cfg, [FIXTURES / "x_v2" / "twarc2_*.jsonl"])
    pages = [p for f in TWARC_FILES for p in readable_lines(f)]
    want = expected_from_payloads(pages)
    assert s.files == len(TWARC_FILES)
    assert post_ids(cfg) == want["posts"]
    # #POIUYTREWQ in the data, "poiuytrewq" in the config: case-insensitive membership
    tagged = {pid for pid, tag in want["tags"] if tag == "poiuytrewq"}
    assert tagged
    linked = {r[0] for r in query(cfg, "select post_id from norm.campaign_posts "
                                       "where campaign = 'poiu'")}
    assert tagged <= linked


def _flatten(page: dict) -> list[dict]:
    """What `twarc2 flatten` writes: one tweet per line, author and references embedded."""
    users = {u["id"]: u for u in page.get("includes", {}).get("users", [])}
    tweets = {t["id"]: t for t in page.get("includes", {}).get("tweets", [])}
    data = page["data"] if isinstance(page["data"], list) else [page["data"]]
    out = []
    for t in data:
        flat = dict(t, author=users[t["author_id"]], __twarc=page["__twarc"])
        refs = []
        for r in t.get("referenced_tweets", []):
            ref = dict(tweets.get(r["id"], {}), type=r["type"], id=r["id"])
            if ref.get("author_id") in users:
                ref["author"] = users[ref["author_id"]]
            refs.append(ref)
        if refs:
            flat["referenced_tweets"] = refs
        out.append(flat)
    return out


def test_twarc2_flatten_lines(tmp_path):
    pages = [p for f in TWARC_FILES for p in readable_lines(f)]
    lines = [t for p in pages for t in _flatten(p)]
    path = tmp_path / "flat.jsonl"
    path.write_text("\n".join(json.dumps(t) for t in lines) + "\n", encoding="utf-8")
    cfg = make_config(tmp_path)
    s = run_import(cfg, [path])
    want = {x_post_key(t) for t in lines} | {x_post_key(r) for t in lines
                                             for r in t.get("referenced_tweets", [])
                                             if "text" in r}
    assert s.bad == 0 and s.records == len(lines)
    assert post_ids(cfg) == want
    authors = {t["author"]["id"] for t in lines}
    got = {r[0] for r in query(cfg, "select author_id from norm.authors")}
    assert authors <= got


def test_twarc2_error_objects_are_recorded_not_posts(tmp_path):
    page = readable_lines(FIXTURES / "x_v2" / "twarc2_two_tweets.jsonl")[0]
    with_errors = dict(page, errors=[{"resource_id": "123", "title": "Not Found Error",
                                      "detail": "Could not find tweet with ids: [123].",
                                      "type": "https://api.twitter.com/2/problems/"
                                              "resource-not-found"}])
    error_only = {"errors": [{"title": "operational-disconnect",
                              "detail": "This stream has been disconnected"}]}
    path = tmp_path / "errs.jsonl"
    path.write_text(json.dumps(with_errors) + "\n" + json.dumps(error_only) + "\n")
    cfg = make_config(tmp_path)
    s = run_import(cfg, [path])
    assert s.api_errors == 2 and s.bad == 0
    assert post_ids(cfg) == expected_from_payloads([page])["posts"]
    assert "123" not in post_ids(cfg)
    rows = query(cfg, "select origin, line, reason from ledger.quarantine order by line")
    assert rows == [
        (str(path), 1, "X API error: Not Found Error: Could not find tweet with ids: [123].: 123"),
        (str(path), 2, "X API error: operational-disconnect: This stream has been disconnected"),
    ]
    assert query(cfg, "select count(*) from raw.pages")[0][0] == 1
    again = run_import(cfg, [path])        # the same archive again: no second copies
    assert (again.api_errors, again.quarantined_before) == (2, 2)
    assert query(cfg, "select origin, line, reason from ledger.quarantine order by line") == rows


def v1_expected(statuses: list[dict]) -> tuple[set, set]:
    posts, authors = set(), set()
    for s in statuses:
        for t in (s, s.get("retweeted_status"), s.get("quoted_status"),
                  (s.get("retweeted_status") or {}).get("quoted_status")):
            if t:
                posts.add(t["id_str"])
                authors.add(t["user"]["id_str"])
    return posts, authors


@pytest.mark.parametrize("layout", ["search_response", "one_status_per_line"])
def test_x_v1_search_cassette(tmp_path, layout):
    body = v11_search_body()
    path = tmp_path / "v1.json"
    if layout == "search_response":
        path.write_text(json.dumps(body, indent=2), encoding="utf-8")  # pretty-printed document
    else:
        path.write_text("".join(json.dumps(s) + "\n" for s in body["statuses"]))
    cfg = make_config(tmp_path)
    s = run_import(cfg, [path])
    posts, authors = v1_expected(body["statuses"])
    assert s.bad == 0
    assert post_ids(cfg) == posts
    assert {r[0] for r in query(cfg, "select author_id from norm.authors")} == authors
    rt = body["statuses"][0]
    row = query(cfg, "select kind, parent_id, created_at, author_id from norm.posts "
                     "where post_id = ?", [rt["id_str"]])[0]
    assert row[:2] == ("repost", rt["retweeted_status"]["id_str"])
    assert row[2].strftime("%a %b %d %H:%M:%S +0000 %Y") == rt["created_at"]
    # followers observed at the tweet's time
    obs = query(cfg, "select followers from norm.author_observations where author_id = ? "
                     "and observed_at = ?", [rt["user"]["id_str"], row[2]])
    assert obs == [(rt["user"]["followers_count"],)]
    tags = set(query(cfg, "select post_id, tag from norm.post_hashtags"))
    want_tags = {(st["id_str"], normalise_tag(h["text"])) for st in body["statuses"]
                 for h in st["entities"]["hashtags"]}
    assert want_tags and want_tags <= tags
    places = query(cfg, "select place from norm.posts where place is not null")
    assert places == [("Badalona, Spain",)]


def test_x_v1_extended_tweet_and_quote(tmp_path):
    user = {"id_str": "42", "screen_name": "aleppo_doc", "name": "Doc", "followers_count": 900,
            "friends_count": 10, "statuses_count": 5, "verified": False,
            "created_at": "Mon Jan 04 09:00:00 +0000 2010"}
    quoted = {"id_str": "700", "created_at": "Thu Apr 28 08:00:00 +0000 2016",
              "text": "Hospital hit", "user": dict(user, id_str="43", screen_name="other"),
              "entities": {"hashtags": []}}
    status = {"id": 728000000000000001, "id_str": "728000000000000001",
              "created_at": "Fri Apr 29 10:00:00 +0000 2016", "truncated": True,
              "text": "Turn your profile red for Aleppo \u2026 https://t.co/x",
              "extended_tweet": {"full_text": "Turn your profile red for Aleppo #حلب_تحترق "
                                              "#MakeFacebookRed",
                                 "entities": {"hashtags": [{"text": "حلب_تحترق"},
                                                           {"text": "MakeFacebookRed"}],
                                              "user_mentions": []}},
              "entities": {"hashtags": [], "user_mentions": [{"screen_name": "Other"}]},
              "is_quote_status": True, "quoted_status_id_str": "700", "quoted_status": quoted,
              "user": user, "lang": "en", "retweet_count": 3, "favorite_count": 7}
    path = tmp_path / "stream.jsonl"
    path.write_text(json.dumps(status, ensure_ascii=False) + "\n", encoding="utf-8")
    cfg = make_config(tmp_path)
    run_import(cfg, [path])
    row = query(cfg, "select text, kind, parent_id, created_at::varchar from norm.posts "
                     "where post_id = '728000000000000001'")[0]
    assert row == ("Turn your profile red for Aleppo #حلب_تحترق #MakeFacebookRed", "quote",
                   "700", "2016-04-29 10:00:00+00")
    campaigns = {r[0] for r in query(cfg, "select campaign from norm.campaign_posts "
                                          "where post_id = '728000000000000001'")}
    assert campaigns == {"aleppo", "red"}
    assert post_ids(cfg) == {"728000000000000001", "700"}
    assert query(cfg, "select likes, reposts from norm.engagement_observations "
                      "where post_id = '728000000000000001'") == [(7, 3)]


@pytest.mark.parametrize("layout", ["array", "jsonl"])
def test_mastodon_cassette_timeline(tmp_path, layout):
    statuses = mastodon_timeline()
    path = tmp_path / "masto.json"
    text = (json.dumps(statuses) if layout == "array"
            else "".join(json.dumps(s) + "\n" for s in statuses))
    path.write_text(text, encoding="utf-8")
    cfg = make_config(tmp_path)
    s = run_import(cfg, [path])
    want = {st["uri"] for st in statuses} | {st["reblog"]["uri"] for st in statuses
                                             if st.get("reblog")}
    assert s.bad == 0 and want
    assert post_ids(cfg, "mastodon") == want
    hoot = {r[0] for r in query(cfg, "select post_id from norm.campaign_posts "
                                     "where campaign = 'hoot'")}
    assert hoot == {st["uri"] for st in statuses if any(t["name"] == "hoot" for t in st["tags"])}


def bluesky_post(i: int, tags: list[str], reply_to: str | None = None) -> dict:
    text = f"Aleppo post {i} " + " ".join("#" + t for t in tags)
    facets, pos = [], 0
    for t in tags:
        start = len(text[: text.index("#" + t, pos)].encode())
        pos = text.index("#" + t, pos) + 1
        facets.append({"index": {"byteStart": start, "byteEnd": start + len(("#" + t).encode())},
                       "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": t}]})
    record = {"$type": "app.bsky.feed.post", "text": text, "langs": ["en"], "facets": facets,
              "createdAt": f"2016-04-29T10:{i:02d}:00.000Z"}
    if reply_to:
        record["reply"] = {"root": {"uri": reply_to, "cid": "bafyroot"},
                           "parent": {"uri": reply_to, "cid": "bafyroot"}}
    return {"uri": f"at://did:plc:abc{i}/app.bsky.feed.post/3k{i}", "cid": f"bafy{i}",
            "author": {"did": f"did:plc:abc{i}", "handle": f"user{i}.bsky.social",
                       "displayName": f"User {i}"},
            "record": record, "replyCount": i, "repostCount": 0, "likeCount": 2 * i,
            "quoteCount": 0, "indexedAt": record["createdAt"]}


def test_bluesky_search_response_and_lines(tmp_path):
    posts = [bluesky_post(1, ["AleppoIsBurning"]), bluesky_post(2, ["aleppoisburning", "Syria"]),
             bluesky_post(3, ["other"], reply_to="at://did:plc:abc1/app.bsky.feed.post/3k1")]
    search = tmp_path / "search.json"
    search.write_text(json.dumps({"posts": posts[:2], "cursor": "2"}))
    lines = tmp_path / "posts.jsonl"
    lines.write_text("".join(json.dumps(p) + "\n" for p in posts[1:]))
    cfg = make_config(tmp_path)
    s = run_import(cfg, [search, lines])
    assert s.records == 3 and s.bad == 0
    assert post_ids(cfg, "bluesky") == {p["uri"] for p in posts}
    assert s.posts_new == 3 and s.duplicates == 1   # post 2 is in both files
    aleppo = {r[0] for r in query(cfg, "select post_id from norm.campaign_posts "
                                       "where campaign = 'aleppo'")}
    assert aleppo == {posts[0]["uri"], posts[1]["uri"]}
    assert query(cfg, "select kind, parent_id from norm.posts where post_id = ?",
                 [posts[2]["uri"]]) == [("reply", posts[0]["uri"])]


def test_x_v1_statuses_without_reply_and_quote_counts_have_no_known_engagement(tmp_path):
    """Standard v1.1 statuses give favorite and retweet counts but no reply or quote count:
    their likes and reposts are shown, their engagement (likes + reposts + replies + quotes)
    is not known, rather than likes + reposts passed off as all of it."""
    statuses = v11_search_body()["statuses"]
    assert not any("reply_count" in s or "quote_count" in s for s in statuses)
    path = tmp_path / "v1.jsonl"
    path.write_text("".join(json.dumps(s) + "\n" for s in statuses))
    cfg = make_config(tmp_path)
    run_import(cfg, [path], campaign="aleppo")
    (got,) = build_and_query(cfg, "select posts, likes, reposts, replies, quotes, engagement, "
                                  "engagement_known_posts from marts.campaign_summary "
                                  "where campaign = 'aleppo'")
    own = [s for s in statuses if "retweeted_status" not in s]   # retweets carry no counts
    assert got == (len(statuses), sum(s["favorite_count"] for s in own),
                   sum(s["retweet_count"] for s in own), None, None, None, 0)


def test_a_retrieved_at_without_zone_is_utc_whatever_the_session_zone(tmp_path):
    """twarc2's __twarc.retrieved_at written without an offset is UTC, also when the
    importing connection (or the machine) is in another zone."""
    import datetime as dt

    from tracker.importers import Importer
    from tracker.store.db import connect

    page = json.loads((FIXTURES / "x_v2" / "twarc2_two_tweets.jsonl")
                      .read_text(encoding="utf-8").splitlines()[0])
    page["__twarc"]["retrieved_at"] = "2024-01-01T00:00:00"
    path = tmp_path / "page.jsonl"
    path.write_text(json.dumps(page) + "\n", encoding="utf-8")
    cfg = make_config(tmp_path)
    con = connect(cfg.warehouse)
    try:
        con.execute("set TimeZone = 'Asia/Kolkata'")
        Importer(con, cfg).run([str(path)])
        got = {r[0] for r in con.execute(
            "select retrieved_at from raw.pages union all "
            "select observed_at from norm.engagement_observations").fetchall()}
    finally:
        con.close()
    assert got == {dt.datetime(2024, 1, 1, tzinfo=dt.UTC)}
