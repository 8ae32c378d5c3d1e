"""Report generation time and HTML size at 1M and 10M synthetic posts.

The simulated source is pure Python and too slow for 10M posts, so this script writes the
normalised tables (norm.*) directly in SQL with a campaign-like shape (three platforms, a
daily rhythm and two bursts over 14 days, heavy-headed authors, four kinds, four languages,
co-tags, one engagement observation per post), builds the real models (`models.build`,
timed separately, not part of the report target) and then times only `write_reports`.

Targets (issue 7, on 2 cores): a report within 10 s at 10M posts; HTML under 2 MB beyond the
inlined Vega bundle.

    .venv/bin/python benchmarks/report_scale.py                 # 1M and 10M
    .venv/bin/python benchmarks/report_scale.py --posts 200000  # a quick run

`--models-bench DB` instead times campaign aleppo's report on the warehouse that
`benchmarks/models_bench.py --db DB` built (links, media, tags, mentions and the network
too), whole and with the 4-day window, each `--repeat` times.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from tracker.config import parse_config
from tracker.models import build
from tracker.report import Window, write_reports
from tracker.report.assets import vega_bundle
from tracker.store.db import connect

CONFIG = {
    "warehouse": {"path": "bench.duckdb"},
    "campaigns": [{
        "name": "bench", "title": "#AleppoIsBurning (benchmark)",
        "hashtags": ["AleppoIsBurning", "حلب_تحترق"], "timezone": "Asia/Damascus",
        "start": dt.date(2016, 4, 22), "end": dt.date(2016, 5, 5),
        "events": [{"date": dt.date(2016, 4, 27), "label": "al-Quds hospital strike"},
                   {"date": dt.date(2016, 4, 29), "label": "#MakeFacebookRed day"}],
    }],
}

# u(k): a uniform [0, 1) number from the post index i and a salt k.
_U = "(hash(i * 16 + {k}) / 18446744073709551616.0)"
FILL = f"""
create or replace temp table bench as
with shaped as (
    select i,
           case when {_U.format(k=1)} < 0.70 then 'x'
                when {_U.format(k=1)} < 0.85 then 'mastodon' else 'bluesky' end as platform,
           floor($n / 4 * pow({_U.format(k=2)}, 2.2))::bigint as a,
           case when {_U.format(k=3)} < 0.70 then {_U.format(k=4)} * 335.9
                when {_U.format(k=3)} < 0.85 then least(335.9, 140 - 10 * ln(1 - {_U.format(k=4)}))
                else least(335.9, 176 - 16 * ln(1 - {_U.format(k=4)})) end as hours,
           {_U.format(k=5)} as u5, {_U.format(k=6)} as u6, {_U.format(k=7)} as u7
    from range($n) t(i)
)
select i, platform, a,
       platform || ':' || i as post_id,
       timestamptz '2016-04-22 00:00:00+00' + to_microseconds((hours * 3600e6)::bigint)
           as created_at,
       platform || ':u' || a as author_id,
       case when platform <> 'bluesky' and u5 < 0.45 then 'repost'
            when u5 < 0.80 then 'original' when u5 < 0.90 then 'reply' else 'quote' end as kind,
       case when u6 < 0.5 then 'en' when u6 < 0.8 then 'ar' when u6 < 0.9 then 'tr'
            else 'fr' end as lang,
       ['Aleppo', 'Syria', 'SaveAleppo', 'MakeFacebookRed', 'StopBombingHospitals']
           [1 + floor(u7 * 5)::int] as co_tag,
       u7
from shaped
"""
INSERTS = [
    """insert into norm.posts by name
       select platform, post_id, 'https://example.org/' || platform || '/' || i as url,
              created_at, author_id, lang, kind, true as synthetic,
              'Hospitals are being bombed in Aleppo. #AleppoIsBurning #' || co_tag as text,
              'bench' as first_page_id, created_at as first_seen_at
       from bench""",
    """insert into norm.authors by name
       select *, author_key(platform, author_id) as author_key,
              author_key(platform, handle) as handle_key
       from (select distinct platform, author_id, 'user' || a as handle, 'User ' || a as name
             from bench)""",
    """insert into norm.author_observations by name
       select distinct platform, author_id, timestamptz '2016-04-21 00:00:00+00' as observed_at,
              floor(20 / pow(hash(a * 7 + 1) / 18446744073709551616.0 + 0.0005, 0.9))::bigint
                  as followers
       from bench""",
    """insert into norm.engagement_observations by name
       select platform, post_id, timestamptz '2016-05-06 00:00:00+00' as observed_at,
              floor(pow(u7, 6) * 400)::bigint as likes,
              floor(pow(u7, 7) * 150)::bigint as reposts,
              floor(pow(u7, 8) * 40)::bigint as replies, floor(pow(u7, 9) * 20)::bigint as quotes,
              case when platform = 'x' then floor(pow(u7, 3) * 5000)::bigint end as impressions
       from bench where kind <> 'repost'""",
    """insert into norm.post_hashtags by name
       select platform, post_id, 'aleppoisburning' as tag, 'AleppoIsBurning' as tag_text
       from bench
       union all
       select platform, post_id, lower(co_tag), co_tag from bench""",
    """insert into norm.campaign_posts by name
       select 'bench' as campaign, platform, post_id from bench""",
]


def fill(con, n: int) -> None:
    con.execute(FILL, {"n": n})
    for sql in INSERTS:
        con.execute(sql)
    con.execute("drop table bench")


def run(n: int, base: Path) -> None:
    cfg = parse_config(CONFIG, base / "tracker.toml")
    if cfg.warehouse.exists():  # a warehouse kept by an earlier run with --dir
        print(f"{n:>11,} posts: reusing {cfg.warehouse}")
    else:
        con = connect(cfg.warehouse)
        t0 = time.perf_counter()
        fill(con, n)
        t1 = time.perf_counter()
        build(con, cfg.campaigns)
        t2 = time.perf_counter()
        con.close()
        print(f"{n:>11,} posts: filled norm.* in {t1 - t0:.1f}s, "
              f"built models in {t2 - t1:.1f}s")
    con = connect(cfg.warehouse, read_only=True)
    time_cases(con, cfg, base, "bench")
    con.close()


def time_cases(con, cfg, base: Path, campaign: str, repeat: int = 1) -> None:
    bundle = len(vega_bundle().encode())
    cases = [("full report (HTML + CSV + SVG + PNG)", {}, True),
             ("HTML + CSV only (--no-images)", {}, False),
             ("--since 2016-04-27 --until 2016-04-30, with images",
              {"window": Window(dt.date(2016, 4, 27), dt.date(2016, 4, 30))}, True)]
    for label, kw, images in cases:
        times = []
        for _ in range(repeat):
            out = base / "out"
            shutil.rmtree(out, ignore_errors=True)
            t = time.perf_counter()
            write_reports(con, cfg, out, campaign, images=images, **kw)
            times.append(time.perf_counter() - t)
        html = (out / campaign / "index.html").stat().st_size
        print(f"    {label:52} {', '.join(f'{x:.2f}' for x in times)} s  HTML "
              f"{html / 1e6:.2f} MB ({(html - bundle) / 1e3:.0f} kB beyond the "
              f"{bundle / 1e3:.0f} kB bundle)")


def models_bench_warehouse(db: Path, repeat: int) -> None:
    """Campaign aleppo's report on benchmarks/models_bench.py's warehouse."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from models_bench import campaigns

    base = Path(tempfile.mkdtemp(prefix="rbench-"))
    try:
        cfg = campaigns(base)
        con = connect(db, read_only=True)
        posts = con.execute("select count(*) from norm.posts").fetchone()[0]
        print(f"{posts:>11,} posts in {db} (models_bench.py's warehouse), campaign aleppo:")
        time_cases(con, cfg, base, "aleppo", repeat)
        con.close()
    finally:
        shutil.rmtree(base, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posts", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--dir", help="Work folder, kept and reused by later runs (default: a "
                                  "temporary one, removed after).")
    ap.add_argument("--models-bench", metavar="DB", type=Path,
                    help="Time the report on this warehouse of benchmarks/models_bench.py.")
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    print(f"cpus: {os.cpu_count()}")
    vega_bundle()  # loaded once per process, as in the CLI; not part of the timings
    if args.models_bench:
        models_bench_warehouse(args.models_bench, args.repeat)
        return
    for n in args.posts:
        base = Path(args.dir) / str(n) if args.dir else Path(tempfile.mkdtemp(prefix="rbench-"))
        base.mkdir(parents=True, exist_ok=True)
        try:
            run(n, base)
        finally:
            if not args.dir:
                shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
