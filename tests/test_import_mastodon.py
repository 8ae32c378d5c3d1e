"""Mastodon statuses on real recorded bodies (tests/fixtures/shared/mastodon): quotes in every
state, quote + reply, handles with their server, edits, and the empty last page of a tag
timeline. Expected values are read from the JSON here, never from the project's SQL."""

from __future__ import annotations

import copy
import datetime as dt
import html
import json
import re
from urllib.parse import urlsplit

from .conftest import FIXTURES, jsonl
from .import_helpers import build_and_query, make_config, query, run_import

STATUSES = FIXTURES / "mastodon" / "mpy_statuses_quote_reblog_poll_edit.jsonl"
TAG_PAGES = FIXTURES / "mastodon" / "mpy_tag_timeline_pages.jsonl"


def bodies() -> list[dict]:
    return jsonl(STATUSES)


def write(path, statuses: list[dict]):
    path.write_text("".join(json.dumps(s) + "\n" for s in statuses), encoding="utf-8")
    return path


def plain(content: str) -> str:
    """Status HTML as text, the way a reader sees it (tags dropped, entities decoded)."""
    return html.unescape(re.sub(r"<[^>]+>", "", re.sub(r"<br\s*/?>|</p><p>", " ", content)))


def with_server(acct: str, url: str) -> str:
    return acct if "@" in acct else f"{acct}@{urlsplit(url).netloc}"


def posts(cfg) -> dict[str, dict]:
    rows = query(cfg, "select post_id, kind, parent_id, reply_to_id, quote_of_id, matched, "
                      "text, edited_at from norm.posts where platform = 'mastodon'")
    names = ("kind", "parent_id", "reply_to_id", "quote_of_id", "matched", "text", "edited_at")
    return {r[0]: dict(zip(names, r[1:], strict=True)) for r in rows}


def is_quote(s: dict) -> bool:
    return isinstance(s.get("quote"), dict)


def test_quote_posts_are_quotes_in_every_state(tmp_path):
    statuses = bodies()
    quotes = [s for s in statuses if is_quote(s)]
    states = {s["quote"]["state"] for s in quotes}
    assert {"accepted", "revoked"} <= states            # the fixture holds both
    cfg = make_config(tmp_path)
    s = run_import(cfg, [STATUSES])
    assert (s.bad, s.status) == (0, "ok")
    got = posts(cfg)
    # the quoted uri, from any delivery that shows the quoted status
    shown = {q["uri"]: q["quote"]["quoted_status"]["uri"] for q in quotes
             if q["quote"].get("quoted_status")}
    for q in quotes:
        assert got[q["uri"]]["kind"] == "quote", q["quote"]["state"]
        assert got[q["uri"]]["quote_of_id"] == shown.get(q["uri"])
        assert got[q["uri"]]["parent_id"] == shown.get(q["uri"])
    kinds = {uri: p["kind"] for uri, p in got.items()}
    assert sum(k == "quote" for k in kinds.values()) == len({q["uri"] for q in quotes})
    assert sum(k == "repost" for k in kinds.values()) == len(
        {s["uri"] for s in statuses if s.get("reblog")})


def test_a_revoked_quote_alone_is_a_quote_of_an_unknown_post(tmp_path):
    revoked = [s for s in bodies() if is_quote(s) and s["quote"]["state"] == "revoked"]
    assert revoked and all(s["quote"]["quoted_status"] is None for s in revoked)
    cfg = make_config(tmp_path)
    run_import(cfg, [write(tmp_path / "revoked.jsonl", revoked[:1])])
    got = posts(cfg)
    assert list(got) == [revoked[0]["uri"]]     # nothing else: the quoted post is not shown
    p = got[revoked[0]["uri"]]
    assert (p["kind"], p["quote_of_id"], p["parent_id"], p["matched"]) == (
        "quote", None, None, True)


def test_quoted_status_is_stored_as_context_with_its_text(tmp_path):
    quote = next(s for s in bodies() if is_quote(s) and s["quote"].get("quoted_status")
                 and not s.get("in_reply_to_id"))
    quoted = quote["quote"]["quoted_status"]
    cfg = make_config(tmp_path)
    run_import(cfg, [write(tmp_path / "quote.jsonl", [quote])])
    got = posts(cfg)
    assert set(got) == {quote["uri"], quoted["uri"]}
    assert got[quote["uri"]]["matched"] is True
    assert got[quoted["uri"]]["matched"] is False
    assert got[quoted["uri"]]["text"] == plain(quoted["content"]).strip()
    assert got[quote["uri"]]["quote_of_id"] == quoted["uri"]
    authors = dict(query(cfg, "select author_id, handle from norm.authors"))
    assert authors[quoted["account"]["url"]] == with_server(quoted["account"]["acct"],
                                                            quoted["account"]["url"])


def test_quote_that_is_also_a_reply_keeps_both_links(tmp_path):
    statuses = bodies()
    both = next(s for s in statuses if is_quote(s) and s.get("in_reply_to_id"))
    # in_reply_to_id is the reading instance's local id: the parent is the status with that
    # id (and that account id) among the statuses read
    parent = next(s for s in statuses if s["id"] == both["in_reply_to_id"]
                  and s["account"]["id"] == both["in_reply_to_account_id"])
    cfg = make_config(tmp_path)
    run_import(cfg, [STATUSES])
    p = posts(cfg)[both["uri"]]
    assert p["kind"] == "quote"                 # repost > quote > reply
    assert p["quote_of_id"] == p["parent_id"] == both["quote"]["quoted_status"]["uri"]
    assert p["reply_to_id"] == parent["uri"]
    assert p["reply_to_id"] != p["quote_of_id"]


def test_links_resolve_across_the_slices_of_a_batch_in_either_order(tmp_path, monkeypatch):
    """A large batch is parsed in slices: a parent read in another slice, before or after
    the reply, still resolves; so does a quote's uri known only from another delivery."""
    from tracker.importers import run

    monkeypatch.setattr(run, "SLICE_BYTES", 1)          # one record per slice
    statuses = bodies()
    both = next(s for s in statuses if is_quote(s) and s.get("in_reply_to_id"))
    parent = next(s for s in statuses if s["id"] == both["in_reply_to_id"])
    revoked = next(s for s in statuses if is_quote(s) and s["quote"]["state"] == "revoked")
    accepted = next(s for s in statuses if s["uri"] == revoked["uri"]
                    and s["quote"]["state"] == "accepted")
    for n, order in enumerate(([parent, both, revoked, accepted],
                               [accepted, revoked, both, parent])):
        (tmp_path / str(n)).mkdir()
        cfg = make_config(tmp_path / str(n))
        run_import(cfg, [write(tmp_path / f"{n}.jsonl", order)])
        got = posts(cfg)
        assert got[both["uri"]]["reply_to_id"] == parent["uri"]
        assert got[revoked["uri"]]["quote_of_id"] == accepted["quote"]["quoted_status"]["uri"]


def test_reply_whose_parent_was_not_read_keeps_kind_reply_without_a_link(tmp_path):
    both = next(s for s in bodies() if is_quote(s) and s.get("in_reply_to_id"))
    cfg = make_config(tmp_path)
    reply = dict(copy.deepcopy(both), quote=None)   # the same status, as a plain reply
    run_import(cfg, [write(tmp_path / "alone.jsonl", [both])])
    p = posts(cfg)[both["uri"]]
    assert (p["kind"], p["reply_to_id"], p["quote_of_id"]) == (
        "quote", None, both["quote"]["quoted_status"]["uri"])
    (tmp_path / "plain").mkdir()
    cfg2 = make_config(tmp_path / "plain")
    run_import(cfg2, [write(tmp_path / "reply.jsonl", [reply])])
    p = posts(cfg2)[reply["uri"]]
    assert (p["kind"], p["parent_id"], p["reply_to_id"]) == ("reply", None, None)


def test_a_local_id_shared_by_two_instances_is_not_guessed(tmp_path):
    """Status ids are per instance: when two statuses read carry the parent's local id (and
    its account id), the link is left unknown rather than picked."""
    statuses = bodies()
    both = next(s for s in statuses if is_quote(s) and s.get("in_reply_to_id"))
    parent = next(s for s in statuses if s["id"] == both["in_reply_to_id"])
    elsewhere = copy.deepcopy(parent)
    elsewhere["uri"] = "https://other.example/users/x/statuses/1"
    cfg = make_config(tmp_path)
    run_import(cfg, [write(tmp_path / "two.jsonl", [parent, elsewhere, both])])
    assert posts(cfg)[both["uri"]]["reply_to_id"] is None


def test_handles_always_carry_their_server(tmp_path):
    statuses = bodies()
    cfg = make_config(tmp_path)
    run_import(cfg, [STATUSES])
    accounts = {}
    for s in statuses:
        for st in (s, s.get("reblog"), (s.get("quote") or {}).get("quoted_status")):
            if st:
                accounts[st["account"]["url"]] = with_server(st["account"]["acct"],
                                                              st["account"]["url"])
    assert any("@" not in a["account"]["acct"] for a in statuses)   # local accounts
    assert dict(query(cfg, "select author_id, handle from norm.authors")) == accounts
    mentions = {(s["uri"], with_server(m["acct"], m["url"]).lower())
                for s in statuses for m in s["mentions"]}
    assert mentions
    assert set(query(cfg, "select post_id, mentioned_handle from norm.post_mentions")) == \
        mentions


def edit_pair() -> tuple[dict, dict]:
    """The first status the fixture holds before and after an edit (same uri)."""
    statuses = bodies()
    after = next(s for s in statuses if s.get("edited_at"))
    before = next(s for s in statuses if s["uri"] == after["uri"] and not s.get("edited_at"))
    return before, after


def test_edit_updates_text_and_keeps_every_version(tmp_path):
    statuses = bodies()
    edited = {s["uri"] for s in statuses if s.get("edited_at")}
    assert len(edited) == 2
    cfg = make_config(tmp_path)
    run_import(cfg, [STATUSES])
    got = posts(cfg)
    versions = query(cfg, "select post_id, version_at, text from norm.post_versions "
                          "order by post_id, version_at")
    want = []
    for uri in sorted(edited):
        seen = [s for s in statuses if s["uri"] == uri]
        latest = max(seen, key=lambda s: s.get("edited_at") or "")
        assert got[uri]["text"] == plain(latest["content"]).strip()
        assert got[uri]["edited_at"] == dt.datetime.fromisoformat(latest["edited_at"])
        want += sorted((uri, dt.datetime.fromisoformat(s.get("edited_at") or s["created_at"]),
                        plain(s["content"]).strip()) for s in seen)
    assert [(p, v.astimezone(dt.UTC), t) for p, v, t in versions] == want


def test_edit_read_later_adds_its_tag_and_an_older_read_changes_nothing(tmp_path):
    before, after = edit_pair()
    # the recorded edit changed only the text: give the edited version a tag, as an edit can
    after = copy.deepcopy(after)
    after["content"] = after["content"].replace("</p>", " #kate</p>")
    after["tags"] = [{"name": "kate", "url": "http://localhost:3000/tags/kate"}]
    cfg = make_config(tmp_path, '[[campaigns]]\nname = "kate"\nhashtags = ["Kate"]\n')
    run_import(cfg, [write(tmp_path / "before.jsonl", [before])])
    assert posts(cfg)[before["uri"]]["text"] == plain(before["content"]).strip()
    run_import(cfg, [write(tmp_path / "after.jsonl", [after])])
    run_import(cfg, [write(tmp_path / "before-again.jsonl", [before])])   # older: ignored
    p = posts(cfg)[after["uri"]]
    assert p["text"] == plain(after["content"]).strip()
    assert query(cfg, "select text from norm.post_versions order by version_at") == [
        (plain(before["content"]).strip(),), (plain(after["content"]).strip(),)]
    assert query(cfg, "select tag from norm.post_hashtags where post_id = ?",
                 [after["uri"]]) == [("kate",)]
    assert query(cfg, "select campaign from norm.campaign_posts where post_id = ?",
                 [after["uri"]]) == [("kate",)]


def test_empty_last_page_is_read_not_bad(tmp_path):
    pages = [json.loads(line) for line in TAG_PAGES.read_text("utf-8").splitlines()]
    assert pages[-1] == [] and all(pages[:-1])
    cfg = make_config(tmp_path)
    s = run_import(cfg, [TAG_PAGES])
    assert (s.records, s.pages_new, s.bad, s.status) == (len(pages), len(pages) - 1, 0, "ok")
    assert query(cfg, "select count(*) from ledger.quarantine") == [(0,)]
    want = set()
    for page in pages:
        for st in page:
            for x in (st, st.get("reblog"), (st.get("quote") or {}).get("quoted_status")):
                if x:
                    want.add(x["uri"])
    assert set(posts(cfg)) == want
    assert query(cfg, "select status from ledger.runs") == [("ok",)]


def test_a_hidden_follower_count_of_minus_one_is_not_known(tmp_path):
    """glitch-soc servers (infosec.exchange) send followers_count -1 for an account that
    hides it: that account's posts have no known followers and add nothing to the reach."""
    statuses = json.loads((FIXTURES / "mastodon" / "mpy_public_timeline.json")
                          .read_text(encoding="utf-8"))
    hidden = "http://localhost:3000/@mastodonpy_test_2"
    for s in statuses:
        if s["account"]["url"] == hidden:
            s["account"]["followers_count"] = -1
    path = tmp_path / "public.json"
    path.write_text(json.dumps(statuses), encoding="utf-8")
    cfg = make_config(tmp_path, '[[campaigns]]\nname = "timeline"\n'
                                'hashtags = ["unused_tag_timeline"]\n')
    run_import(cfg, [path], campaign="timeline")
    # in plain Python: every status is the campaign's; a negative count is not known
    followers = {s["uri"]: s["account"]["followers_count"] for s in statuses}
    known = {u: f for u, f in followers.items() if f >= 0}
    reach: dict[str, int] = {}
    for s in statuses:
        if s["account"]["followers_count"] >= 0:
            a = s["account"]["url"]
            reach[a] = max(reach.get(a, 0), s["account"]["followers_count"])
    assert len(known) < len(statuses)
    got = build_and_query(cfg, "select posts, followers_known_posts, potential_reach, "
                               "potential_impressions from marts.campaign_summary "
                               "where campaign = 'timeline'")
    assert got == [(len(statuses), len(known), sum(reach.values()), sum(known.values()))]
    obs = dict(query(cfg, "select author_id, followers from norm.author_observations "
                          "where platform = 'mastodon'"))
    assert obs[hidden] is None


def test_a_count_seen_again_after_a_hidden_one_is_stored(tmp_path):
    """An observation equal to the author's latest one is skipped, and the latest is the latest
    row, unknown counts included: after 100 then a hidden -1 (stored as not known), 100 again
    is news (it was compared with the last known 100 and dropped, so later posts looked up
    the hidden count). One file per capture, three captures an hour apart."""
    import os

    statuses = json.loads((FIXTURES / "mastodon" / "mpy_public_timeline.json")
                          .read_text(encoding="utf-8"))
    hidden = "http://localhost:3000/@mastodonpy_test_2"
    cfg = make_config(tmp_path, '[[campaigns]]\nname = "timeline"\n'
                                'hashtags = ["unused_tag_timeline"]\n')
    t0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    for i, followers in enumerate([100, -1, 100]):
        for s in statuses:
            if s["account"]["url"] == hidden:
                s["account"]["followers_count"] = followers
            s["capture"] = i            # so the files differ where the counts do not
        path = tmp_path / f"capture{i}.json"
        path.write_text(json.dumps(statuses), encoding="utf-8")
        at = (t0 + dt.timedelta(hours=i)).timestamp()
        os.utime(path, (at, at))
        run_import(cfg, [path], campaign="timeline")
    got = query(cfg, "select observed_at, followers from norm.author_observations "
                     f"where platform = 'mastodon' and author_id = '{hidden}' order by 1")
    assert got == [(t0, 100), (t0 + dt.timedelta(hours=1), None),
                   (t0 + dt.timedelta(hours=2), 100)]


def test_a_negative_engagement_count_is_not_known(tmp_path):
    """A negative favourites count (as a server hiding it would send) is not known: that
    post's likes and engagement are unknown, the others are summed as sent."""
    statuses = json.loads((FIXTURES / "mastodon" / "mpy_public_timeline.json")
                          .read_text(encoding="utf-8"))
    statuses[0]["favourites_count"] = -1
    path = tmp_path / "public.json"
    path.write_text(json.dumps(statuses), encoding="utf-8")
    cfg = make_config(tmp_path, '[[campaigns]]\nname = "timeline"\n'
                                'hashtags = ["unused_tag_timeline"]\n')
    run_import(cfg, [path], campaign="timeline")
    # plain Python: likes of the posts whose count is known; engagement of the posts whose
    # likes, reposts and replies are all known (Mastodon's counts)
    known = [s for s in statuses if s["favourites_count"] >= 0]
    got = build_and_query(cfg, "select posts, likes, engagement_known_posts, engagement "
                               "from marts.campaign_summary where campaign = 'timeline'")
    assert got == [(len(statuses), sum(s["favourites_count"] for s in known), len(known),
                    sum(s["favourites_count"] + s["reblogs_count"] + s["replies_count"]
                        for s in known))]
    likes = dict(query(cfg, "select post_id, likes from norm.engagement_observations "
                            "where platform = 'mastodon'"))
    assert likes[statuses[0]["uri"]] is None
