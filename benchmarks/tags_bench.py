"""The tag marts' inputs against the alternative of reading every author: on a warehouse built
by benchmarks/models_bench.py (--db), time what a build runs for marts.tag_variants and
marts.tag_overlap (reading the incremental core.campaign_tag_reach and core.campaign_tag_masks)
side by side with the same figures computed from every author's row of
core.campaign_author_tags (a group-by over their written forms, and a self-join for the
overlap), and check they agree.
Prints numbers; asserts nothing.

    .venv/bin/python benchmarks/tags_bench.py --db /tmp/models_bench.duckdb
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tracker.store.db import connect  # noqa: E402

VARIANTS_NOW = """select campaign, tag, tag_text, contributors, potential_reach
                  from core.campaign_tag_reach order by all"""
VARIANTS_ALT = """with authors as (
                     select campaign, unnest(forms) as form, followers
                     from core.campaign_author_tags)
                  select campaign, form.tag, form.tag_text, count(*) as contributors,
                         sum(followers)::bigint as potential_reach
                  from authors group by all order by all"""
OVERLAP_NOW = """select campaign, tag_a, tag_b, contributors_both from marts.tag_overlap
                 order by all"""
OVERLAP_ALT = """with authors as (
                     select distinct campaign, unnest(forms).tag as tag, platform, author_id
                     from core.campaign_author_tags)
                 select a.campaign, a.tag as tag_a, b.tag as tag_b, count(*) as contributors_both
                 from authors a join authors b
                   on b.campaign = a.campaign and b.platform = a.platform
                  and b.author_id = a.author_id and a.tag < b.tag
                 group by all order by all"""
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
             ("overlap: the mart's whole SQL", overlap_now, OVERLAP_ALT)]
    print(f"\n{'(median of ' + str(args.runs) + ')':38} {'incremental inputs':>20} "
          f"{'every author':>14}  same result")
    for label, now, alt in cases:
        t_now, r_now = timed(con, now, args.runs)
        t_alt, r_alt = timed(con, alt, args.runs)
        same = r_now == r_alt if "whole" not in label else "-"
        print(f"{label:38} {t_now * 1000:17.1f} ms {t_alt * 1000:11.1f} ms  {same}")
    con.close()


if __name__ == "__main__":
    main()
