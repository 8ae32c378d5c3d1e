"""`tracker import` on every supported format, with counts checked against the real fixtures."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections import defaultdict

import pytest

from tracker.hashtags import normalise_tag

from .conftest import BACKENDS, FIXTURES, MORE_BACKENDS
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
    """What `twarc2 flatten` writes: one tweet per line, every expansion inlined. A port of
    twarc's own `flatten` (DocNow/twarc src/twarc/expansions.py): `author`,
    `in_reply_to_user`, `attachments.media` (the media objects of `media_keys`), `geo` merged
    with its place, mentions merged with the mentioned users, `referenced_tweets` merged with
    the (expanded) referenced tweets; what includes lack is inlined as `{}`."""
    response = copy.deepcopy(page)
    includes = response.get("includes", {})

    def by(kind: str, key: str = "id") -> defaultdict:
        return defaultdict(dict, {x[key]: x for x in includes.get(kind, [])})

    users = defaultdict(dict, {**by("users"), **by("users", "username")})
    media, polls, places, tweets = by("media", "media_key"), by("polls"), by("places"), \
        by("tweets")

    def expand(payload):
        if isinstance(payload, (str, bool, int, float)):
            return payload
        if isinstance(payload, list):
            return [expand(item) for item in payload]
        if isinstance(payload, dict):
            for key, value in payload.items():
                payload[key] = expand(value)
        if "author_id" in payload:
            payload["author"] = users[payload["author_id"]]
        if "in_reply_to_user_id" in payload:
            payload["in_reply_to_user"] = users[payload["in_reply_to_user_id"]]
        if "media_keys" in payload:
            payload["media"] = [media[k] for k in payload["media_keys"]]
        if "poll_ids" in payload and len(payload["poll_ids"]) > 0:
            payload["poll"] = polls[payload["poll_ids"][-1]]
        if "geo" in payload and "place_id" in payload["geo"]:
            payload["geo"] = {**payload["geo"], **places[payload["geo"]["place_id"]]}
        if "mentions" in payload:
            payload["mentions"] = [{**m, **users[m["username"]]} for m in payload["mentions"]]
        if "referenced_tweets" in payload:
            payload["referenced_tweets"] = [{**r, **tweets[r["id"]]}
                                            for r in payload["referenced_tweets"]]
        if "pinned_tweet_id" in payload:
            payload["pinned_tweet"] = tweets[payload["pinned_tweet_id"]]
        return payload

    for tid, tweet in list(by("tweets").items()):
        tweets[tid] = expand(tweet)
    data = response["data"]
    out = expand(data) if isinstance(data, list) else [expand(data)]
    for tweet in out:
        if "__twarc" in response:
            tweet["__twarc"] = response["__twarc"]
        if "matching_rules" in response:
            tweet["matching_rules"] = response["matching_rules"]
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
    authors = {t["author"]["id"] for t in lines if t["author"]}
    got = {r[0] for r in query(cfg, "select author_id from norm.authors")}
    assert authors <= got


X_MEDIA_TYPES = {"photo": "photo", "video": "video", "animated_gif": "gif"}


def x_media_and_places(pages: list[dict]) -> tuple[dict, dict]:
    """Plain Python over v2 pages: {(post, position): (media_type, url)} of every tweet's
    attachments.media_keys as includes.media describes them (a video's url: its mp4 of the
    highest bit rate; a key not described: unknown, no url; of two deliveries the one with a
    url), and {post: (place full_name, country_code)} of every tweet whose geo.place_id is in
    includes.places."""
    media: dict = {}
    described_places = {pl["id"]: pl for p in pages
                        for pl in p.get("includes", {}).get("places", [])}
    places = {}
    for page in pages:
        includes = page.get("includes", {})
        described = {m["media_key"]: m for m in includes.get("media", [])}
        data = page["data"] if isinstance(page["data"], list) else [page["data"]]
        for t in data + includes.get("tweets", []):
            for pos, k in enumerate(t.get("attachments", {}).get("media_keys", []), 1):
                m = described.get(k, {})
                mp4 = sorted((v.get("bit_rate", 0), v["url"]) for v in m.get("variants", [])
                             if v.get("content_type") == "video/mp4")
                url = m.get("url") or (mp4[-1][1] if mp4 else None)
                if media.get((x_post_key(t), pos), (None, None))[1] is None:
                    media[(x_post_key(t), pos)] = (X_MEDIA_TYPES.get(m.get("type"), "unknown"),
                                                   url)
            pl = described_places.get(t.get("geo", {}).get("place_id"))
            if pl:
                places[x_post_key(t)] = (pl.get("full_name"), pl.get("country_code"))
    return media, places


def test_twarc2_flatten_lines_keep_media_and_places(tmp_path):
    """twarc2 flatten inlines the media (attachments.media) and the place (merged into geo)
    that the page had in includes: the flattened lines give the media types and urls and the
    places the pages give."""
    pages = [p for f in TWARC_FILES for p in readable_lines(f)]
    media, places = x_media_and_places(pages)
    types = sorted(v[0] for v in media.values())
    assert types.count("photo") == 2 and types.count("video") == 1 and len(places) == 8
    lines = [t for p in pages for t in _flatten(p)]
    (tmp_path / "raw").mkdir()
    (tmp_path / "flat").mkdir()
    path = tmp_path / "flat" / "flat.jsonl"
    path.write_text("".join(json.dumps(t) + "\n" for t in lines), encoding="utf-8")
    from_pages, from_lines = make_config(tmp_path / "raw"), make_config(tmp_path / "flat")
    run_import(from_pages, TWARC_FILES)
    assert run_import(from_lines, [path]).bad == 0
    media_sql = "select post_id, position, media_type, url from norm.post_media"
    places_sql = ("select post_id, place, country_code from norm.posts "
                  "where place is not null or country_code is not null")
    want_media = {(post, pos, t, url) for (post, pos), (t, url) in media.items()}
    want_places = {(post, *pl) for post, pl in places.items()}
    assert set(query(from_pages, media_sql)) == want_media
    assert set(query(from_lines, media_sql)) == want_media
    assert set(query(from_pages, places_sql)) == want_places
    assert set(query(from_lines, places_sql)) == want_places
    full = ("select post_id, position, media_id, media_type, url, preview_url, alt_text "
            "from norm.post_media order by all")
    assert query(from_lines, full) == query(from_pages, full)


def _long_post_page() -> dict:
    """The page of twarc2_two_tweets.jsonl with its tweet made a long post, in the shape X
    documents: `note_tweet` {text, entities} holds the full text and its entities, `text` and
    `entities` only the first 280 characters. #AleppoIsBurning, a mention and a link come after
    character 280: only note_tweet.entities names them."""
    page = readable_lines(FIXTURES / "x_v2" / "twarc2_two_tweets.jsonl")[0]
    t = page["data"][0]
    del t["referenced_tweets"]                   # an original post, no longer a retweet
    page["includes"]["tweets"] = []
    full = ("#POIUYTREWQ " + "Hospitals in Aleppo were hit again tonight, and again. " * 6
            + "#AleppoIsBurning @bibaigna96 https://t.co/Ab12Cd34Ef")

    def span(s: str) -> dict:
        return {"start": full.index(s), "end": full.index(s) + len(s)}

    url = {**span("https://t.co/Ab12Cd34Ef"), "url": "https://t.co/Ab12Cd34Ef",
           "expanded_url": "https://example.org/aleppo/report",
           "display_url": "example.org/aleppo/r\u2026"}
    t["note_tweet"] = {"text": full, "entities": {
        "hashtags": [{**span("#POIUYTREWQ"), "tag": "POIUYTREWQ"},
                     {**span("#AleppoIsBurning"), "tag": "AleppoIsBurning"}],
        "mentions": [{**span("@bibaigna96"), "username": "bibaigna96"}],
        "urls": [url]}}
    t["text"] = full[:279] + "\u2026"
    t["entities"] = {"hashtags": [{**span("#POIUYTREWQ"), "tag": "POIUYTREWQ"}]}
    assert full.index("#AleppoIsBurning") > 280 and "AleppoIsBurning" not in t["text"]
    return page


def test_twarc2_long_post_entities_come_from_note_tweet(tmp_path):
    """A long post's hashtags, mentions and links are those of note_tweet.entities (the whole
    text), not of the top-level entities (its first 280 characters)."""
    page = _long_post_page()
    path = tmp_path / "long.jsonl"
    path.write_text(json.dumps(page, ensure_ascii=False) + "\n", encoding="utf-8")
    cfg = make_config(tmp_path)
    run_import(cfg, [path])
    t = page["data"][0]
    ents = t["note_tweet"]["entities"]
    # plain Python: the entities of the full text, each one read back from the text
    full = t["note_tweet"]["text"]
    tags = {(t["id"], normalise_tag(full[h["start"] + 1:h["end"]])) for h in ents["hashtags"]}
    mentions = {(t["id"], full[m["start"] + 1:m["end"]].lower()) for m in ents["mentions"]}
    links = {(t["id"], u["url"], u["expanded_url"]) for u in ents["urls"]
             if full[u["start"]:u["end"]] == u["url"]}
    assert (t["id"], "aleppoisburning") in tags and len(links) == 1
    assert query(cfg, "select text from norm.posts") == [(full,)]
    assert set(query(cfg, "select post_id, tag from norm.post_hashtags")) == tags
    assert set(query(cfg, "select post_id, mentioned_handle from norm.post_mentions")) == mentions
    assert set(query(cfg, "select post_id, url, expanded_url from norm.post_urls")) == links
    got = build_and_query(cfg, "select campaign, post_id from core.campaign_posts "
                               "order by campaign")
    assert got == [("aleppo", t["id"]), ("poiu", t["id"])]
    (row,) = build_and_query(cfg, "select posts from marts.hashtags "
                                  "where campaign = 'aleppo' and tag = 'aleppoisburning'")
    assert row == (1,)


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


def _capture_with_the_original_at_creation() -> list[dict]:
    """A filter-stream capture (twarc1, Stream Grab) in the real v1.1 shape, from the
    cassette: line 1 is the original as the stream delivered it at its creation (no likes or
    retweets yet; its author one follower short of the later snapshot), line 2 the real
    retweet whose `retweeted_status` carries the original's later counts. Both lines come
    from one file, so the importer stamps both observations with one time."""
    retweet = v11_search_body()["statuses"][0]
    original = json.loads(json.dumps(retweet["retweeted_status"]))
    original.update(favorite_count=0, retweet_count=0)
    original["user"]["followers_count"] -= 1
    return [original, retweet]


def _newest(observations: list[tuple]) -> dict:
    """Plain Python: per key, the newest observation; at one instant the largest counts."""
    out: dict = {}
    for key, at, counts in observations:
        if key not in out or (at, counts) > out[key]:
            out[key] = (at, counts)
    return {k: v[1] for k, v in out.items()}


@pytest.mark.parametrize("backend", BACKENDS)
def test_engagement_and_followers_do_not_depend_on_where_batches_are_cut(tmp_path, monkeypatch,
                                                                       backend):
    """The original captured with 0 likes and its retweet carrying 47 likes are observed at
    the same instant (the file's time). One batch kept the larger counts; one record per
    batch kept the row stored first (0 likes). Either way the result is now the same."""
    from tracker.importers import run as import_run

    lines = _capture_with_the_original_at_creation()
    path = tmp_path / "capture.jsonl"
    path.write_text("".join(json.dumps(s) + "\n" for s in lines))
    at = path.stat().st_mtime
    statuses = [s for s in lines for s in (s, s.get("retweeted_status")) if s]
    engagement = _newest([(s["id_str"], at, (s["favorite_count"], s["retweet_count"]))
                          for s in statuses])
    followers = _newest([(s["user"]["id_str"], s["created_at"], (s["user"]["followers_count"],))
                         for s in statuses])
    original = lines[0]["id_str"]
    assert engagement[original] == (47, 7)
    posts = {s["id_str"] for s in statuses}
    own = [p for p in posts if p != lines[1]["id_str"]]   # the retweet carries no counts
    results = []
    for batch_records in (import_run.BATCH_RECORDS, 1):
        monkeypatch.setattr(import_run, "BATCH_RECORDS", batch_records)
        (tmp_path / str(batch_records)).mkdir()
        cfg = make_config(tmp_path / str(batch_records), backend=backend)
        run_import(cfg, [path], campaign="aleppo")
        norm_engagement = dict(
            (r[0], tuple(r[1:])) for r in query(
                cfg, "select post_id, arg_max(likes, observed_at), arg_max(reposts, observed_at) "
                     "from norm.engagement_observations group by post_id"))
        norm_followers = dict(
            (r[0], (r[1],)) for r in query(
                cfg, "select author_id, arg_max(followers, observed_at) "
                     "from norm.author_observations group by author_id"))
        assert norm_engagement == engagement
        assert norm_followers == followers
        summary = build_and_query(cfg, "select posts, likes, reposts from marts.campaign_summary "
                                       "where campaign = 'aleppo'")
        assert summary == [(len(posts), sum(engagement[p][0] for p in own),
                            sum(engagement[p][1] for p in own))]
        # v1.1 search statuses give no reply or quote count: engagement unknown, not ranked
        top = query(cfg, "select post_id, likes, reposts from marts.top_posts "
                         "where campaign = 'aleppo'")
        assert top == []
        results.append((norm_engagement, norm_followers, summary))
    assert results[0] == results[1]


def _ms(created_at: str) -> int:
    return int(dt.datetime.strptime(created_at, "%a %b %d %H:%M:%S %z %Y").timestamp() * 1000)


@pytest.mark.parametrize("backend", MORE_BACKENDS)
def test_streamed_statuses_are_observed_when_the_stream_delivered_them(tmp_path, backend):
    """A streamed v1.1 status carries `timestamp_ms`, its delivery time: its counts and those
    of the statuses it embeds are observed then, not at the file's time. Here the original's
    capture sits in a file copied later than the retweet's: by file times the 0 likes of its
    creation were the newest; by the stream's times the retweet's 47 likes are."""
    import os

    original, retweet = _capture_with_the_original_at_creation()
    original["timestamp_ms"] = str(_ms(original["created_at"]))
    retweet["timestamp_ms"] = str(_ms(retweet["created_at"]))
    first, later = tmp_path / "original.jsonl", tmp_path / "retweet.jsonl"
    first.write_text(json.dumps(original) + "\n")
    later.write_text(json.dumps(retweet) + "\n")
    os.utime(later, (1_600_000_000, 1_600_000_000))
    os.utime(first, (1_700_000_000, 1_700_000_000))   # the original's file copied last
    # plain Python: each status and what it embeds observed at the line's timestamp_ms
    observed = [(s["id_str"], int(line["timestamp_ms"]), (s["favorite_count"], s["retweet_count"]))
                for line in (original, retweet)
                for s in (line, line.get("retweeted_status")) if s]
    newest = _newest(observed)
    at = max(ms for pid, ms, _ in observed if pid == original["id_str"])
    assert newest[original["id_str"]] == (47, 7)
    cfg = make_config(tmp_path, backend=backend)
    run_import(cfg, [first, later], campaign="aleppo")
    got = query(cfg, "select post_id, arg_max(likes, observed_at), arg_max(reposts, observed_at), "
                     "epoch_ms(max(observed_at)) from norm.engagement_observations "
                     "group by post_id order by post_id")
    assert {r[0]: (r[1], r[2]) for r in got} == newest
    assert dict((r[0], r[3]) for r in got)[original["id_str"]] == at
    (summary,) = build_and_query(cfg, "select likes, reposts from marts.campaign_summary "
                                      "where campaign = 'aleppo'")
    assert summary == newest[original["id_str"]]


def test_a_retrieved_at_without_zone_is_utc_whatever_the_session_zone(tmp_path):
    """twarc2's __twarc.retrieved_at written without an offset is UTC, also when the
    importing connection (or the machine) is in another zone."""
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
