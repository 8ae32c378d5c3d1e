"""The tag marts' inputs against the alternative of reading every author: on a warehouse built
by benchmarks/models_bench.py (--db), time what a build runs for marts.tag_variants and
marts.tag_overlap (reading the incremental core.campaign_tag_reach and core.campaign_tag_masks)
side by side with the same figures computed from every author's row of
core.campaign_author_tags (a group-by over their written forms, and a self-join for the
overlap), and check they agree.
With --report, also the report on that warehouse (campaign aleppo): the whole
`write_reports` and, inside it, the two sections' reads (tracker.report.tags and
side_by_side), without and with a 4-day window. Prints numbers; asserts nothing.

    .venv/bin/python benchmarks/tags_bench.py --db /tmp/models_bench.duckdb --report
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tracker.report import (  # noqa: E402
    Window,
    side_by_side,  # noqa: E402
    write_reports,
)
from tracker.report import tags as tags_section  # noqa: E402
from tracker.report.window import Scope  # noqa: E402
from tracker.store.db import connect  # noqa: E402

WINDOW = Window(dt.date(2016, 4, 27), dt.date(2016, 4, 30))

VARIANTS_NOW = """select campaign, tag, tag_text, contributors, potential_reach
                  from core.campaign_tag_reach order by all"""
VARIANTS_ALT = """with authors as (
                     select campaign, unnest(string_split(forms, chr(31))) as tag_text,
                            followers
                     from core.campaign_author_tags),
                 forms as (select distinct campaign, tag, tag_text from core.campaign_tag_forms)
                  select campaign, tag, tag_text, count(*) as contributors,
                         sum(followers)::bigint as potential_reach
                  from authors join forms using (campaign, tag_text)
                  group by all order by all"""
OVERLAP_NOW = """select campaign, tag_a, tag_b, contributors_both from marts.tag_overlap
                 order by all"""
OVERLAP_ALT = """with authors as (
                     select distinct a.campaign, f.tag, a.platform, a.author_id
                     from (select campaign, platform, author_id,
                                  unnest(string_split(forms, chr(31))) as tag_text
                           from core.campaign_author_tags) a
                     join core.campaign_tag_forms f using (campaign, tag_text))
                 select a.campaign, a.tag as tag_a, b.tag as tag_b, count(*) as contributors_both
                 from authors a join authors b
                   on b.campaign = a.campaign and b.platform = a.platform
                  and b.author_id = a.author_id and a.tag < b.tag
                 group by all order by all"""
REACH_CAMPAIGN = """select campaign, count(*) as contributors, sum(followers)::bigint
                    from core.campaign_authors group by all order by all"""
REACH_FIGURES = """with p as (select campaign, platform, count(*) as contributors,
                                 sum(followers)::bigint as reach
                          from core.campaign_authors group by all)
                   select campaign, sum(contributors)::bigint, sum(reach)::bigint
                   from p group by all order by all"""
OVERLAP_MART = (Path(__file__).resolve().parent.parent / "queries" / "marts" /
                "tag_overlap.sql").read_text(encoding="utf-8")


def timed(con, sql: str, runs: int) -> tuple[float, list]:
    times, rows = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        rows = con.execute(sql).fetchall()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default="/tmp/models_bench.duckdb")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--report", action="store_true", help="also time the report")
    args = ap.parse_args()
    con = connect(Path(args.db), read_only=True)
    con.execute(f"set threads = {args.threads}")
    con.execute("set enable_progress_bar = false")
    posts = con.execute("select count(*) from norm.posts").fetchone()[0]
    sizes = {t: con.execute(f"select count(*) from core.{t}").fetchone()[0]
             for t in ("campaign_author_tags", "campaign_tag_reach", "campaign_tag_masks")}
    print(f"posts={posts:,}; rows: " + ", ".join(f"core.{t} {n:,}" for t, n in sizes.items()))
    overlap_now = OVERLAP_MART.replace("order by campaign, tag_a, tag_b", "")
    cases = [("variants: contributors and reach", VARIANTS_NOW, VARIANTS_ALT),
             ("overlap: contributors of both tags", OVERLAP_NOW, OVERLAP_ALT),
             ("overlap: the mart's whole SQL", overlap_now, OVERLAP_ALT),
             # core.campaign_figures groups authors per platform, then adds the platforms up;
             # campaign_summary used to group them per campaign
             ("headline reach: per platform, added up", REACH_FIGURES, REACH_CAMPAIGN)]
    print(f"\n{'(median of ' + str(args.runs) + ')':38} {'incremental inputs':>20} "
          f"{'every author':>14}  same result")
    for label, now, alt in cases:
        t_now, r_now = timed(con, now, args.runs)
        t_alt, r_alt = timed(con, alt, args.runs)
        same = r_now == r_alt if "whole" not in label else "-"
        print(f"{label:38} {t_now * 1000:17.1f} ms {t_alt * 1000:11.1f} ms  {same}")
    if args.report:
        report(con, Path(args.db))
    con.close()


def report(con, db: Path) -> None:
    """The whole report and the two sections' reads, without and with a window."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from models_bench import campaigns
    cfg = campaigns(db.parent)
    c = cfg.campaign("aleppo")
    print("\nreport, campaign aleppo (seconds)")
    for label, w in (("whole campaign", Window()), ("--since 2016-04-27 --until 2016-04-30",
                                                    WINDOW)):
        scope = Scope(con, c, w)
        t0 = time.perf_counter()
        side_by_side.load(con, c, scope)
        t1 = time.perf_counter()
        tags_section.load(con, c, scope)
        t2 = time.perf_counter()
        for images in (False, True):
            with tempfile.TemporaryDirectory() as out:
                t3 = time.perf_counter()
                write_reports(con, cfg, Path(out), "aleppo", w, images=images)
                t4 = time.perf_counter()
            print(f"  {label:38} images={images!s:5}  write_reports {t4 - t3:6.2f}")
        print(f"  {label:38} sections alone (own Scope): platforms side by side "
              f"{t1 - t0:.2f}, tags and variants {t2 - t1:.2f}")


if __name__ == "__main__":
    main()
