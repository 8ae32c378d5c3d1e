"""The build engine (tracker.build): models parsed by SQLGlot, their SQL rendered back for
DuckDB, tables replaced in the parsed query, directives checked on load with file and line."""

from __future__ import annotations

import pytest

from tracker.build import check, parse_model
from tracker.build import discover as discover_in
from tracker.build import sql as sqltree
from tracker.errors import TrackerError
from tracker.models import build, discover, norm_tables
from tracker.pipeline import collect
from tracker.store.db import connect
from tracker.store.normalise import POST_KEYED


@pytest.fixture(scope="module")
def small_warehouse(tmp_path_factory):
    from tracker.config import load_config

    from .conftest import sim_toml, write_config
    tmp = tmp_path_factory.mktemp("engine")
    cfg = load_config(write_config(tmp, sim_toml(x_posts=300, per_run=10_000_000)))
    con = connect(cfg.warehouse)
    collect(con, cfg)
    _repolls(con)
    build(con, cfg.campaigns)
    yield con
    con.close()


def _repolls(con):
    """Re-poll slots (ledger.repolls) for some posts, so marts.engagement_at_age has rows:
    each post read at 1 h, one of them gone by 24 h."""
    import datetime as dt

    from tracker.store.lookups import record_repolls

    posts = con.execute("select c.platform, c.post_id, p.created_at from norm.campaign_posts c "
                        "join norm.posts p using (platform, post_id) where p.kind <> 'repost' "
                        "order by all limit 20").fetchall()
    now = dt.datetime.now(dt.UTC)
    rows = [(plat, pid, 3600, created + dt.timedelta(hours=1), now, "read", None)
            for plat, pid, created in posts]
    rows.append((posts[0][0], posts[0][1], 86400, posts[0][2] + dt.timedelta(days=1), now,
                 "not_found", "gone"))
    record_repolls(con, "engine-test", "aleppo", rows)


@pytest.mark.parametrize("model", discover(), ids=lambda m: m.table)
def test_every_model_rendered_by_sqlglot_runs_with_the_same_result(small_warehouse, model):
    """Incremental builds run the model's query as SQLGlot renders it (with some tables
    replaced): rendered without replacement, it gives what the file gives."""
    con = small_warehouse
    written = model.sql.strip().rstrip(";")
    rendered = sqltree.substitute(model.sql, {})
    assert rendered != written  # really rendered from the tree (upper-case keywords)
    want = con.execute(written).fetchall()
    want_columns = [d[:2] for d in con.description]
    got = con.execute(rendered).fetchall()
    assert [d[:2] for d in con.description] == want_columns
    assert want, f"{model.table} is empty on the test warehouse: the comparison proves little"
    assert sorted(got, key=repr) == sorted(want, key=repr)


def test_dependencies_come_from_the_query_not_from_comments_or_strings(tmp_path):
    (tmp_path / "marts").mkdir()
    path = tmp_path / "marts" / "m.sql"
    path.write_text("-- Reads core.campaign_posts, says the comment.\n"
                    "with hourly as (select * from core.campaign_hourly),\n"
                    "     campaign_posts as (select 'marts.bursts' as label)\n"
                    "select h.*, l.label from hourly h, campaign_posts l\n"
                    "where h.campaign in (select campaign from core.campaigns)\n")
    m = parse_model("marts", path)
    assert m.depends_on == {"core.campaign_hourly", "core.campaigns"}


def test_a_table_is_replaced_in_the_tree_under_its_alias_or_its_name():
    sql = ("with p as (select post_id from core.posts where platform = 'x')\n"
           "select p.post_id, posts.url from p join core.posts using (post_id)\n"
           "join (select * from core.posts) q using (post_id)")
    out = sqltree.substitute(sql, {"core.posts": "lookup_posts"})
    assert "core.posts" not in out.lower()
    assert out.count("lookup_posts AS posts") == 3
    out = sqltree.substitute(sql, {"core.posts": "(select * from t union all by name "
                                                "select * from u)"})
    assert out.count("UNION ALL BY NAME") == 3 and "core.posts" not in out.lower()


def test_sql_the_parser_cannot_read_is_an_error_with_the_line(tmp_path):
    path = tmp_path / "m.sql"
    path.write_text("-- A model.\nselect 1\nfrom t where (a = 1\n")
    with pytest.raises(TrackerError) as exc:
        parse_model("core", path)
    assert str(exc.value) == f"{path}:3: SQL not understood: Expecting )"


HEADER = """-- A model.
-- @incremental campaign, platform, post_id
-- @changes core.campaign_posts(campaign, platform, post_id)
{extra}--
-- campaign: c
-- platform: p
-- post_id: i
-- posts: n
select campaign, platform, post_id, count(*) as posts
from core.campaign_posts join norm.post_hashtags using (platform, post_id)
group by all
"""
COLUMNS = "campaign, platform, post_id, posts"


@pytest.mark.parametrize("extra, line, message", [
    ("-- @merge posts avg\n", 4,
     "@merge: expected 'column sum|count|max|min|bit_or|union, ...'"),
    ("-- @merge posts sum, likes max\n", 4,
     f"@merge: unknown column 'likes' (the model's columns: {COLUMNS})"),
    ("-- @merge posts sum, post_id max\n", 4,
     "@merge: 'post_id' is an @incremental column (the key is kept, the other columns are "
     "merged)"),
    ("-- @lookup norm.post_hashtags(post_id)\n", 4,
     "@lookup: expected 'norm.table(platform, post_id)' or "
     "'layer.view(platform, post_id) rows norm.table(column)'"),
    ("-- @lookup norm.post_mentions(platform, post_id)\n", 4,
     "@lookup: the model does not read norm.post_mentions"),
    ("-- @changes core.campaign_hashtags(campaign, platform, post_id)\n", 4,
     "@changes: the model does not read core.campaign_hashtags"),
    ("-- @changes norm.post_hashtags\n", 4, "@changes: expected 'layer.table(column, ...)'"),
    ("-- @changes norm.post_hashtags(platform, post_id) asof(observed_at, followers, posts)\n",
     4, "@changes: expected 'norm.table(platform, author_id) asof(time_column, value_column, "
     "model_column)'"),
    ("-- @changes norm.author_observations(platform, author_id) asof(observed_at)\n", 4,
     "@changes: expected 'norm.table(platform, author_id) asof(time_column, value_column, "
     "model_column)'"),
    ("-- @changes norm.author_observations(platform, author_id) "
     "asof(observed_at, followers, followers_at_post)\n", 4,
     f"@changes: asof needs the model's column 'author_id' (the model's columns: {COLUMNS})"),
    ("-- @changes norm.post_hashtags(platform, post_id)\n-- @reapply\n", 5,
     "@reapply: expected one @changes table with the @incremental columns"),
    ("-- @reapply now\n", 4, "@reapply takes nothing after it"),
    ("-- @merge posts sum\n-- @reapply\n", 5, "@merge and @reapply do not go together (a "
     "merge adds to the rows a key has; @reapply chooses rows again)"),
    ("-- @materialized view\n", 2,
     "@incremental: a view is not stored; remove @materialized view"),
    ("-- @incremental campaign\n", 4, "@incremental given twice"),
    ("-- @incremntal campaign\n", 4, "unknown directive '@incremntal' (known: @materialized, "
     "@incremental, @changes, @lookup, @merge, @reapply)"),
])
def test_each_bad_directive_names_the_file_line_and_what_is_wrong(tmp_path, extra, line,
                                                                  message):
    path = tmp_path / "m.sql"
    path.write_text(HEADER.format(extra=extra), encoding="utf-8")
    with pytest.raises(TrackerError) as exc:
        parse_model("core", path)
    assert str(exc.value) == f"{path}:{line}: {message}"


@pytest.mark.parametrize("header, message", [
    ("-- @incremental campaign, platform, postid\n"
     "-- @changes core.campaign_posts(campaign, platform, post_id)\n",
     f"2: @incremental: unknown column 'postid' (the model's columns: {COLUMNS})"),
    ("-- @incremental campaign\n-- @changes core.campaign_posts(campaign, platform)\n",
     "2: @incremental: expected at least the columns of the first @changes table (they name "
     "the same keys, in order)"),
    ("-- @changes core.campaign_posts(campaign, platform, post_id)\n",
     "2: @incremental and @changes go together"),
    ("-- @merge posts sum\n",
     "2: @lookup, @merge and @reapply need @incremental and @changes"),
])
def test_directives_that_only_work_together(tmp_path, header, message):
    path = tmp_path / "m.sql"
    body = HEADER.split("--\n", 1)[1]
    path.write_text(f"-- A model.\n{header}--\n{body}", encoding="utf-8")
    with pytest.raises(TrackerError) as exc:
        parse_model("core", path)
    assert str(exc.value) == f"{path}:{message}"


def test_a_column_named_like_the_merge_digest_is_refused(tmp_path):
    """A merged model's table holds `merge_key` besides its columns: a model reading it with
    `select *` would carry another model's digest, so the name is refused where it is
    documented."""
    path = tmp_path / "m.sql"
    path.write_text(HEADER.format(extra="").replace("-- posts: n\n", "-- posts: n\n"
                                                    "-- merge_key: k\n"), encoding="utf-8")
    with pytest.raises(TrackerError) as exc:
        parse_model("core", path)
    assert str(exc.value) == (
        f"{path}:9: column 'merge_key' is the build engine's digest of a @merge model's key "
        "(a `select *` from such a model carries it): select columns by name, or name yours "
        "otherwise")


def test_merge_must_cover_every_column_but_the_key(tmp_path):
    path = tmp_path / "m.sql"
    path.write_text(HEADER.format(extra="-- @merge posts sum\n").replace(
        "-- posts: n\n", "-- posts: n\n-- likes: l\n"), encoding="utf-8")
    with pytest.raises(TrackerError) as exc:
        parse_model("core", path)
    assert str(exc.value) == (f"{path}:4: @merge: column 'likes' is neither an @incremental "
                              "column nor merged (it would be lost)")


def test_a_directive_after_the_column_list_is_an_error(tmp_path):
    path = tmp_path / "m.sql"
    path.write_text("-- A model.\n--\n-- n: a number\n-- @materialized view\nselect 1 as n\n")
    with pytest.raises(TrackerError) as exc:
        parse_model("core", path)
    assert str(exc.value) == (f"{path}:4: @materialized: directives go before the column "
                              "list (the first blank '--' line)")


def _models_with(tmp_path, extra: str, name: str = "m"):
    """The project's models plus one more in tmp_path's core/."""
    (tmp_path / "core").mkdir(exist_ok=True)
    path = tmp_path / "core" / f"{name}.sql"
    path.write_text(HEADER.format(extra=extra), encoding="utf-8")
    return path, discover() + discover_in(tmp_path)


@pytest.mark.parametrize("extra, message", [
    ("-- @changes norm.post_tags(platform, post_id)\n",
     "@changes: unknown table norm.post_tags (neither a norm table nor a model)"),
    ("-- @changes norm.author_observations(platform, author_id)\n"
     "-- @changes norm.authors(platform, post_id)\n",
     "@changes: unknown column 'post_id' of norm.authors (its columns: platform, author_id, "
     "handle, name, created_at, verified, last_seen_at, author_key, handle_key)"),
    ("-- @changes norm.post_hashtags(platform, id)\n",
     "@changes: unknown column 'id' of norm.post_hashtags (its columns: platform, post_id, "
     "tag, tag_text)"),
])
def test_directives_are_checked_against_the_norm_tables_and_the_models(tmp_path, extra,
                                                                       message):
    path, models = _models_with(tmp_path, extra)
    with pytest.raises(TrackerError) as exc:
        check(models, norm_tables(), POST_KEYED)
    assert str(exc.value).startswith(f"{path}:"), exc.value
    assert str(exc.value).split(": ", 1)[1] == message


def test_asof_columns_are_checked_against_the_norm_table(tmp_path):
    (tmp_path / "core").mkdir()
    path = tmp_path / "core" / "m.sql"
    path.write_text("-- A model.\n-- @incremental campaign, platform, post_id\n"
                    "-- @changes core.campaign_posts(campaign, platform, post_id)\n"
                    "-- @changes norm.author_observations(platform, author_id) "
                    "asof(seen_at, followers, followers_at_post)\n--\n"
                    + "".join(f"-- {c}: x\n" for c in ("campaign", "platform", "post_id",
                                                       "author_id", "created_at",
                                                       "followers_at_post"))
                    + "select campaign, platform, post_id, author_id, created_at, "
                    "followers_at_post from core.campaign_posts\n", encoding="utf-8")
    with pytest.raises(TrackerError) as exc:
        check(discover() + discover_in(tmp_path), norm_tables(), POST_KEYED)
    assert str(exc.value) == (f"{path}:4: @changes: unknown column 'seen_at' of "
                              "norm.author_observations (its columns: platform, author_id, "
                              "observed_at, followers, following, posts)")


def test_changes_of_a_model_that_is_not_incremental_is_an_error(tmp_path):
    (tmp_path / "core").mkdir()
    path = tmp_path / "core" / "m.sql"
    path.write_text("-- A model.\n-- @incremental platform, post_id\n"
                    "-- @changes core.posts(platform, post_id)\n--\n-- platform: p\n"
                    "-- post_id: i\nselect platform, post_id from core.posts\n",
                    encoding="utf-8")
    with pytest.raises(TrackerError) as exc:
        check(discover() + discover_in(tmp_path), norm_tables())
    assert str(exc.value) == (f"{path}:3: @changes: core.posts is not incremental (it is "
                              "rebuilt in full each time, and so would this model be)")


def test_a_merge_over_a_merged_model_needs_a_count_column(tmp_path):
    """Over a merged model, a key's upstream rows come and go (an author who takes up a
    second tag leaves one combination for another): without a count of them the engine
    cannot tell a key that still has rows from one that has none."""
    (tmp_path / "core").mkdir()
    path = tmp_path / "core" / "m.sql"
    text = ("-- A model.\n-- @incremental campaign, platform\n"
            "-- @changes core.campaign_authors(campaign, platform)\n"
            "-- @merge authors {op}, posts sum\n--\n-- campaign: c\n-- platform: p\n"
            "-- authors: a\n-- posts: n\n"
            "select campaign, platform, count(*) as authors, sum(posts) as posts\n"
            "from core.campaign_authors group by all\n")
    path.write_text(text.format(op="sum"), encoding="utf-8")
    with pytest.raises(TrackerError) as exc:
        check(discover() + discover_in(tmp_path), norm_tables())
    assert str(exc.value) == (f"{path}:4: @merge: over the merged model core.campaign_authors, "
                              "one column must be 'count' (counting its rows in the key: a "
                              "key whose count falls to 0 is dropped)")
    path.write_text(text.format(op="count"), encoding="utf-8")
    check(discover() + discover_in(tmp_path), norm_tables())


def test_lookup_through_a_view_needs_its_row_column(tmp_path):
    (tmp_path / "core").mkdir()
    path = tmp_path / "core" / "m.sql"
    text = HEADER.format(extra="-- @lookup core.posts(platform, post_id) rows "
                               "norm.posts(row_number)\n").replace(
        "join norm.post_hashtags", "join core.posts")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TrackerError) as exc:
        check(discover() + discover_in(tmp_path), norm_tables())
    columns = ", ".join(next(m for m in discover() if m.table == "core.posts").columns)
    assert str(exc.value) == (f"{path}:4: @lookup: unknown column 'row_number' of core.posts "
                              f"(its columns: {columns})")


def test_rows_found_through_their_post_must_be_written_with_it_or_later(tmp_path):
    """The engine reads a new post's rows of a @lookup table by rowid: only tables the
    loader promises to write with the post or later (tracker/store/normalise.py) qualify."""
    (tmp_path / "core").mkdir()
    path = tmp_path / "core" / "m.sql"
    path.write_text("-- A model.\n-- @incremental platform, post_id, tag\n"
                    "-- @changes norm.campaign_posts(campaign, platform, post_id)\n"
                    "-- @lookup norm.post_hashtags(platform, post_id)\n--\n-- platform: p\n"
                    "-- post_id: i\n-- tag: t\nselect platform, post_id, tag\n"
                    "from norm.campaign_posts join norm.post_hashtags using (platform, post_id)\n",
                    encoding="utf-8")
    models = discover_in(tmp_path)
    check(models, norm_tables(), POST_KEYED)
    keyed = [t for t in POST_KEYED if t != "norm.post_hashtags"]
    with pytest.raises(TrackerError) as exc:
        check(models, norm_tables(), keyed)
    assert str(exc.value) == (f"{path}:4: @lookup: norm.post_hashtags is not written with its "
                              f"posts or later (the loader's post-keyed tables: "
                              f"{', '.join(sorted(keyed))})")


def test_the_project_models_pass_the_checks():
    check(discover(), norm_tables(), POST_KEYED)
    assert {"norm.posts", "norm.post_versions"} <= set(norm_tables())


def test_a_rebuilt_table_or_view_follows_its_sql_on_both_backends(tmp_path, backend):
    """Builds refill a lake's full-build tables instead of replacing them, and make a view only
    when its SQL changed (store/db.py `refill`): a model whose SQL changes still gets it, with
    the same columns (refilled) or other ones (made anew)."""
    from tracker.build.run import build as run_models

    from .conftest import connect_at
    folder = tmp_path / "models"
    folder.mkdir()
    table, view = folder / "kept.sql", folder / "shown.sql"

    def models(kept: str, shown: str):
        table.write_text(f"-- A table.\n--\n-- x: a value\nselect {kept} as x\n",
                         encoding="utf-8")
        view.write_text("-- A view.\n-- @materialized view\n--\n-- x: a value\n"
                        f"select {shown} as x from core.kept\n", encoding="utf-8")
        return [parse_model("core", table), parse_model("core", view)]

    con = connect_at(tmp_path, "w", backend)
    try:
        def rows(*sqls: str):
            steps = run_models(con, models(*sqls))
            return ([s.mode for s in steps],
                    con.execute("from core.kept").fetchall(),
                    con.execute("from core.shown").fetchall())

        assert rows("1", "x") == (["full", "view"], [(1,)], [(1,)])
        assert rows("1", "x") == (["full", "view"], [(1,)], [(1,)])
        assert rows("2", "x + 10") == (["full", "view"], [(2,)], [(12,)])
        assert rows("'a'", "x || '!'") == (["full", "view"], [("a",)], [("a!",)])
        assert con.execute("select data_type from information_schema.columns where "
                           "table_name = 'kept'").fetchall() == [("VARCHAR",)]
        # the view model made a table, then a view again, with the same SQL
        shown = view.read_text(encoding="utf-8")
        view.write_text(shown.replace("-- @materialized view\n", ""), encoding="utf-8")
        steps = run_models(con, [parse_model("core", table), parse_model("core", view)])
        assert [s.mode for s in steps] == ["full", "full"]
        con.execute("delete from core.kept")
        assert con.execute("from core.shown").fetchall() == [("a!",)]   # a table now
        view.write_text(shown, encoding="utf-8")
        assert rows("'b'", "x || '!'") == (["full", "view"], [("b",)], [("b!",)])
        assert rows("'b'", "x || '!'") == (["full", "view"], [("b",)], [("b!",)])
        # and to a table again when the build remembers nothing (a warehouse built before)
        con.execute("delete from core.build_state")
        view.write_text(shown.replace("-- @materialized view\n", ""), encoding="utf-8")
        steps = run_models(con, [parse_model("core", table), parse_model("core", view)])
        assert [s.mode for s in steps] == ["full", "full"]
        assert con.execute("select table_type from information_schema.tables where "
                           "table_name = 'shown'").fetchall() == [("BASE TABLE",)]
    finally:
        con.close()


def test_refill_and_reset_keep_a_table_only_with_the_same_columns(tmp_path, backend):
    from tracker.store.db import refill, reset_table

    from .conftest import connect_at
    con = connect_at(tmp_path, "w", backend)
    try:
        con.execute("create table main.t (x integer not null, y varchar)")
        con.execute("insert into main.t values (1, 'a')")
        assert not refill(con, "main.t", "select 2 as x, 'b' as y")   # x may be null here
        assert not refill(con, "main.t", "select 2::integer as x")     # a column short
        assert not refill(con, "main.missing", "select 1 as x")
        assert con.execute("from main.t").fetchall() == [(1, "a")]
        reset_table(con, "main.t", "x integer not null, y varchar")
        assert con.execute("from main.t").fetchall() == []
        con.execute("insert into main.t values (3, 'c')")
        reset_table(con, "main.t", "x integer not null, y varchar, z date")
        assert con.execute("from main.t").fetchall() == []
        assert [r[0] for r in con.execute("describe main.t").fetchall()] == ["x", "y", "z"]
        con.execute("create table main.u as select 1 as x")
        assert refill(con, "main.u", "select 5 as x union all select 6")
        assert sorted(con.execute("from main.u").fetchall()) == [(5,), (6,)]
    finally:
        con.close()
