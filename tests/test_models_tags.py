"""marts.tag_variants, marts.tag_overlap and marts.platform_summary against a plain-Python
computation over the same raw payloads (tests/models_oracle_tags.py), on the three data sets
of test_models_marts: the real recorded payloads, the synthetic campaigns, the edge cases."""

from __future__ import annotations

import pytest

from tracker.languages import name_of

from .conftest import MORE_BACKENDS, connect_at
from .models_oracle_marts import r9
from .models_oracle_tags import ORACLES, TAG_COLUMNS
from .test_models_marts import BUILDERS


@pytest.fixture(params=MORE_BACKENDS)
def backend(request) -> str:
    """conftest's `backend`, narrowed to MORE_BACKENDS for this module."""
    return request.param


@pytest.fixture(scope="module", params=[(n, b) for b in MORE_BACKENDS for n in sorted(BUILDERS)],
                ids=lambda p: f"{p[0]}-{p[1]}")
def dataset(request, tmp_path_factory):
    name, backend = request.param
    con, oracle = BUILDERS[name](tmp_path_factory.mktemp(name), backend)
    yield name, con, oracle
    con.close()


def sql_rows(con, mart: str) -> set[tuple]:
    from .models_oracle_marts import _utc
    rows = con.execute(f"select {TAG_COLUMNS[mart]} from marts.{mart}").fetchall()
    return {tuple(r9(v) if isinstance(v, float) else _utc(v) for v in row) for row in rows}


@pytest.mark.parametrize("mart", sorted(TAG_COLUMNS))
def test_mart_matches_independent_computation(dataset, mart):
    name, con, oracle = dataset
    want = ORACLES[mart](oracle)
    got = sql_rows(con, mart)
    assert want, f"the {name} data set gives the oracle no rows for {mart}"
    assert got == want, (f"{mart} on {name}: only in SQL {sorted(got - want, key=str)[:5]}; "
                         f"only in Python {sorted(want - got, key=str)[:5]}")


def test_platform_figures_add_up_to_the_campaign(dataset):
    """Posts, contributors and potential reach of the platforms add up to the campaign's (an
    account is on one platform): the two marts read one definition."""
    _, con, _ = dataset
    rows = con.execute("""
        select s.campaign, s.posts, s.contributors, s.potential_reach, s.first_post,
               sum(p.posts), sum(p.contributors), sum(p.potential_reach), min(p.first_post)
        from marts.campaign_summary s join marts.platform_summary p using (campaign)
        group by all""").fetchall()
    assert rows
    for r in rows:
        assert r[1:5] == r[5:9], r


def test_edge_variants_side_by_side(tmp_path, backend):
    """The edge data set spelled out: #AleppoIsBurning in three written forms and #حلب_تحترق,
    the Mastodon status in Arabic, first uses in time order."""
    from .test_models_marts import build_edges
    con, _ = build_edges(tmp_path, backend)
    rows = con.execute("select tag_text, posts, top_languages, platforms from "
                       "marts.tag_variants where campaign = 'edge' order by tag, tag_text"
                       ).fetchall()
    forms = {r[0]: r for r in rows}
    assert {"AleppoIsBurning", "aleppoisburning", "حلب_تحترق"} <= set(forms)
    assert "ar" in forms["aleppoisburning"][2].split(", ")   # the Mastodon status
    assert forms["AleppoIsBurning"][3] == "bluesky, x"
    (pair,) = con.execute("select tag_a, tag_b, contributors_both from marts.tag_overlap "
                          "where campaign = 'edge'").fetchall()
    # author 1 used both tags; the Bluesky author too (a facet and a record tag)
    assert pair == ("aleppoisburning", "حلب_تحترق", 2)
    con.close()


@pytest.mark.parametrize("code, name", [
    ("ar", "Arabic"), ("en", "English"), ("pt-BR", "Portuguese (Brazil)"), ("in", "Indonesian"),
    ("und", "unknown"), (None, "unknown"), ("", "unknown"), ("qme", "unknown (qme)"),
    ("not a code", "unknown (not a code)")])
def test_language_names(code, name):
    assert name_of(code) == name


TAG_MODELS = ("core.campaign_tag_forms", "core.campaign_author_tags",
              "core.campaign_tag_reach", "core.campaign_tag_masks")


def _alpha_beta(tmp_path, backend):
    """A warehouse for campaign c (#Alpha, #Beta); `load(tweets, users, hour)`: store one X
    page retrieved at that hour of 2024-01-01 and build (the models' modes);
    `assert_full_equals()`: a full build leaves the tag models as they are."""
    import datetime as dt

    from tracker.config import parse_config
    from tracker.models import build
    from tracker.store import ledger
    from tracker.store.load import store_batch
    from tracker.store.normalise import prepare

    from .test_models_marts import x_page

    cfg = parse_config({"campaigns": [{"name": "c", "hashtags": ["Alpha", "Beta"]}]},
                       tmp_path / "tracker.toml")
    con = connect_at(tmp_path, "t", backend)
    prepare(con, cfg.campaigns)

    def load(tweets, users, hour):
        run = ledger.start_run(con, "test", "c", "x")
        store_batch(con, [x_page(tweets, users, dt.datetime(2024, 1, 1, hour, tzinfo=dt.UTC))],
                    run_id=run, source="x", campaign="c")
        return {s.model.table: s.mode for s in build(con, cfg.campaigns)}

    def assert_full_equals():
        before = {m: sorted(con.execute(f"select * from {m}").fetchall()) for m in TAG_MODELS}
        build(con, cfg.campaigns, full=True)
        assert {m: sorted(con.execute(f"select * from {m}").fetchall())
                for m in TAG_MODELS} == before

    return con, load, assert_full_equals


def test_incremental_merge_follows_authors_who_take_up_another_tag(tmp_path, backend):
    """An author of #Alpha who later posts #Beta leaves the combination {alpha} for {alpha,
    beta} (the merge counts the author's new row and takes the replaced one away); a higher
    follower count raises the variant's reach; a new written form appears. The incremental
    build equals a full one."""
    from .test_models_marts import tweet, x_user

    con, load, assert_full_equals = _alpha_beta(tmp_path, backend)
    load([tweet("1", "2024-01-01T00:10:00.000Z", "1", ["Alpha"]),
          tweet("2", "2024-01-01T00:20:00.000Z", "2", ["Alpha", "Beta"]),
          tweet("3", "2024-01-01T00:30:00.000Z", "3", ["Beta"])],
         [x_user("1", 10), x_user("2", 20), x_user("3", 30)], 1)
    modes = load([tweet("4", "2024-01-01T02:10:00.000Z", "1", ["Beta"]),
                  tweet("5", "2024-01-01T02:20:00.000Z", "3", ["Beta"]),
                  tweet("6", "2024-01-01T02:30:00.000Z", "4", ["ALPHA"])],
                 [x_user("1", 10), x_user("3", 300), x_user("4", 40)], 2)
    assert {modes[m] for m in TAG_MODELS} == {"merge"}
    overlap = con.execute("select contributors_a, contributors_b, contributors_both, jaccard "
                          "from marts.tag_overlap").fetchall()
    assert overlap == [(3, 3, 2, 0.5)]   # alpha: 1, 2, 4; beta: 1, 2, 3
    variants = con.execute("select tag_text, posts, contributors, potential_reach "
                           "from marts.tag_variants order by tag_text").fetchall()
    # reach: each contributor once, with the largest count among their posts with the tags
    assert variants == [("ALPHA", 1, 1, 40), ("Alpha", 2, 2, 30), ("Beta", 4, 3, 330)]
    assert_full_equals()
    con.close()


def test_a_combination_keeps_its_other_authors_when_one_leaves_it(tmp_path, backend):
    """Authors 1 and 5 post #Alpha; then author 1 posts #Beta and nobody else joins
    {alpha}: author 1 moves to {alpha, beta}, and {alpha} keeps author 5. (The merge once
    dropped {alpha}, so #Alpha's contributors fell from 2 to 1.)"""
    from .test_models_marts import tweet, x_user

    con, load, assert_full_equals = _alpha_beta(tmp_path, backend)
    load([tweet("1", "2024-01-01T00:10:00.000Z", "1", ["Alpha"]),
          tweet("2", "2024-01-01T00:20:00.000Z", "5", ["Alpha"])],
         [x_user("1", 10), x_user("5", 20)], 1)
    modes = load([tweet("3", "2024-01-01T02:10:00.000Z", "1", ["Beta"])], [x_user("1", 10)], 2)
    assert modes["core.campaign_tag_masks"] == "merge"
    masks = con.execute("select tags, contributors from core.campaign_tag_masks "
                        "order by tags").fetchall()
    assert masks == [(1, 1), (3, 1)]   # {alpha}: author 5; {alpha, beta}: author 1
    overlap = con.execute("select contributors_a, contributors_b, contributors_both "
                          "from marts.tag_overlap").fetchall()
    assert overlap == [(2, 1, 1)]   # alpha: 1, 5; beta: 1
    assert_full_equals()
    con.close()
