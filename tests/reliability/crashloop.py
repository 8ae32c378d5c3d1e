"""SIGKILL `tracker run` at random moments, restart, and compare with an uninterrupted run.

Shared by tests/reliability/test_crash.py (CI-sized) and benchmarks/reliability_crash_loop.py
(full size). Reuses the daemon harness of tests/test_daemon.py.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

from ..test_daemon import Daemon, done, query, reference, snapshot, wait_for, write

PER_RUN = 40


def duplicates(config: Path) -> int:
    """Rows beyond one per key in the keyed tables (a lost write-once guarantee shows here)."""
    checks = {"raw.pages": "page_id", "norm.posts": "platform, post_id",
              "norm.campaign_posts": "campaign, platform, post_id"}
    total = 0
    for table, key in checks.items():
        total += query(config, f"select count(*) - count(distinct ({key})) from {table}")[0][0]
    return total


def mid_run(d: Daemon) -> bool:
    """Whether the daemon was killed with a collection run started and not yet fetched."""
    started = len(d.events("run_started"))
    return started > len(d.events("run_fetched")) + len(d.events("run_skipped"))


def crash_loop(tmp: Path, kills: int, seed: int, page_delay: str = "0.3",
               between: tuple[float, float] = (0.8, 2.5)) -> dict:
    """`kills` SIGKILLs of the daemon, then one clean run to completion; the figures."""
    rnd = random.Random(seed)
    x_posts = max(200, 60 * kills)   # still collecting at the last kill
    cfg = write(tmp, x_posts=x_posts, x_per_run=PER_RUN)
    t0 = time.monotonic()
    killed_mid_run = 0
    for _ in range(kills):
        d = Daemon(cfg, HARNESS_PAGE_DELAY=page_delay)
        time.sleep(rnd.uniform(*between))   # start-up takes ~0.7 s; kill anywhere after
        d.proc.kill()
        d.proc.wait(10)
        killed_mid_run += mid_run(d)
        d.log.unlink()
    cursor_after_kills = query(cfg, "select coalesce(sum((cursor->>'next_index')::int), 0) "
                                    "from ledger.cursors")[0][0]
    d = Daemon(cfg)
    try:
        wait_for(lambda: done(cfg, x_posts), timeout=60 + x_posts / 10,
                 what=f"collection to complete (seed {seed})")
    finally:
        d.stop()
    got = snapshot(cfg)
    want = reference(tmp, x_posts, x_per_run=PER_RUN)
    return {
        "kills": kills, "seed": seed, "seconds": round(time.monotonic() - t0, 1),
        "posts_expected": len(want[2]), "posts_stored": len(got[2]),
        "posts_lost": len(want[2] - got[2]), "posts_extra": len(got[2] - want[2]),
        "pages_lost": len(want[1] - got[1]), "duplicates": duplicates(cfg),
        "tables_equal": got[0] == want[0], "kills_mid_run": killed_mid_run,
        "collected_before_final_run": cursor_after_kills,
        "left_running": len(query(cfg, "select 1 from ledger.runs where status = 'running'")),
    }
