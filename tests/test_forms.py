"""The hashtag and link forms the normalisation SQL joins (tracker/store/forms.py).

Each distinct spelling leaves DuckDB, gets its form from the one Python definition
(tracker/hashtags.py, tracker/urls.py) and comes back as a temp table. The values cross as
JSON text, so these tests hold that crossing to exactness for text that JSON escapes or that
is easy to mangle: quotes, backslashes, control characters, NUL, right-to-left text,
characters beyond the BMP.
"""

from __future__ import annotations

import duckdb
import pytest

from tracker.hashtags import normalise_tag
from tracker.store import forms
from tracker.urls import normalise_url, registered_domain

AWKWARD = ['"quoted"', "back\\slash", "tab\tand\nnewline\r", "nul\x00inside", "\x1f\x7f",
           "حلب_تحترق", "\u200fRTL\u200e", "emoji_😀_𝐀", "Ｆｕｌｌｗｉｄｔｈ", "#AleppoIsBurning",
           "ALEPPOisBURNING", "straße", "İstanbul", "ﷺ", "'; drop table x; --", "\\u0041"]


@pytest.fixture
def con():
    con = duckdb.connect()
    yield con
    con.close()


def test_tag_forms_are_the_python_rule_for_every_spelling(con):
    con.execute("create temp table n_hashtags (platform varchar, post_id varchar, "
                "tag_text varchar)")
    con.executemany("insert into n_hashtags values ('x', ?, ?)",
                    [(str(i), t) for i, t in enumerate([*AWKWARD, *AWKWARD, None, ""])])
    forms.tag_forms(con)
    got = dict(con.execute("select tag_text, tag from n_tag_forms").fetchall())
    # each distinct, non-empty spelling once, with the Python rule's form, byte for byte
    assert got == {t: normalise_tag(t) for t in AWKWARD}
    assert con.execute("select count(*) from n_tag_forms").fetchone() == (len(AWKWARD),)


def test_url_forms_and_domains_are_the_python_rules(con):
    links = ["HTTPS://News.BBC.co.uk:443/a?utm_source=tw&q=%D8%AD%D9%84%D8%A8",
             "https://example.org/حلب?q=\"x\"&b=\\", "mailto:press@example.org",
             "http://example.org:notaport/x", "https://t.co/abc", "  https://Example.ORG  ",
             *(f"https://example.org/{t}" for t in AWKWARD)]
    con.execute("create temp table n_urls (url varchar, expanded_url varchar)")
    # the expanded form is used where there is one, the posted one otherwise
    con.executemany("insert into n_urls values (?, ?)",
                    [("https://t.co/short", u) for u in links] + [(u, None) for u in links]
                    + [(None, None)])
    forms.url_forms(con)
    got = dict(con.execute("select expanded, url_norm from n_url_forms").fetchall())
    assert got == {u: normalise_url(u) for u in links}
    domains = dict(con.execute("select url_norm, domain from n_url_domains").fetchall())
    assert domains == {n: registered_domain(n) for n in set(got.values()) if n is not None}
    assert domains["https://news.bbc.co.uk/a?q=%D8%AD%D9%84%D8%A8"] == "bbc.co.uk"
    assert domains["mailto:press@example.org"] is None   # not a web link: no domain


def test_no_spellings_make_empty_tables_with_text_columns(con):
    con.execute("create temp table n_hashtags (platform varchar, post_id varchar, "
                "tag_text varchar)")
    con.execute("create temp table n_urls (url varchar, expanded_url varchar)")
    forms.tag_forms(con)
    forms.url_forms(con)
    for table in ("n_tag_forms", "n_url_forms", "n_url_domains"):
        assert con.execute(f"select count(*) from {table}").fetchone() == (0,)
        types = {r[1] for r in con.execute(f"describe {table}").fetchall()}
        assert types == {"VARCHAR"}, table


def test_the_merge_release_drops_the_forms_tables(con):
    from tracker.store.normalise import MERGE_SQL, release
    con.execute("create temp table n_hashtags (platform varchar, post_id varchar, "
                "tag_text varchar)")
    con.execute("create temp table n_urls (url varchar, expanded_url varchar)")
    forms.tag_forms(con)
    forms.url_forms(con)
    release(con, MERGE_SQL)   # after each batch's commit: the next batch makes them again
    left = {r[0] for r in con.execute("select table_name from duckdb_tables() "
                                      "where temporary").fetchall()}
    assert left == {"n_hashtags", "n_urls"}
