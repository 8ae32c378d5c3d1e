"""The daemon's parts in-process: lock, spool, loader, policy."""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading

import pytest

from tracker.config import Campaign, DaemonSettings, Schedule, SourceConfig, load_config
from tracker.daemon.loader import Loader, apply_entry, groups
from tracker.daemon.lock import DaemonLock, DaemonRunning, holder
from tracker.daemon.policy import backoff_seconds, misfire_grace, period_seconds, trigger
from tracker.daemon.spool import Spool, run_header
from tracker.daemon.state import StateFile
from tracker.pages import RawPage, RunLog
from tracker.sources.simulated import SimulatedSource
from tracker.store import ledger
from tracker.store.db import connect
from tracker.store.normalise import prepare

from .conftest import BACKENDS, counts, fixture_path, sim_toml, write_config


def test_second_lock_is_refused_naming_the_holder(tmp_path):
    path = tmp_path / "w.duckdb.daemon.lock"
    first = DaemonLock(path)
    first.acquire("w.duckdb")
    assert holder(path) == int(path.read_text())
    with pytest.raises(DaemonRunning) as exc:
        DaemonLock(path).acquire("w.duckdb")
    assert str(exc.value).startswith("w.duckdb: a tracker daemon is already running on it "
                                     f"(process {path.read_text().strip()}")
    first.release()
    assert holder(path) is None


def test_stale_lock_file_of_a_dead_process_does_not_block(tmp_path):
    path = tmp_path / "w.duckdb.daemon.lock"
    path.write_text("999999\n")          # left behind by a killed daemon: no flock held
    assert holder(path) is None
    lock = DaemonLock(path)
    lock.acquire()
    assert path.read_text().strip() != "999999"
    lock.release()


def _pages(n: int, start: int = 0) -> list[RawPage]:
    out = []
    for i in range(start, start + n):
        payload = json.dumps({"data": [], "i": i, "text": "حلب 🔥 \ud800"})
        out.append(RawPage("x_v2_page", "x", payload, request=f"sim://{i}",
                           retrieved_at=dt.datetime(2016, 4, 27, 10, i, tzinfo=dt.UTC),
                           client="test", cursor={"next_index": start + n}, synthetic=True))
    return out


def test_spool_round_trip_order_and_latest_cursor(tmp_path):
    spool = Spool(tmp_path / "spool")
    pages = _pages(3)
    head = {"run_id": "r1", "campaign": "c", "source": "s", "started_at": "2026-01-01T00:00:00"}
    spool.write("batch", {**head, "cursor": {"next_index": 3}}, pages)
    spool.write("batch", {**head, "cursor": {"next_index": 5}}, _pages(2, 3))
    spool.write("batch", {**head, "source": "t", "cursor": {"n": 1}}, _pages(1))
    (tmp_path / "spool" / ".000000000099.tmp").write_text("half written")
    again = Spool(tmp_path / "spool")      # a restart: temp files are dropped, seq continues
    assert not list((tmp_path / "spool").glob(".*.tmp"))
    entries = again.entries()
    assert [e.seq for e in entries] == [1, 2, 3]
    back = entries[0].pages()
    assert [p.page_id for p in back] == [p.page_id for p in pages]   # same content hash
    assert back[0].retrieved_at == pages[0].retrieved_at and back[0].synthetic
    assert again.latest_cursors() == {("c", "s"): {"next_index": 5}, ("c", "t"): {"n": 1}}
    assert again.write("run", head).name == "000000000004-run.jsonl"
    assert again.count() == 3


def test_loading_a_spooled_batch_twice_stores_it_once(tmp_path):
    spool = Spool(tmp_path / "spool")
    camp = Campaign("c", "c", ("AleppoIsBurning",), (), Schedule(900))
    src = SimulatedSource(camp, SourceConfig("simulated", "sim", {"posts": 50}))
    pages = list(src.pages(None, RunLog()))
    head = {"run_id": "r1", "campaign": "c", "source": "sim",
            "started_at": "2026-01-01T00:00:00+00:00"}
    spool.write("batch", {**head, "cursor": pages[-1].cursor}, pages)
    con = connect(tmp_path / "w.duckdb")
    prepare(con, [camp])
    entry = spool.entries()[0]
    apply_entry(con, entry)
    once = counts(con)
    apply_entry(con, entry)                 # a crash between commit and delete
    assert counts(con) == once and once["norm.posts"] == 50
    assert ledger.get_cursor(con, "c", "sim") == {"next_index": 50}
    con.close()


def _backlog(where, backend):
    """A spool with a backlog: run r1's four batches (one page a second time) and its end,
    then a batch of run r2, still going."""
    where.mkdir()
    cfg = load_config(write_config(where, sim_toml(backend=backend)))
    spool = Spool(cfg.spool)
    camp = cfg.campaigns[0]
    pages = list(SimulatedSource(camp, camp.sources[0]).pages(None, RunLog()))
    assert len(pages) >= 4
    head = {"run_id": "r1", "campaign": "aleppo", "source": "simulated-x",
            "started_at": "2026-01-01T00:00:00+00:00"}
    for page in [*pages[:3], pages[1]]:
        spool.write("batch", {**head, "cursor": page.cursor}, [page])
    spool.write("run", run_header(head, dt.datetime(2026, 1, 1, 0, 1, tzinfo=dt.UTC), "ok",
                                  None, RunLog(requests=4)))
    spool.write("batch", {**head, "run_id": "r2", "cursor": pages[3].cursor}, [pages[3]])
    return cfg, spool


def _stored(cfg) -> tuple:
    con = connect(cfg.warehouse, lake=cfg.lake, read_only=True)
    try:
        runs = con.execute("select run_id, status, pages, records, posts_new, duplicates, "
                           "requests, ended_at from ledger.runs order by run_id").fetchall()
        posts = con.execute("select platform, post_id from norm.posts order by all").fetchall()
        return counts(con), runs, posts, ledger.get_cursor(con, "aleppo", "simulated-x")
    finally:
        con.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_backlog_loads_a_run_at_a_time_and_equals_loading_entry_by_entry(tmp_path,
                                                                            backend):
    together, spool = _backlog(tmp_path / "together", backend)
    assert [[e.seq for e in g] for g in groups(spool.entries())] == [[1, 2, 3, 4, 5], [6]]
    loader = Loader(lambda: together, spool, StateFile(tmp_path / "s.json", 1),
                    threading.Event(), lambda: {"r2"})
    assert loader.drain() == "done" and spool.entries() == []

    alone, spool = _backlog(tmp_path / "alone", backend)
    con = connect(alone.warehouse, lake=alone.lake)
    prepare(con, alone.campaigns)
    for entry in spool.entries():
        apply_entry(con, entry)
    con.close()

    stored = _stored(together)
    assert stored == _stored(alone)
    table_counts, runs, posts, cursor = stored
    # r1: 3 pages new of 4 delivered (one twice), 300 posts new; r2 still going
    assert [r[:5] + r[6:7] for r in runs] == [("r1", "ok", 3, 4, 300, 4),
                                              ("r2", "running", 1, 1, 100, 0)]
    assert len(posts) == 400 and cursor == {"next_index": 400}


# Real recorded X v2 pages (tests/fixtures/shared/x_v2, provenance in its README.md), one
# page a batch, spooled as one run.
REAL_PAGES = ["twarc2_two_tweets.jsonl", "twarc2_geo_tweets.jsonl", "twarc2_cotweet.jsonl",
              "twarc2_media_tweet.jsonl", "twarc2_mentions_tweet.jsonl"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_backlog_of_real_pages_loads_as_one_run_and_stores_what_they_hold(tmp_path,
                                                                            backend):
    cfg = load_config(write_config(tmp_path, sim_toml(backend=backend)))
    spool = Spool(cfg.spool)
    lines = [line for name in REAL_PAGES
             for line in fixture_path("x_v2", name).read_text(encoding="utf-8").splitlines()
             if line.strip()]
    head = {"run_id": "r1", "campaign": "aleppo", "source": "x",
            "started_at": "2026-01-01T00:00:00+00:00"}
    for i, line in enumerate(lines):
        page = RawPage("x_v2_page", "x", line, request=f"recorded://{i}",
                       retrieved_at=dt.datetime(2026, 1, 1, 0, 0, i, tzinfo=dt.UTC),
                       client="test", cursor={"page": i + 1})
        spool.write("batch", {**head, "cursor": {"page": i + 1}}, [page])
    spool.write("run", run_header(head, dt.datetime(2026, 1, 1, 0, 1, tzinfo=dt.UTC), "ok",
                                  None, RunLog(requests=len(lines))))
    assert [len(g) for g in groups(spool.entries())] == [len(lines) + 1]
    loader = Loader(lambda: cfg, spool, StateFile(tmp_path / "s.json", 1), threading.Event(),
                    lambda: set())
    assert loader.drain() == "done" and spool.entries() == []

    # plain Python over the payloads: results are `data`, context is includes.tweets
    results, context = set(), set()
    for line in lines:
        page = json.loads(line)
        data = page.get("data") or []
        results |= {t["id"] for t in (data if isinstance(data, list) else [data])}
        context |= {t["id"] for t in page.get("includes", {}).get("tweets", [])}
    context -= results
    assert results and context      # the pages have both
    con = connect(cfg.warehouse, lake=cfg.lake, read_only=True)
    try:
        stored = dict(con.execute("select post_id, matched from norm.posts "
                                  "where platform = 'x'").fetchall())
        run = con.execute("select status, pages, records, posts_new from ledger.runs "
                          "where run_id = 'r1'").fetchone()
        cursor = ledger.get_cursor(con, "aleppo", "x")
    finally:
        con.close()
    assert {k for k, v in stored.items() if v} == results
    assert {k for k, v in stored.items() if not v} == context
    assert run == ("ok", len(lines), len(lines), len(results | context))
    assert cursor == {"page": len(lines)}


def test_runs_left_running_by_a_killed_process_are_marked_killed(tmp_path, sim_config):
    cfg = sim_config()
    con = connect(cfg.warehouse)
    ledger.start_run(con, "collect", "aleppo", "simulated-x", run_id="old")
    con.close()
    loader = Loader(lambda: cfg, Spool(cfg.spool), StateFile(tmp_path / "s.json", 1),
                    threading.Event(), lambda: set())
    assert loader.drain() == "done"
    con = connect(cfg.warehouse, read_only=True)
    status, message = con.execute("select status, message from ledger.runs").fetchone()
    con.close()
    assert status == "killed" and "killed" in message


def test_backoff_doubles_up_to_the_cap():
    s = DaemonSettings(backoff_base=60, backoff_max=600)
    assert [backoff_seconds(n, s) for n in range(0, 7)] == [0, 60, 120, 240, 480, 600, 600]


def test_misfire_grace_and_jitter_fit_the_interval():
    s = DaemonSettings()
    quarter = Schedule(interval_seconds=900)
    assert misfire_grace(quarter, s) == 900            # not APScheduler's 1 s default
    assert trigger(quarter, s).jitter == 30            # 10%, capped at 30 s
    assert trigger(Schedule(interval_seconds=60), s).jitter == 6
    assert trigger(quarter, DaemonSettings(jitter=0)).jitter is None
    hourly = Schedule(cron="0 * * * *")
    assert period_seconds(hourly) == 3600 and misfire_grace(hourly, s) == 3600
    assert misfire_grace(quarter, DaemonSettings(misfire_grace=5)) == 5


def test_an_entry_that_cannot_be_loaded_is_set_aside_not_lost(tmp_path, sim_config, caplog):
    cfg = sim_config()
    spool = Spool(cfg.spool)
    head = {"run_id": "r1", "campaign": "aleppo", "source": "simulated-x",
            "started_at": "2026-01-01T00:00:00+00:00"}
    bad = RawPage("no_such_format", "x", "{}", retrieved_at=dt.datetime.now(dt.UTC))
    spool.write("batch", {**head, "cursor": {"next_index": 1}}, [bad])
    good = list(SimulatedSource(cfg.campaigns[0], cfg.campaigns[0].sources[0])
                .pages(None, RunLog()))[:1]
    spool.write("batch", {**head, "cursor": {"next_index": 2}}, good)
    (cfg.spool / "000000000007-batch.jsonl").write_text("{not json\n")
    loader = Loader(lambda: cfg, spool, StateFile(tmp_path / "s.json", 1), threading.Event(),
                    lambda: set())
    with caplog.at_level(logging.WARNING, logger="tracker"):
        results = [loader.drain() for _ in range(3)]
    assert results == ["retry", "retry", "done"]
    # entries 1 and 2 are one run's batches: loaded together first, then one by one
    assert [r.entries for r in caplog.records
            if getattr(r, "event", None) == "load_split"] == [2, 2, 2]
    rejected = sorted(p.name for p in (cfg.spool / "rejected").iterdir())
    assert rejected == ["000000000001-batch.jsonl", "000000000007-batch.jsonl"]
    assert spool.entries() == []
    con = connect(cfg.warehouse, read_only=True)
    assert ledger.get_cursor(con, "aleppo", "simulated-x") == {"next_index": 2}
    con.close()


def test_backoff_after_a_failure_is_honoured_across_a_restart(sim_config):
    # The ledger records the failure (as `tracker collect` would); the daemon derives its
    # backoff from when that run ended.
    from tracker.daemon.service import Daemon
    from tracker.store.ledger import LastRun

    cfg = sim_config()
    ended = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=10)
    d = Daemon(cfg)
    d._last_runs = {("aleppo", "simulated-x"): LastRun("failed", None, ended),
                    ("aleppo", "simulated-mastodon"): LastRun("ok", None, ended)}
    until = d._waits_until(("aleppo", "simulated-x"))
    assert until == ended + dt.timedelta(seconds=cfg.daemon.backoff_base)
    js = d._job_state("collect:aleppo:simulated-x", Schedule(interval_seconds=60),
                      ("aleppo", "simulated-x"))
    assert (js.blocked_reason, js.failures) == ("backoff", 1)
    assert d._waits_until(("aleppo", "simulated-mastodon")) is None


def test_the_daemon_maintains_a_lake_daily_or_on_its_schedule_and_a_file_never(sim_config,
                                                                               tmp_path):
    import dataclasses

    from tracker.config import DaemonSettings
    from tracker.daemon.service import MAINTAIN_JOB, Daemon

    assert MAINTAIN_JOB not in Daemon(sim_config())._wanted()
    lake = sim_config(backend="ducklake")
    assert Daemon(lake)._wanted()[MAINTAIN_JOB] == (Schedule(interval_seconds=86400), ())
    hourly = dataclasses.replace(lake, daemon=DaemonSettings(
        maintain=Schedule(interval_seconds=3600), keep_snapshots=7 * 86400))
    assert Daemon(hourly)._wanted()[MAINTAIN_JOB] == (Schedule(interval_seconds=3600), ())


def _spool_run(cfg, spool: Spool, run_id: str) -> int:
    """Spool one whole collection run of the config's simulated X source; its post count."""
    campaign = cfg.campaigns[0]
    pages = list(SimulatedSource(campaign, campaign.sources[0]).pages(None, RunLog()))
    head = {"run_id": run_id, "campaign": campaign.name, "source": campaign.sources[0].name,
            "started_at": "2026-01-01T00:00:00+00:00"}
    for page in pages:
        spool.write("batch", {**head, "cursor": page.cursor}, [page])
    spool.write("run", run_header(head, dt.datetime(2026, 1, 1, 0, 1, tzinfo=dt.UTC), "ok",
                                  None, RunLog(requests=len(pages))))
    return sum(len(json.loads(p.payload)["data"]) for p in pages)


def _campaign_posts(cfg) -> int | None:
    con = connect(cfg.warehouse, read_only=True)
    try:
        row = con.execute("select posts from marts.campaign_summary").fetchone()
    finally:
        con.close()
    return row[0] if row else None


def test_a_build_due_during_a_collection_run_loads_and_includes_that_run(tmp_path,
                                                                         sim_config):
    from tracker.daemon import build

    cfg = sim_config(x_posts=30)
    spool = Spool(cfg.spool)
    loader = Loader(lambda: cfg, spool, StateFile(tmp_path / "s.json", 1), threading.Event(),
                    lambda: set())
    running = [frozenset({1})]     # one collection job under way when the build falls due

    def collection() -> None:      # it ends 1.5 s later, after the build's SETTLE
        loader.stop.wait(build.SETTLE + 0.5)
        posts[0] = _spool_run(cfg, spool, "r1")
        running[0] = frozenset()

    posts = [0]
    worker = threading.Thread(target=collection)
    worker.start()
    assert build.build_job(loader, lambda: running[0]) == "ok"
    worker.join()
    # the build loaded the run before it built: its posts are in the marts, none in the spool
    assert spool.entries() == []
    assert posts[0] == 30 and _campaign_posts(cfg) == 30


def test_a_build_waits_for_collection_runs_no_longer_than_runs_wait(tmp_path, sim_config,
                                                                   monkeypatch):
    from tracker.daemon import build

    monkeypatch.setattr(build, "SETTLE", 0.0)
    monkeypatch.setattr(build, "RUNS_WAIT", 0.5)
    cfg = sim_config(x_posts=30)
    spool = Spool(cfg.spool)
    _spool_run(cfg, spool, "r1")
    loader = Loader(lambda: cfg, spool, StateFile(tmp_path / "s.json", 1), threading.Event(),
                    lambda: set())
    t0 = dt.datetime.now()
    assert build.build_job(loader, lambda: frozenset({1})) == "ok"  # a run that never ends
    assert (dt.datetime.now() - t0).total_seconds() < 30
    assert _campaign_posts(cfg) == 30                       # what was spooled is built

    stop = threading.Event()
    loader = Loader(lambda: cfg, spool, StateFile(tmp_path / "s.json", 1), stop,
                    lambda: set())
    monkeypatch.setattr(build, "RUNS_WAIT", 600.0)
    threading.Timer(0.3, stop.set).start()
    t0 = dt.datetime.now()
    assert build.build_job(loader, lambda: frozenset({1})) == "skipped"  # a stop ends it
    assert (dt.datetime.now() - t0).total_seconds() < 5


def test_a_build_waits_only_for_the_runs_under_way_when_it_fell_due(monkeypatch):
    from tracker.daemon import build

    monkeypatch.setattr(build, "SETTLE", 0.0)
    monkeypatch.setattr(build, "RUNS_WAIT", 600.0)

    class Idle:
        stop = threading.Event()

    jobs = iter([frozenset({1}), frozenset({1, 2}), frozenset({2, 3})])   # 1 ends; 2, 3 go on
    t0 = dt.datetime.now()
    build.await_runs(Idle(), lambda: next(jobs, frozenset({2, 3})))      # type: ignore[arg-type]
    assert (dt.datetime.now() - t0).total_seconds() < 2
    # and never longer than half the build's period
    t0 = dt.datetime.now()
    build.await_runs(Idle(), lambda: frozenset({7}), period=1.0)          # type: ignore[arg-type]
    assert 0.4 < (dt.datetime.now() - t0).total_seconds() < 3
