"""CSV archives: the Facebook export preset and a generic mapping from the config."""

from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata

import pytest

from tracker.errors import ImportFormatError
from tracker.hashtags import normalise_tag, tags_in_text
from tracker.importers.csvrows import parse_time

from .import_helpers import build_and_query, make_config, query, run_import

CT_HEADER = ["Page Name", "User Name", "Facebook Id", "Page Category", "Likes at Posting",
             "Followers at Posting", "Post Created", "Post Created Date", "Post Created Time",
             "Type", "Total Interactions", "Likes", "Comments", "Shares", "Love", "Wow", "Haha",
             "Sad", "Angry", "Care", "Post Views", "URL", "Message", "Link"]


def ct_row(n: int, created: str, message: str, followers: str = "120000", **over) -> list[str]:
    row = {"Page Name": f"Page {n}", "User Name": f"page{n}", "Facebook Id": f"10000{n}",
           "Page Category": "NEWS_SITE", "Likes at Posting": "110000",
           "Followers at Posting": followers, "Post Created": created,
           "Post Created Date": created[:10], "Post Created Time": created[11:19],
           "Type": "Photo", "Total Interactions": "30", "Likes": "10", "Comments": "4",
           "Shares": "6", "Love": "5", "Wow": "0", "Haha": "0", "Sad": "3", "Angry": "2",
           "Care": "0", "Post Views": "0",
           "URL": f"https://www.facebook.com/page{n}/posts/55{n}", "Message": message,
           "Link": "https://example.org/aleppo"}
    row.update(over)
    return [row[h] for h in CT_HEADER]


def write_csv(path, header, rows) -> None:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    w.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def test_facebook_crowdtangle_export(tmp_path):
    path = tmp_path / "crowdtangle.csv"
    write_csv(path, CT_HEADER, [
        ct_row(1, "2016-04-29 10:00:00 EDT", "Turn Facebook red #MakeFacebookRed"),
        ct_row(2, "2016-04-29 12:30:00 EDT", "حلب تحترق\n#حلب_تحترق #AleppoIsBurning"),
        ct_row(3, "not a date", "#MakeFacebookRed"),
        ct_row(4, "2016-04-30 08:00:00 EDT", "no tags here", followers=""),
    ])
    cfg = make_config(tmp_path)
    s = run_import(cfg, [path])
    assert (s.records, s.posts_new, s.bad) == (4, 3, 1)
    rows = query(cfg, "select platform, post_id, created_at::varchar, author_id, text "
                      "from norm.posts order by created_at")
    assert rows[0] == ("facebook", "https://www.facebook.com/page1/posts/551",
                       "2016-04-29 14:00:00+00", "100001", "Turn Facebook red #MakeFacebookRed")
    assert rows[1][4] == "حلب تحترق\n#حلب_تحترق #AleppoIsBurning"   # quoted multi-line cell
    links = set(query(cfg, "select campaign, post_id from norm.campaign_posts"))
    assert links == {("red", "https://www.facebook.com/page1/posts/551"),
                     ("aleppo", "https://www.facebook.com/page2/posts/552")}
    # followers at posting, observed at the post's time (row 4's cell is blank: its page
    # likes); reactions summed over kinds
    obs = query(cfg, "select author_id, observed_at::varchar, followers "
                     "from norm.author_observations order by 1")
    assert obs == [("100001", "2016-04-29 14:00:00+00", 120000),
                   ("100002", "2016-04-29 16:30:00+00", 120000),
                   ("100004", "2016-04-30 12:00:00+00", 110000)]
    eng = query(cfg, "select likes, replies, reposts from norm.engagement_observations "
                     "where post_id like '%551'")
    assert eng == [(20, 4, 6)]
    bad = query(cfg, "select line, reason from ledger.quarantine")
    # header is line 1; row 2 spans lines 3-4, so row 3 starts on line 5
    assert bad == [(5, "'not a date' in column 'Post Created' is not a date and time")]


def test_meta_content_library_style_columns(tmp_path):
    header = ["id", "creation_time", "text", "post_owner.id", "post_owner.name",
              "statistics.reaction_count", "statistics.comment_count",
              "statistics.share_count"]
    path = tmp_path / "mcl.csv"
    write_csv(path, header, [["9001", "2016-04-29T10:00:00+0000", "#makefacebookred", "77",
                              "Some page", "1,204", "3", "8"]])
    cfg = make_config(tmp_path)
    s = run_import(cfg, [path], fmt="facebook_csv")
    assert s.posts_new == 1
    assert query(cfg, "select campaign, post_id from norm.campaign_posts") == [("red", "9001")]
    assert query(cfg, "select likes, replies, reposts from norm.engagement_observations") == [
        (1204, 3, 8)]


def test_generic_csv_with_config_mapping(tmp_path):
    extra = """
[csv_mappings.telegram]
platform = "telegram"
post_id = "msg_id"
created_at = "date"
text = "body"
author_id = "channel"
followers = "subs"
"""
    cfg = make_config(tmp_path, extra)
    path = tmp_path / "export.txt"
    write_csv(path, ["msg_id", "date", "body", "channel", "subs"],
              [["1", "1461924000", "#AleppoIsBurning now", "chan", "5000"],
               ["2", "2016-04-29", "nothing", "chan", "5001"]])
    s = run_import(cfg, [path], fmt="csv", mapping="telegram")
    assert (s.posts_new, s.bad) == (2, 0)
    assert query(cfg, "select platform, post_id, created_at::varchar from norm.posts "
                      "order by 2") == [("telegram", "1", "2016-04-29 10:00:00+00"),
                                        ("telegram", "2", "2016-04-29 00:00:00+00")]
    assert query(cfg, "select campaign from norm.campaign_posts") == [("aleppo",)]


def test_csv_that_matches_no_mapping_is_one_clear_quarantine_entry(tmp_path):
    path = tmp_path / "other.csv"
    write_csv(path, ["a", "b"], [["1", "2"]])
    cfg = make_config(tmp_path)
    s = run_import(cfg, [path])
    assert (s.posts_new, s.bad) == (0, 1)
    (reason,), = query(cfg, "select reason from ledger.quarantine")
    assert "do not match the Facebook export mapping" in reason and "'Post Created'" in reason


def test_unknown_mapping_name_is_an_error(tmp_path):
    path = tmp_path / "x.csv"
    write_csv(path, ["a"], [["1"]])
    cfg = make_config(tmp_path)
    with pytest.raises(ImportFormatError, match=r"no \[csv_mappings.nope\]"):
        run_import(cfg, [path], fmt="csv", mapping="nope")


@pytest.mark.parametrize("text, want", [
    ("2016-04-29 10:00:00 EDT", dt.datetime(2016, 4, 29, 14, tzinfo=dt.UTC)),
    ("2016-04-29T10:00:00+0000", dt.datetime(2016, 4, 29, 10, tzinfo=dt.UTC)),
    ("2016-04-29T10:00:00Z", dt.datetime(2016, 4, 29, 10, tzinfo=dt.UTC)),
    ("1461924000", dt.datetime(2016, 4, 29, 10, tzinfo=dt.UTC)),
    ("1461924000000", dt.datetime(2016, 4, 29, 10, tzinfo=dt.UTC)),
    ("yesterday", None), ("", None),
])
def test_parse_time(text, want):
    assert parse_time(text) == want


def test_engagement_with_no_count_given_is_not_known_not_zero(tmp_path):
    """A CrowdTangle row whose interaction cells are all empty, and a row that gives views
    only, say nothing of engagement: not known (null), never 0, and not counted as known."""
    empty = {c: "" for c in ("Total Interactions", "Likes", "Comments", "Shares", "Love", "Wow",
                             "Haha", "Sad", "Angry", "Care", "Post Views")}
    rows = [ct_row(1, "2016-04-29 10:00:00 EDT", "#MakeFacebookRed one"),
            ct_row(2, "2016-04-29 11:00:00 EDT", "#MakeFacebookRed two", **empty),
            ct_row(3, "2016-04-29 12:00:00 EDT", "#MakeFacebookRed three",
                   **{**empty, "Post Views": "900"})]
    path = tmp_path / "crowdtangle.csv"
    write_csv(path, CT_HEADER, rows)
    cfg = make_config(tmp_path)
    run_import(cfg, [path])
    (got,) = build_and_query(cfg, "select posts, engagement, engagement_known_posts, likes, "
                                  "engagement_per_post from marts.campaign_summary "
                                  "where campaign = 'red'")
    posts = dict(query(cfg, "select post_id, engagement from core.campaign_posts "
                            "where campaign = 'red'"))
    # in plain Python: the reactions of the kinds given, comments and shares of row 1
    head = {h: i for i, h in enumerate(CT_HEADER)}
    reactions = sum(int(rows[0][head[h]]) for h in ("Likes", "Love", "Wow", "Haha", "Sad",
                                                    "Angry", "Care"))
    first = reactions + int(rows[0][head["Comments"]]) + int(rows[0][head["Shares"]])
    assert got == (3, first, 1, reactions, first)
    assert posts == {rows[0][head["URL"]]: first, rows[1][head["URL"]]: None,
                     rows[2][head["URL"]]: None}


def test_tag_overlap_says_not_known_for_a_tag_whose_posts_have_no_known_author(tmp_path):
    """#حلب_تحترق only on a post with an empty account cell: its contributors are not known
    (not 0), nor are the pair's shared and either; #AleppoIsBurning's known author counts."""
    rows = [ct_row(1, "2016-04-29 10:00:00 EDT", "#AleppoIsBurning #حلب_تحترق",
                   **{"Facebook Id": "", "User Name": "", "Page Name": ""}),
            ct_row(2, "2016-04-29 11:00:00 EDT", "#AleppoIsBurning")]
    path = tmp_path / "crowdtangle.csv"
    write_csv(path, CT_HEADER, rows)
    cfg = make_config(tmp_path)
    run_import(cfg, [path])
    got = build_and_query(cfg, "select tag_a, tag_b, contributors_a, contributors_b, "
                               "contributors_both, contributors_either, jaccard "
                               "from marts.tag_overlap where campaign = 'aleppo'")
    assert got == [("aleppoisburning", "حلب_تحترق", 1, None, None, None, None)]


# Tags whose words hold marks (Devanagari vowel signs, an accent written as a combining
# character: NFD) or a zero-width non-joiner (Persian plural suffix).
HINDI = "किसान_आंदोलन"
CAFE_NFD = unicodedata.normalize("NFD", "Café")
PERSIAN = "کرمانشاه\u200cها"


def test_tags_in_text_keep_marks_and_joiners():
    assert tags_in_text(f"किसान #{HINDI} जारी") == [HINDI]
    assert tags_in_text(f"au #{CAFE_NFD}!") == [CAFE_NFD]
    assert tags_in_text(f"#{PERSIAN} و") == [PERSIAN]
    # the NFD and NFC spellings are one tag
    assert normalise_tag(CAFE_NFD) == normalise_tag("Café") == "café"
    # the rule's other parts stay: not after a tag character or '&', not digits only
    assert tags_in_text("x#y &#39; #2024 #1st #_ a\u0301#b") == ["1st"]
    assert tags_in_text(f"#{PERSIAN}\u200c.") == [PERSIAN]
    # the keycap emoji #️⃣ (U+FE0F, U+20E3 after '#') and a lone combining accent are no tags
    assert tags_in_text("Call us #\ufe0f\u20e3 now, x #\ufe0f\u20e3Trending, #\u0301") == []


def test_csv_tags_with_marks_and_joiners_put_every_post_in_the_campaign(tmp_path):
    extra = f"""
[[campaigns]]
name = "farmers"
hashtags = ["{HINDI}"]
[[campaigns]]
name = "cafe"
hashtags = ["Café"]
[[campaigns]]
name = "kermanshah"
hashtags = ["{PERSIAN}"]
"""
    rows = [ct_row(1, "2021-01-26 10:00:00 UTC", f"दिल्ली #{HINDI}"),
            ct_row(2, "2021-01-26 11:00:00 UTC", f"#{HINDI}\nकिसान"),
            ct_row(3, "2021-01-26 12:00:00 UTC", f"Un #{CAFE_NFD} noir"),
            ct_row(4, "2021-01-26 13:00:00 UTC", f"#{PERSIAN} امروز")]
    path = tmp_path / "crowdtangle.csv"
    write_csv(path, CT_HEADER, rows)
    cfg = make_config(tmp_path, extra)
    assert run_import(cfg, [path]).posts_new == 4
    url = CT_HEADER.index("URL")
    want = {("farmers", rows[0][url]), ("farmers", rows[1][url]), ("cafe", rows[2][url]),
            ("kermanshah", rows[3][url])}
    assert set(query(cfg, "select campaign, post_id from norm.campaign_posts")) == want
    # the stored tag is the whole word, NFC and case folded
    tags = set(query(cfg, "select post_id, tag from norm.post_hashtags"))
    assert tags == {(rows[0][url], HINDI), (rows[1][url], HINDI), (rows[2][url], "café"),
                    (rows[3][url], PERSIAN)}


def test_followers_fall_back_to_page_likes_row_by_row(tmp_path):
    """CrowdTangle leaves "Followers at Posting" blank for some pages and gives "Likes at
    Posting" only: each row takes the first non-blank of the two; blank in both is not
    known (no observation, not 0)."""
    rows = [ct_row(1, "2016-04-29 10:00:00 EDT", "#MakeFacebookRed one"),
            ct_row(2, "2016-04-29 11:00:00 EDT", "#MakeFacebookRed two", followers="",
                   **{"Likes at Posting": "90000"}),
            ct_row(3, "2016-04-29 12:00:00 EDT", "#MakeFacebookRed three", followers="",
                   **{"Likes at Posting": ""}),
            ct_row(4, "2016-04-29 13:00:00 EDT", "#MakeFacebookRed four", followers=" ",
                   **{"Likes at Posting": "5,000"})]
    path = tmp_path / "crowdtangle.csv"
    write_csv(path, CT_HEADER, rows)
    cfg = make_config(tmp_path)
    run_import(cfg, [path])
    # in plain Python: per row, the first non-blank of the documented columns, in order
    head = {h: i for i, h in enumerate(CT_HEADER)}
    want = {}
    for r in rows:
        cells = [r[head[c]].strip() for c in ("Followers at Posting", "Likes at Posting")]
        cell = next((c for c in cells if c), None)
        if cell is not None:
            want[r[head["Facebook Id"]]] = int(cell.replace(",", ""))
    assert want == {"100001": 120000, "100002": 90000, "100004": 5000}
    assert dict(query(cfg, "select author_id, followers from norm.author_observations")) == want
    got = build_and_query(cfg, "select posts, followers_known_posts, potential_reach "
                               "from marts.campaign_summary where campaign = 'red'")
    assert got == [(len(rows), len(want), sum(want.values()))]
