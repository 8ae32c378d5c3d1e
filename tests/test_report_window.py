"""`--since/--until` applies to every section of the campaign report.

Hand-made posts (authors, hashtags, mentions, languages and times chosen so that every
section differs between the window and the whole campaign) are built by the real models;
the report's CSVs are compared with the same figures computed here in plain Python from the
posts.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import random
from collections import Counter
from zoneinfo import ZoneInfo

import pytest

from tracker.models import build
from tracker.report import Window, write_reports
from tracker.store.db import connect

from . import report_marts
from .test_report_browser import make_config

TZ = "Asia/Damascus"
WINDOW = Window(dt.date(2016, 4, 27), dt.date(2016, 4, 28))
TAGS = ["AleppoIsBurning", "Syria", "Aleppo", "SaveAleppo", "StopBombingHospitals"]
LANGS = ["en", "ar", "fr", "und"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def make_posts() -> list[dict]:
    """Five days of posts; inside the window other authors, tags, languages and hours lead."""
    rnd = random.Random(16)
    start = dt.datetime(2016, 4, 24, 22, tzinfo=dt.UTC)  # 2016-04-25 01:00 in Damascus
    posts = []
    for i in range(240):
        t = start + dt.timedelta(minutes=29 * i + rnd.randrange(20))
        local_day = t.astimezone(ZoneInfo(TZ)).date()
        inside = WINDOW.since <= local_day <= WINDOW.until  # type: ignore[operator]
        author = rnd.choice(["a1", "a2", "a3"] if inside and rnd.random() < 0.6
                            else [f"a{k}" for k in range(1, 12)])
        extra = rnd.sample(TAGS[1:3] if inside else TAGS[1:], k=rnd.randrange(3))
        posts.append({
            "post_id": str(i), "created_at": t, "author_id": author, "handle": f"user_{author}",
            "text": "#AleppoIsBurning", "url": f"https://example.org/{i}",
            "lang": rnd.choice(LANGS[:2] if inside else LANGS),
            "tags": ["AleppoIsBurning", *extra],
            "mentions": rnd.sample(["UNICEF", "WHO"] if inside else ["UNICEF", "WHO", "MSF"],
                                   k=rnd.randrange(2)),
            "followers": 100 + rnd.randrange(1000), "likes": rnd.randrange(9)})
    return posts


def local(p: dict) -> dt.datetime:
    return p["created_at"].astimezone(ZoneInfo(TZ))


def in_window(p: dict, w: Window) -> bool:
    day = local(p).date()
    return (w.since is None or day >= w.since) and (w.until is None or day <= w.until)


# --- the figures, in plain Python -------------------------------------------------------------
def top_by_posts(posts: list[dict]) -> list[tuple[str, int]]:
    counts = Counter(p["author_id"] for p in posts)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], "x", kv[0]))[:15]
    return [(f"user_{a} (x)", n) for a, n in ranked]


def top_mentioned(posts: list[dict]) -> list[tuple[str, int]]:
    counts = Counter(m.lower() for p in posts for m in p["mentions"])
    return [(f"{h} (x)", n) for h, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def tag_pairs(posts: list[dict]) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for p in posts:
        tags = sorted({t.casefold() for t in p["tags"]})
        counts.update(f"#{a} + #{b}" for a, b in itertools.combinations(tags, 2))
    return dict(counts)


def languages(posts: list[dict]) -> dict[str, tuple[int, float]]:
    counts = Counter(p["lang"] for p in posts)
    return {lang: (n, n / len(posts)) for lang, n in counts.items()}


def heatmap(posts: list[dict]) -> dict[tuple[str, int], int]:
    counts = Counter((WEEKDAYS[local(p).weekday()], local(p).hour) for p in posts)
    return {(day, hour): counts.get((day, hour), 0) for day in WEEKDAYS for hour in range(24)}


def top_posts(posts: list[dict]) -> list[tuple[str, int]]:
    """The 25 most engaged posts (likes + the one repost each is given), earlier first."""
    ranked = sorted(posts, key=lambda p: (-(p["likes"] + 1), p["created_at"], p["post_id"]))
    return [(p["url"], p["likes"] + 1) for p in ranked[:25]]


def read_csv(path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def shown(folder) -> dict[str, object]:
    """The same figures as the report's CSVs give them."""
    top = read_csv(folder / "top_contributors.csv")
    return {
        "posts": [(r["account"], int(float(r["value"]))) for r in top if r["metric"] == "posts"],
        "mentions": [(r["account"], int(float(r["value"]))) for r in top
                     if r["metric"] == "mentions"],
        "pairs": {r["pair"]: int(r["posts"]) for r in read_csv(folder / "hashtags.csv")},
        "languages": {r["lang"]: (int(r["posts"]), float(r["share"]))
                      for r in read_csv(folder / "languages.csv")},
        "heatmap": {(r["weekday_name"], int(r["hour_of_day"])): int(r["posts"])
                    for r in read_csv(folder / "heatmap.csv")},
        "top_posts": [(r["url"], int(r["engagement"])) for r in read_csv(folder / "top_posts.csv")],
    }


def expected(posts: list[dict]) -> dict[str, object]:
    return {"posts": top_by_posts(posts), "mentions": top_mentioned(posts),
            "pairs": tag_pairs(posts), "languages": languages(posts),
            "heatmap": heatmap(posts), "top_posts": top_posts(posts)}


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("window")
    cfg = make_config(tmp, extra=f'[[campaigns]]\nname = "win"\ntimezone = "{TZ}"\n'
                                 'hashtags = ["AleppoIsBurning"]\n')
    posts = make_posts()
    con = connect(cfg.warehouse)
    report_marts.insert_posts(con, "win", posts)
    build(con, cfg.campaigns)
    con.close()
    con = connect(cfg.warehouse, read_only=True)
    try:
        write_reports(con, cfg, tmp / "whole", "win", images=False)
        write_reports(con, cfg, tmp / "window", "win", WINDOW, images=False)
    finally:
        con.close()
    return posts, shown(tmp / "whole" / "win"), shown(tmp / "window" / "win"), cfg


@pytest.mark.parametrize("section", ["posts", "mentions", "pairs", "languages", "heatmap",
                                     "top_posts"])
def test_every_section_follows_the_window(reports, section):
    posts, whole, window, _ = reports
    inside = [p for p in posts if in_window(p, WINDOW)]
    assert 0 < len(inside) < len(posts)
    want_whole, want_window = expected(posts)[section], expected(inside)[section]
    assert want_window != want_whole  # the data makes each section differ
    if section == "languages":
        for got, want in ((whole, want_whole), (window, want_window)):
            assert {k: v[0] for k, v in got[section].items()} == {  # type: ignore[attr-defined]
                k: v[0] for k, v in want.items()}  # type: ignore[attr-defined]
            for k, (_, share) in want.items():  # type: ignore[attr-defined]
                assert got[section][k][1] == pytest.approx(share)  # type: ignore[index]
        return
    assert whole[section] == want_whole
    assert window[section] == want_window


@pytest.mark.parametrize("mart", ["marts.campaign_summary", "marts.top_contributors",
                                  "marts.hashtag_cooccurrence", "marts.languages",
                                  "marts.activity_heatmap", "marts.tag_variants",
                                  "marts.platform_summary"])
def test_a_window_over_every_day_gives_the_marts_rows(reports, mart):
    """The windowed rows are the mart's own SQL over the window's posts: over every day of
    the campaign they are the mart's rows."""
    from tracker.report.window import Scope
    posts, _, _, cfg = reports
    days = sorted(local(p).date() for p in posts)
    con = connect(cfg.warehouse, read_only=True)
    try:
        scope = Scope(con, cfg.campaign("win"), Window(days[0], days[-1]))
        table = scope.table(mart)
        assert table != mart
        # the model's own columns (a merged mart's table also holds its merge_key)
        cols = ", ".join(r[0] for r in con.execute(f"describe select * from {table}").fetchall())
        got, want = (sorted(con.execute(f"select {cols} from {t} where campaign = 'win'")
                            .fetchall(), key=repr) for t in (table, mart))
    finally:
        con.close()
    assert got and got == want


def test_tags_and_platforms_follow_the_window(reports):
    """The tag variants' and the platforms' posts, contributors and first posts in the CSVs
    are those of the window's posts."""
    posts, _, _, cfg = reports
    for folder, w in (("whole", Window()), ("window", WINDOW)):
        chosen = [p for p in posts if in_window(p, w)]
        base = cfg.reports.parent / folder / "win"
        (variant,) = read_csv(base / "tag_variants.csv")
        assert (variant["tag_text"], int(variant["posts"]), int(variant["contributors"])) == (
            "AleppoIsBurning", len(chosen), len({p["author_id"] for p in chosen}))
        assert variant["first_post"] == min(local(p) for p in chosen).strftime("%Y-%m-%d %H:%M")
        names = variant["top_languages_names"].split(", ")
        assert set(names) == {"English", "Arabic", "French", "unknown"} & {
            {"en": "English", "ar": "Arabic", "fr": "French", "und": "unknown"}[p["lang"]]
            for p in chosen}
        (platform,) = read_csv(base / "platform_summary.csv")
        assert (platform["platform"], int(platform["posts"]), int(platform["contributors"])) \
            == ("x", len(chosen), len({p["author_id"] for p in chosen}))


def test_what_a_window_reads_from_built_rows_and_what_it_computes_again():
    """Day-level marts and post-level models are read from their built rows (whole local
    days; the posts' own time), never computed again; a mart whose rows depend on posts
    outside the window (an author's first day) is computed again from the window's posts."""
    from tracker.report.window import _models, chain, day_level

    models = _models()
    assert {t for t, m in models.items() if day_level(m)} == {
        "marts.volume_daily", "marts.reach_daily", "marts.links_daily", "marts.media_daily"}
    assert chain("marts.links_daily") == ("marts.links_daily",)
    assert chain("marts.hashtag_cooccurrence") == ("core.campaign_tag_pairs",
                                                   "marts.hashtag_cooccurrence")
    assert "created_at" in models["core.campaign_tag_pairs"].columns
    # every post-level model a section reads is read by the posts' time or local day
    for t in ("core.campaign_mentions", "core.campaign_links", "core.campaign_media",
              "core.campaign_hashtags", "core.campaign_interactions"):
        assert {"created_at", "local_day"} & set(models[t].columns), t
    assert "core.campaign_authors" in chain("marts.contributors_daily")


@pytest.mark.parametrize("tz", ["Asia/Damascus", "Asia/Kolkata"])
def test_top_posts_of_a_window_whole_hours_or_not(reports, tz):
    """In a time zone whole hours from UTC the window's top posts are ranked among the hours'
    built leaders; half an hour off (Kolkata), its hours are computed again from its posts:
    both give the window's own ranking."""
    import dataclasses

    from tracker.report.window import Scope

    posts, _, _, cfg = reports
    c = dataclasses.replace(cfg.campaign("win"), timezone=tz)
    inside = [p for p in posts
              if WINDOW.since <= p["created_at"].astimezone(ZoneInfo(tz)).date()  # type: ignore[operator]
              <= WINDOW.until]  # type: ignore[operator]
    con = connect(cfg.warehouse, read_only=True)
    try:
        scope = Scope(con, c, WINDOW)
        got = con.execute(f"select url, engagement from {scope.table('marts.top_posts')} "
                          "where campaign = 'win' order by rank limit 25").fetchall()
        assert scope._whole_hours == (tz == "Asia/Damascus")
    finally:
        con.close()
    assert got == top_posts(inside)


def test_windows_of_campaigns_in_other_zones_share_a_connection(reports):
    """One report connection serves every campaign's page: a model read as a view for one
    campaign (whole UTC hours) and computed as a table for the next (half an hour off) does
    not collide; a campaign name holding '?' stays a name."""
    import dataclasses

    from tracker.report.window import Scope

    posts, _, window, cfg = reports
    con = connect(cfg.warehouse, read_only=True)
    try:
        got = {}
        for tz in ("Asia/Damascus", "Asia/Kolkata", "Asia/Damascus"):
            c = dataclasses.replace(cfg.campaign("win"), timezone=tz)
            got[tz] = con.execute(
                f"select lang, posts from {Scope(con, c, WINDOW).table('marts.languages')} "
                "where campaign = 'win' order by lang").fetchall()
        odd = dataclasses.replace(cfg.campaign("win"), name="win?")
        assert con.execute(f"select count(*) from "
                           f"{Scope(con, odd, WINDOW).table('marts.languages')}").fetchone() == (0,)
    finally:
        con.close()
    assert {k: v[0] for k, v in window["languages"].items()} == dict(got["Asia/Damascus"])
