"""Building the models: dependency order, documentation, incremental builds, the commands."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re

import pytest
from click.testing import CliRunner

from tracker.cli import cli
from tracker.config import load_config
from tracker.errors import TrackerError
from tracker.models import build, discover, ordered, parse_model
from tracker.pages import RawPage
from tracker.pipeline import collect
from tracker.store import ledger
from tracker.store.load import store_batch
from tracker.store.normalise import prepare

from .conftest import open_warehouse, warehouse_toml, write_config
from .test_models_marts import tweet, x_page, x_user

MARTS = ["activity_heatmap", "bursts", "campaign_posts", "campaign_summary",
         "contributors_daily", "coverage", "hashtag_cooccurrence", "hashtags", "languages",
         "platform_share", "reach_daily", "share_of_voice", "top_contributors", "top_posts",
         "volume_daily", "volume_hourly"]


def test_models_are_layered_and_ordered():
    models = ordered(discover())
    tables = [m.table for m in models]
    assert {t.split(".")[0] for t in tables} == {"core", "marts"}
    position = {t: i for i, t in enumerate(tables)}
    for m in models:
        for dep in m.depends_on:
            if dep in position:
                assert position[dep] < position[m.table], (m.table, dep)
    contract = {"volume_hourly", "volume_daily", "contributors_daily", "reach_daily",
                "campaign_summary", "top_contributors", "top_posts", "hashtag_cooccurrence",
                "hashtags", "languages", "platform_share", "share_of_voice", "bursts",
                "coverage", "activity_heatmap"}
    assert contract <= {m.name for m in models if m.layer == "marts"}


def test_cycle_is_a_clear_error(tmp_path):
    for layer in ("core",):
        (tmp_path / layer).mkdir()
    (tmp_path / "core" / "a.sql").write_text("-- a\nselect * from core.b\n")
    (tmp_path / "core" / "b.sql").write_text("-- b\nselect * from core.a\n")
    with pytest.raises(TrackerError, match="cycle"):
        ordered(discover(tmp_path))


def test_bad_directive_is_a_clear_error(tmp_path):
    (tmp_path / "x.sql").write_text("-- x\n-- @materialized maybe\nselect 1\n")
    with pytest.raises(TrackerError, match="@materialized"):
        parse_model("core", tmp_path / "x.sql")


@pytest.fixture
def built(tmp_path, sim_config, backend):
    cfg = sim_config(x_posts=300, per_run=150, backend=backend)
    con = open_warehouse(cfg)
    collect(con, cfg)
    build(con, cfg.campaigns)
    yield cfg, con
    con.close()


def test_every_built_column_is_documented_and_every_documented_column_exists(built):
    _, con = built
    for m in discover():
        cols = [r[0] for r in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position",
            [m.layer, m.name]).fetchall()]
        assert cols == list(m.table_columns), m.table
        assert m.description, m.table


def assert_full_build_equals(con, campaigns) -> None:
    """The tables as the incremental build left them equal a full build's."""
    incremental = snapshot(con)
    build(con, campaigns, full=True)
    assert snapshot(con) == incremental


def snapshot(con) -> dict[str, list]:
    out = {}
    for m in discover():
        if m.materialized == "view":
            continue
        out[m.table] = sorted(con.execute(f"select * from {m.table}").fetchall(), key=repr)
    return out


def test_incremental_build_equals_full_build(built, tmp_path):
    cfg, con = built
    collect(con, cfg)  # the second half of the simulated X posts
    # a newer engagement observation of a post built in the first pass
    post = con.execute("select post_id from core.campaign_posts where platform = 'x' "
                       "and kind = 'original' order by post_id limit 1").fetchone()[0]
    page = {"data": [{"id": post, "created_at": "2016-04-22T00:00:00.000Z", "author_id": "1",
                      "text": "x", "public_metrics": {"like_count": 12345, "retweet_count": 0,
                                                      "reply_count": 0, "quote_count": 0}}]}
    run = ledger.start_run(con, "test", "aleppo", "refresh")
    store_batch(con, [RawPage("x_v2_page", "x", json.dumps(page),
                              retrieved_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC))],
                run_id=run, source="refresh", campaign="aleppo")
    steps = build(con, cfg.campaigns)
    modes = {s.model.table: s.mode for s in steps}
    assert modes["core.campaign_posts"] == "incremental"
    assert modes["core.campaign_hashtags"] == "incremental"
    # an older post changed: its author's and its pairs' rows are computed again, not added to
    assert modes["core.campaign_authors"] == "incremental"
    assert modes["marts.hashtag_cooccurrence"] == "incremental"
    assert {modes[f"core.campaign_{m}"] for m in (
        "tag_forms", "author_tags", "tag_reach", "tag_masks")} == {"incremental"}
    assert modes["core.campaign_author_leaders"] == "full"
    assert con.execute("select likes from core.campaign_posts where post_id = ?",
                       [post]).fetchone()[0] == 12345
    incremental = snapshot(con)
    steps = build(con, cfg.campaigns, full=True)
    assert {s.mode for s in steps} == {"view", "full"}
    assert snapshot(con) == incremental


BUCKETED = ["marts.volume_hourly", "marts.volume_daily", "marts.reach_daily",
            "core.campaign_tag_pairs", "core.campaign_mentions", "core.campaign_hourly",
            "core.campaign_tag_hourly", "core.campaign_post_leaders"]
# new posts only: their sums are added to the existing rows (@merge), and the leading authors
# are chosen again among the previous leaders and the changed authors (@reapply)
MERGED = {"core.campaign_authors": "merge", "marts.hashtag_cooccurrence": "merge",
          "core.campaign_author_leaders": "reapply",
          "core.campaign_tag_forms": "merge", "core.campaign_author_tags": "merge",
          # merged from a merged model: its rows' new versions counted, the old ones taken away
          "core.campaign_tag_reach": "merge", "core.campaign_tag_masks": "merge",
          "core.campaign_link_totals": "merge", "core.campaign_domain_totals": "merge",
          "core.campaign_media_totals": "merge", "core.campaign_author_days": "merge",
          # the leading links, domains and media items among the previous ones and the changed
          "core.campaign_link_leaders": "reapply", "core.campaign_domain_leaders": "reapply",
          "core.campaign_media_leaders": "reapply"}


def test_second_incremental_build_with_posts_in_built_hours_equals_full(built):
    cfg, con = built
    collect(con, cfg)  # first incremental build: the second half of the simulated X posts
    steps = build(con, cfg.campaigns)
    assert {s.model.table: s.mode for s in steps
            if s.model.table in [*BUCKETED, *MERGED]} == \
        dict.fromkeys(BUCKETED, "incremental") | MERGED
    # late posts in an hour and a local day that are already built: one by a known author
    # with a new follower count, one by a new author, one retweet of a built post
    tid, at, author, day = con.execute(
        "select post_id, created_at, author_id, local_day from core.campaign_posts "
        "where platform = 'x' and kind = 'original' order by created_at limit 1").fetchone()
    hour = at.replace(minute=0, second=0, microsecond=0)
    before = con.execute("select sum(posts) from marts.volume_hourly where campaign = 'aleppo' "
                         "and hour = ?", [hour]).fetchone()[0]
    day_before = con.execute("select sum(posts) from marts.volume_daily "
                             "where campaign = 'aleppo' and day = ?", [day]).fetchone()[0]
    stamp = (at + dt.timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    late = [tweet("9000000000000000001", stamp, author, ["AleppoIsBurning", "Syria"],
                  likes=999, mentions=("u777",)),
            tweet("9000000000000000002", stamp, "777", ["حلب_تحترق"]),
            tweet("9000000000000000003", stamp, "777", [],
                  refs=[{"type": "retweeted", "id": tid}])]
    run = ledger.start_run(con, "test", "aleppo", "late")
    store_batch(con, [x_page(late, [x_user(author, 123456), x_user("777", 5)],
                             dt.datetime(2030, 1, 1, tzinfo=dt.UTC))],
                run_id=run, source="late", campaign="aleppo")
    steps = build(con, cfg.campaigns)
    assert {s.model.table: s.mode for s in steps
            if s.model.table in [*BUCKETED, *MERGED]} == \
        dict.fromkeys(BUCKETED, "incremental") | MERGED
    assert con.execute("select sum(posts) from marts.volume_hourly where campaign = 'aleppo' "
                       "and hour = ?", [hour]).fetchone()[0] == before + 3
    assert con.execute("select sum(posts) from marts.volume_daily where campaign = 'aleppo' "
                       "and day = ?", [day]).fetchone()[0] == day_before + 3
    assert_full_build_equals(con, cfg.campaigns)


def test_an_author_whose_earlier_post_arrives_late_moves_to_that_day(built):
    """An author first seen on a later day posts, late, on the campaign's first day: they
    become that day's new author (core.campaign_author_days merges their new row and takes
    the replaced one away), and the headline figures still count them once."""
    cfg, con = built
    collect(con, cfg)
    build(con, cfg.campaigns)
    first_day, = con.execute("select min(local_day) from core.campaign_posts "
                             "where campaign = 'aleppo'").fetchone()
    # an author from a later day that keeps other new authors after they leave it
    author, their_day = con.execute(
        "select author_id, first_day from core.campaign_authors where campaign = 'aleppo' "
        "and platform = 'x' and first_day > ? and first_day in (select first_day from "
        "core.campaign_authors where campaign = 'aleppo' and platform = 'x' group by all "
        "having count(*) >= 2) order by first_day desc, author_id limit 1",
        [first_day]).fetchone()

    def authors_on(day):
        return con.execute("select authors from core.campaign_author_days where campaign = "
                           "'aleppo' and platform = 'x' and first_day = ?", [day]).fetchone()

    x_first, x_theirs = authors_on(first_day), authors_on(their_day)
    assert x_theirs[0] >= 2
    at, = con.execute("select min(created_at) from core.campaign_posts where campaign = "
                      "'aleppo' and local_day = ?", [first_day]).fetchone()

    def daily(day):
        return con.execute("select new_authors, authors from marts.contributors_daily where "
                           "campaign = 'aleppo' and day = ?", [day]).fetchone()

    def summary():
        return con.execute("select contributors, posts from marts.campaign_summary "
                           "where campaign = 'aleppo'").fetchone()

    (new_first, _), (new_theirs, _), (contributors, posts) = \
        daily(first_day), daily(their_day), summary()
    stamp = (at + dt.timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    run = ledger.start_run(con, "test", "aleppo", "late")
    store_batch(con, [x_page([tweet("9000000000000000011", stamp, author, ["AleppoIsBurning"])],
                             [x_user(author, 10)], dt.datetime(2030, 1, 1, tzinfo=dt.UTC))],
                run_id=run, source="late", campaign="aleppo")
    modes = {s.model.table: s.mode for s in build(con, cfg.campaigns)}
    assert modes["core.campaign_author_days"] == "merge"
    assert daily(first_day)[0] == new_first + 1
    assert daily(their_day)[0] == new_theirs - 1
    # the day they left keeps its other authors' row
    assert authors_on(their_day) == (x_theirs[0] - 1,)
    assert authors_on(first_day) == ((x_first[0] if x_first else 0) + 1,)
    assert summary() == (contributors, posts + 1)
    assert_full_build_equals(con, cfg.campaigns)


@pytest.mark.parametrize("line, message", [
    ("-- @merge posts avg",
     "m.sql:4: @merge: expected 'column sum|count|max|min|bit_or|union, ...'"),
    ("-- @lookup norm.post_hashtags(post_id)", "m.sql:4: @lookup: expected"),
    ("-- @lookup core.posts(platform, post_id)", "m.sql:4: @lookup: expected"),
])
def test_bad_incremental_directive_is_a_clear_error(tmp_path, line, message):
    path = tmp_path / "m.sql"
    path.write_text("-- A model.\n-- @incremental campaign, platform, post_id\n"
                    "-- @changes core.campaign_posts(campaign, platform, post_id)\n"
                    f"{line}\nselect 1\n")
    with pytest.raises(TrackerError, match=re.escape(message)):
        parse_model("core", path)


def test_incremental_key_must_cover_the_changes_columns(tmp_path):
    path = tmp_path / "m.sql"
    path.write_text("-- A model.\n-- @incremental campaign\n"
                    "-- @changes core.campaign_posts(campaign, hour)\n--\n-- campaign: c\n"
                    "select campaign from core.campaign_posts\n", encoding="utf-8")
    with pytest.raises(TrackerError, match="m.sql:2: @incremental: expected at least"):
        parse_model("marts", path)


def test_tag_added_to_campaign_links_stored_posts_then_builds_incrementally(built):
    cfg, con = built
    arabic = "حلب_تحترق"
    fewer = dataclasses.replace(cfg.campaigns[0], hashtags=("AleppoIsBurning",))
    at = dt.datetime(2016, 4, 23, tzinfo=dt.UTC)
    prepare(con, [fewer])
    run = ledger.start_run(con, "test", "aleppo", "hand")
    store_batch(con, [x_page([tweet("9001", "2016-04-22T10:00:00.000Z", "7", [arabic]),
                              tweet("9002", "2016-04-22T11:00:00.000Z", "7", ["Syria"])],
                             [x_user("7", 70)], at)],
                run_id=run, source="hand", campaign="aleppo")
    build(con, [fewer])
    assert con.execute("select count(*) from core.campaign_posts where post_id = '9001'"
                       ).fetchone()[0] == 0
    steps = build(con, cfg.campaigns)  # the Arabic tag is back: the stored post is linked
    assert {s.mode for s in steps if s.model.name == "campaign_posts"} == {"full"}
    assert con.execute("select count(*) from core.campaign_posts where post_id = '9001'"
                       ).fetchone()[0] == 1
    prepare(con, cfg.campaigns)
    store_batch(con, [x_page([tweet("9003", "2016-04-22T12:00:00.000Z", "7", [arabic])],
                             [x_user("7", 71)], at + dt.timedelta(hours=1))],
                run_id=run, source="hand", campaign="aleppo")
    steps = build(con, cfg.campaigns)
    assert {s.mode for s in steps if s.model.name == "campaign_posts"} == {"incremental"}
    assert con.execute("select followers_at_post from core.campaign_posts "
                       "where post_id = '9003'").fetchone()[0] == 70
    assert_full_build_equals(con, cfg.campaigns)


def test_changes_in_most_buckets_of_a_large_input_rebuild_the_bucket_models(built, monkeypatch):
    """Posts in every hour: a per-bucket model would delete and insert nearly all its rows,
    so it is built in full instead (as if the input were large: the threshold is 0)."""
    from tracker.build import incremental
    cfg, con = built
    monkeypatch.setattr(incremental, "_LARGE_INPUT", 0)
    hours = [r[0] for r in con.execute("select distinct hour from core.campaign_posts "
                                       "order by 1").fetchall()]
    late = [tweet(str(9200 + i), (h + dt.timedelta(seconds=1)).strftime(
                "%Y-%m-%dT%H:%M:%S.000Z"), "7", ["AleppoIsBurning"]) for i, h in enumerate(hours)]
    run = ledger.start_run(con, "test", "aleppo", "hand")
    store_batch(con, [x_page(late, [x_user("7", 70)], dt.datetime(2030, 1, 1, tzinfo=dt.UTC))],
                run_id=run, source="hand", campaign="aleppo")
    steps = build(con, cfg.campaigns)
    modes = {s.model.table: s.mode for s in steps}
    assert modes["marts.volume_hourly"] == modes["core.campaign_hourly"] == "full"
    assert modes["core.campaign_posts"] == "incremental"
    assert_full_build_equals(con, cfg.campaigns)


def test_stored_post_joining_a_campaign_later_is_built_from_its_older_rows(built):
    """A membership appended for a post stored before the last build (here: delivered again
    for a second campaign) is not a new post: the incremental build must look its post,
    tags, mentions and engagement up among the older rows, not only among the new ones."""
    cfg, con = built
    other = dataclasses.replace(cfg.campaigns[0], name="other", hashtags=("Elsewhere",))
    campaigns = [*cfg.campaigns, other]
    prepare(con, campaigns)
    build(con, campaigns)
    at = dt.datetime(2016, 4, 23, tzinfo=dt.UTC)
    late = tweet("9101", "2016-04-22T10:00:00.000Z", "7", ["Syria", "Idlib"], likes=5,
                 mentions=("u1",))
    run = ledger.start_run(con, "test", "other", "hand")
    store_batch(con, [x_page([late], [x_user("7", 70)], at)],
                run_id=run, source="hand", campaign="other", assign_campaign="other")
    build(con, campaigns)
    store_batch(con, [x_page([dict(late, public_metrics=dict(late["public_metrics"],
                                                             like_count=6))],
                             [x_user("7", 70)], at + dt.timedelta(hours=1))],
                run_id=run, source="hand", campaign="aleppo", assign_campaign="aleppo")
    steps = build(con, campaigns)
    modes = {s.model.table: s.mode for s in steps}
    assert modes["core.campaign_posts"] == modes["core.campaign_hashtags"] == "incremental"
    assert modes["core.campaign_mentions"] == "incremental"
    assert con.execute("select likes, followers_at_post from core.campaign_posts "
                       "where campaign = 'aleppo' and post_id = '9101'").fetchone() == (6, 70)
    assert con.execute("select count(*) from core.campaign_hashtags where campaign = 'aleppo' "
                       "and post_id = '9101'").fetchone()[0] == 2
    assert_full_build_equals(con, campaigns)


def test_tags_and_mentions_added_to_a_built_post_are_built_incrementally(built):
    """The same post delivered again with more tags and mentions (same counts): its new
    norm.post_hashtags / post_mentions rows change its campaign rows."""
    cfg, con = built
    at = dt.datetime(2016, 4, 23, tzinfo=dt.UTC)
    first = tweet("9101", "2016-04-22T10:00:00.000Z", "7", ["AleppoIsBurning"],
                  mentions=("u1",))
    run = ledger.start_run(con, "test", "aleppo", "hand")
    store_batch(con, [x_page([first], [x_user("7", 70)], at)],
                run_id=run, source="hand", campaign="aleppo")
    build(con, cfg.campaigns)
    again = dict(first, entities={"hashtags": [{"tag": t} for t in
                                               ("AleppoIsBurning", "Extra", "Idlib")],
                                  "mentions": [{"username": "u1"}, {"username": "u2"}]})
    store_batch(con, [x_page([again], [x_user("7", 70)], at + dt.timedelta(hours=1))],
                run_id=run, source="hand", campaign="aleppo")
    steps = build(con, cfg.campaigns)
    modes = {s.model.table: s.mode for s in steps}
    assert modes["core.campaign_hashtags"] == modes["core.campaign_mentions"] == "incremental"
    assert con.execute("select count(*) from core.campaign_hashtags "
                       "where post_id = '9101'").fetchone()[0] == 3
    assert_full_build_equals(con, cfg.campaigns)


def test_failed_model_leaves_previous_build(built, tmp_path):
    cfg, con = built
    before = con.execute("select count(*) from marts.volume_daily").fetchone()[0]
    (tmp_path / "q" / "marts").mkdir(parents=True)
    (tmp_path / "q" / "marts" / "broken.sql").write_text("-- broken\nselect nope from nowhere")
    models = discover() + discover(tmp_path / "q")
    with pytest.raises(TrackerError, match="broken.sql: model failed"):
        build(con, cfg.campaigns, models)
    assert con.execute("select count(*) from marts.volume_daily").fetchone()[0] == before


def test_build_and_models_commands(tmp_path, backend):
    cfg_path = write_config(tmp_path, warehouse_toml(backend, "wh.duckdb") + """
        [[campaigns]]
        name = "red"
        hashtags = ["MakeFacebookRed"]
        timezone = "Europe/Paris"
        [[campaigns.sources]]
        type = "simulated"
        posts = 120
    """)
    runner = CliRunner()
    assert runner.invoke(cli, ["--config", str(cfg_path), "collect"]).exit_code == 0
    result = runner.invoke(cli, ["--config", str(cfg_path), "build"])
    assert result.exit_code == 0, result.output
    assert "marts.campaign_summary" in result.output
    result = runner.invoke(cli, ["--config", str(cfg_path), "models", "marts.reach_daily"])
    assert result.exit_code == 0, result.output
    assert "potential_reach" in result.output and "BIGINT" in result.output
    assert "marts.volume_daily" not in result.output
    result = runner.invoke(cli, ["--config", str(cfg_path), "models"])
    assert all(f"marts.{m}" in result.output for m in MARTS if m != "campaign_posts")
    assert "core.campaigns" in result.output
    result = runner.invoke(cli, ["--config", str(cfg_path), "models", "nothing_like_this"])
    assert result.exit_code == 1 and "no model matches" in result.output
    con = open_warehouse(load_config(cfg_path), read_only=True)
    assert con.execute("select campaign, timezone from core.campaigns").fetchall() == [
        ("red", "Europe/Paris")]
    con.close()


def test_posts_without_a_known_author_count_for_no_account(tmp_path, backend):
    """Export rows whose account cells are empty have no known author: they count as posts
    but as no account (contributors not known while no post's account is known, then a
    lower bound), and incremental builds merge the keys that hold that unknown author
    instead of adding a row each time, so they equal a full build."""
    from .import_helpers import make_config, run_import
    from .test_import_csv import write_csv
    header = ["Post Id", "Post Created", "Message", "Facebook Id", "Followers at Posting",
              "URL", "Link"]

    def row(n, at, text, account="", followers="", link=""):
        return [n, at, text, account, followers, f"https://www.facebook.com/p/{n}", link]

    first = [row("1", "2016-04-29T10:00:00Z", "#MakeFacebookRed one", link="https://a.example/x"),
             row("2", "2016-04-29T11:00:00Z", "#MakeFacebookRed two", account=" ")]
    # in the hours, day and link already built, and one post with a known account
    second = [row("3", "2016-04-29T10:30:00Z", "#MakeFacebookRed 3", link="https://a.example/x"),
              row("4", "2016-04-29T11:10:00Z", "#makefacebookred 4", "777", "50",
                 link="https://a.example/x")]
    cfg = make_config(tmp_path, backend=backend)

    def load_and_build(rows, name):
        write_csv(tmp_path / name, header, rows)
        run_import(cfg, [tmp_path / name], fmt="facebook_csv")
        con = open_warehouse(cfg)
        try:
            modes = {s.model.table: s.mode for s in build(con, cfg.campaigns)}
            figures = con.execute("select posts, contributors, potential_reach "
                                  "from marts.campaign_summary where campaign = 'red'"
                                  ).fetchone()
            daily = con.execute("select contributors from marts.reach_daily "
                                "where campaign = 'red'").fetchall()
            forms = con.execute("select tag_text, posts, contributors from marts.tag_variants "
                                "where campaign = 'red' order by tag_text").fetchall()
            # the link and its domain: authors are the known ones, not known while none is
            links = con.execute(
                "select posts, authors, potential_reach from marts.top_links where campaign = "
                "'red' and metric = 'posts' union all select posts, authors, potential_reach "
                "from marts.top_domains where campaign = 'red' and metric = 'posts'").fetchall()
            return modes, figures, daily + forms + links
        finally:
            con.close()

    def plain(rows):
        tagged = [r for r in rows if "#makefacebookred" in r[2].lower()]
        accounts = {r[3].strip(): int(r[4]) for r in tagged if r[3].strip()}
        return len(tagged), accounts

    _, figures, daily = load_and_build(first, "a.csv")
    posts, accounts = plain(first)
    assert (posts, accounts) == (2, {})
    assert figures == (posts, None, None)
    # the day, and the written form: posts counted, accounts not known
    assert daily == [(None,), ("MakeFacebookRed", 2, None), (1, None, None), (1, None, None)]
    modes, figures, daily = load_and_build(second, "b.csv")
    assert modes["core.campaign_authors"] == "merge"
    posts, accounts = plain(first + second)
    assert figures == (posts, len(accounts), sum(accounts.values())) == (4, 1, 50)
    link_posts = [r for r in first + second if r[6]]
    assert daily == [(len(accounts),), ("MakeFacebookRed", 3, None), ("makefacebookred", 1, 1),
                     *[(len(link_posts), len(accounts), sum(accounts.values()))] * 2]
    assert daily[-1] == (3, 1, 50)
    con = open_warehouse(cfg)
    try:
        assert con.execute("select count(*) from norm.posts where author_id is null"
                           ).fetchone() == (3,)
        # the share of posts whose author is known, which the report shows beside
        # contributors ("known for 25% of posts")
        tagged = [r for r in first + second if "#makefacebookred" in r[2].lower()]
        known = [r for r in tagged if r[3].strip()]
        assert con.execute("select author_known_posts, author_known_share from "
                           "marts.campaign_summary where campaign = 'red'").fetchone() == (
            len(known), len(known) / len(tagged)) == (1, 0.25)
        # the link's two posts by no known author: one key, merged
        assert con.execute("select posts from core.campaign_link_authors where campaign = "
                           "'red' and author_id is null").fetchall() == [(2,)]
        assert_full_build_equals(con, cfg.campaigns)
    finally:
        con.close()


def test_a_merge_model_built_before_its_merge_key_is_built_in_full_once(built):
    """A warehouse built before merge tables had their digest column (`merge_key`): its
    @merge models are built in full on the next build (a merge needs the digest to find a
    key's rows), then merged again, equal to a full build throughout."""
    from tracker.build.state import BuildState
    from tracker.models import CONFIG_TABLES

    cfg, con = built
    merged = [m for m in discover() if m.merge]
    state = BuildState(con, list(CONFIG_TABLES))
    for m in merged:  # as the engine left them before: no digest, fingerprint without it
        con.execute(f"alter table {m.table} drop column merge_key")
        con.execute("update core.build_state set fingerprint = ? where model = ?",
                    [state.fingerprint(dataclasses.replace(m, merge=())), m.table])
    collect(con, cfg)  # the second half of the simulated posts
    modes = {s.model.table: s.mode for s in build(con, cfg.campaigns)}
    assert {modes[m.table] for m in merged} == {"full"}
    assert modes["core.campaign_posts"] == "incremental"
    assert_full_build_equals(con, cfg.campaigns)
    run = ledger.start_run(con, "test", "aleppo", "late")
    store_batch(con, [x_page([tweet("9000000000000000012", "2016-04-30T10:00:00.000Z", "4242",
                                    ["AleppoIsBurning"])],
                             [x_user("4242", 10)], dt.datetime(2030, 1, 1, tzinfo=dt.UTC))],
                run_id=run, source="late", campaign="aleppo")
    modes = {s.model.table: s.mode for s in build(con, cfg.campaigns)}
    assert modes["core.campaign_authors"] == "merge"
    assert_full_build_equals(con, cfg.campaigns)
