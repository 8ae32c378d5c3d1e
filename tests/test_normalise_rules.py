"""The loader's rules that incremental builds rely on (written in tracker/store/normalise.py),
checked over a sequence of real and hand-made batches stored through the real loader."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest

from tracker.config import Campaign, Schedule
from tracker.models import build, norm_tables
from tracker.pages import RawPage
from tracker.store import ledger
from tracker.store.load import store_batch
from tracker.store.normalise import IN_PLACE_UPDATES, POST_KEYED, prepare

from .conftest import BACKENDS, FIXTURES, connect_at, jsonl
from .test_models_marts import tweet, x_page, x_user

AT = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


def real_batches() -> list[list[RawPage]]:
    """Each recorded twarc2 file is one batch (edits and quoted edits among them)."""
    return [[RawPage("x_v2_page", "x", json.dumps(p), request=path.name) for p in jsonl(path)]
            for path in sorted((FIXTURES / "x_v2").glob("twarc2_*.jsonl"))]


def hand_batches() -> list[list[RawPage]]:
    """Later deliveries that change stored posts: an edit with a new tag, a mention and a
    new language; a post first seen as context, then matched; a retweet of a stored post;
    a newer engagement observation; tags added to a stored post."""
    original = tweet("7001", "2016-04-22T10:00:00.000Z", "1", ["AleppoIsBurning"])
    edit = dict(tweet("7002", "2016-04-22T10:05:00.000Z", "1", ["AleppoIsBurning", "Idlib"],
                      mentions=("u9",)),
                edit_history_tweet_ids=["7001", "7002"], lang="ar")
    context = tweet("7003", "2016-04-22T11:00:00.000Z", "2", ["Syria"])
    quoting = tweet("7004", "2016-04-22T11:30:00.000Z", "2", ["AleppoIsBurning"],
                    refs=[{"type": "quoted", "id": "7003"}])
    users = [x_user("1", 10), x_user("2", 20)]
    return [
        [x_page([original], users, AT)],
        [x_page([edit], users, AT + dt.timedelta(minutes=1))],
        [x_page([quoting], users, AT + dt.timedelta(minutes=2), included=[context])],
        [x_page([dict(context, entities={"hashtags": [{"tag": "Syria"}, {"tag": "Extra"}],
                                         "mentions": []})], users,
                AT + dt.timedelta(minutes=3))],
        [x_page([tweet("7005", "2016-04-22T12:00:00.000Z", "2", [],
                       refs=[{"type": "retweeted", "id": "7001"}])], users,
                AT + dt.timedelta(minutes=4))],
        [x_page([tweet("7004", "2016-04-22T11:30:00.000Z", "2", ["AleppoIsBurning"],
                       likes=99, refs=[{"type": "quoted", "id": "7003"}])], users,
                AT + dt.timedelta(minutes=5))],
    ]


def snapshot(con) -> dict[str, dict[int, tuple]]:
    out = {}
    for table, columns in norm_tables().items():
        rows = con.execute(f"select rowid, {', '.join(columns)} from {table}").fetchall()
        out[table] = {r[0]: dict(zip(columns, r[1:], strict=True)) for r in rows}
    return out


def test_norm_tables_grow_by_appends_and_post_rows_come_with_the_post_or_later(warehouse):
    con = warehouse
    campaign = Campaign(name="aleppo", title="Aleppo", hashtags=("AleppoIsBurning",), sources=(),
                        schedule=Schedule(900))
    prepare(con, [campaign])
    run = ledger.start_run(con, "test", "aleppo", "hand")
    before = snapshot(con)
    first_batch: dict[tuple[str, str], int] = {}  # post -> index of the batch storing it
    marks: list[dict[str, int]] = [{t: max(rows, default=-1) for t, rows in before.items()}]
    steps = [("batch", b) for b in real_batches() + hand_batches()]
    # a tag added to the campaign: the build links stored posts (appends campaign_posts)
    steps.insert(len(real_batches()) + 2, ("relink", None))
    for step, pages in steps:
        if step == "batch":
            store_batch(con, pages, run_id=run, source="hand", campaign="aleppo",
                        assign_campaign="aleppo")
        else:
            build(con, [dataclasses.replace(campaign, hashtags=("AleppoIsBurning", "Syria"))])
        after = snapshot(con)
        for table, rows in before.items():
            updatable = IN_PLACE_UPDATES.get(table, set())
            for rowid, row in rows.items():
                assert rowid in after[table], f"{table}: row {rowid} deleted ({step})"
                changed = {c for c in row if after[table][rowid][c] != row[c]}
                assert changed <= updatable, f"{table}: {changed} updated in place ({step})"
        for row in after["norm.posts"].values():
            first_batch.setdefault((row["platform"], row["post_id"]), len(marks))
        marks.append({t: max(rows, default=-1) for t, rows in after.items()})
        before = after
    assert len(first_batch) > 20 and marks[-1]["norm.post_versions"] >= 0
    # every row keyed by a post was appended after the marks taken before the post was first
    # stored: an incremental build finds a new post's rows among the rows appended since
    for table in POST_KEYED:
        assert before[table], f"{table} is empty: the check proves nothing"
        for rowid, row in before[table].items():
            post = (row["platform"], row["post_id"])
            assert post in first_batch, f"{table} row {rowid}: its post is not stored"
            assert rowid > marks[first_batch[post] - 1][table], (table, post)


def test_a_post_moving_in_time_makes_the_next_build_full(warehouse):
    """An X post stored from an edit (the edit's tweet has its own, later, time) moves to the
    original's earlier time when the original arrives: its hour changes, which an
    incremental build cannot follow, so the build state is cleared."""
    con = warehouse
    campaign = Campaign(name="aleppo", title="Aleppo", hashtags=("AleppoIsBurning",), sources=(),
                        schedule=Schedule(900))
    prepare(con, [campaign])
    run = ledger.start_run(con, "test", "aleppo", "hand")
    users = [x_user("1", 10)]
    edit = dict(tweet("8002", "2016-04-22T13:05:00.000Z", "1", ["AleppoIsBurning"]),
                edit_history_tweet_ids=["8001", "8002"])
    store_batch(con, [x_page([edit], users, AT)], run_id=run, source="hand",
                campaign="aleppo")
    build(con, [campaign])
    assert con.execute("select count(*) from core.build_state").fetchone()[0] > 0
    original = tweet("8001", "2016-04-22T12:55:00.000Z", "1", ["AleppoIsBurning"])
    store_batch(con, [x_page([original], users, AT + dt.timedelta(minutes=1))], run_id=run,
                source="hand", campaign="aleppo")
    assert con.execute("select count(*) from core.build_state").fetchone()[0] == 0
    steps = build(con, [campaign])
    assert {s.mode for s in steps if s.model.table == "core.campaign_posts"} == {"full"}
    assert con.execute("select hour from core.campaign_posts where post_id = '8001'"
                       ).fetchone()[0] == dt.datetime(2016, 4, 22, 12, tzinfo=dt.UTC)


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_author_keeps_the_profile_seen_last_whatever_the_order_of_the_loads(tmp_path,
                                                                               backend):
    """An older archive imported after live collection must not take an author's handle back
    to the one it had then: the profile of the page retrieved last wins, and loading the two
    pages in either order stores the same row (as a rebuild from raw would)."""
    page = jsonl(FIXTURES / "x_v2" / "twarc2_two_tweets.jsonl")[0]
    user = page["includes"]["users"][0]
    renamed = json.loads(json.dumps(page))
    # the later profile is renamed and lacks what the older one holds: it is filled in
    later = dict(user, username=user["username"] + "_2026", name="Renamed later")
    del later["created_at"], later["verified"]
    renamed["includes"]["users"][0] = later
    older = RawPage("x_v2_page", "x", json.dumps(page), retrieved_at=AT)
    newer = RawPage("x_v2_page", "x", json.dumps(renamed),
                    retrieved_at=AT + dt.timedelta(days=30))
    rows = []
    for order in ([older, newer], [newer, older]):
        con = connect_at(tmp_path, f"order{len(rows)}", backend)
        prepare(con, [])
        run = ledger.start_run(con, "test", "aleppo", "hand")
        for p in order:
            store_batch(con, [p], run_id=run, source="hand", campaign="aleppo")
        rows.append(con.execute(
            "select handle, name, created_at, verified, last_seen_at from norm.authors "
            "where author_id = ?", [user["id"]]).fetchall())
        con.close()
    # plain Python: the profile in the page retrieved last, filled in from the older one
    want = [(user["username"] + "_2026", "Renamed later",
             dt.datetime.fromisoformat(user["created_at"].replace("Z", "+00:00")),
             user["verified"], AT + dt.timedelta(days=30))]
    assert rows[0] == want and rows[1] == want
