"""SIGKILL `tracker run` at random moments, restart, and compare with an uninterrupted run.

Shared by tests/reliability/test_crash.py (CI-sized) and benchmarks/reliability_crash_loop.py
(full size). Reuses the daemon harness of tests/test_daemon.py, on either warehouse backend
(tests/reliability/backends.py). Every other kill is aimed at the loader's commit
(tests/reliability/commit_harness.py): the writer dies with a batch's transaction open.
"""

from __future__ import annotations

import random
import subprocess
import time
from pathlib import Path

from click.testing import CliRunner

from tracker.cli import cli
from tracker.store import segments

from ..conftest import open_warehouse
from ..test_daemon import Daemon, wait_for
from .backends import done, load_config, marts, query, reference, snapshot, write

PER_RUN = 40
COMMIT_HARNESS = Path(__file__).with_name("commit_harness.py")


class CommitDaemon(Daemon):
    """`tracker run` through commit_harness.py (a kill in the loader's commit)."""

    harness = COMMIT_HARNESS

    def killed_in_commit(self) -> bool:
        """Whether it died between a batch's `HARNESS commit N` and `HARNESS committed N`."""
        marks = [x.split()[1:] for x in self.log.read_text().splitlines()
                 if x.startswith("HARNESS ")]
        return bool(marks) and marks[-1][0] == "commit"


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


def _in_a_run(d: Daemon, rnd: random.Random) -> None:
    """Wait until the daemon is in its n-th collection run (n random, 1-4), then a random
    moment of that run's fetch (2 pages with the harness's page delay, 0.3 s each).

    Killed at a random moment, a kill can land between runs or before the first: a lake's
    loop has only two random kills and both did (seed 44074, 2026-12-06); on the file, with
    the suite in two workers, 6 of 10 did (seed 59482, CI, 2026-12-07). Aimed kills make
    sure the loop tests a kill during collection whatever the machine's load."""
    n = rnd.randint(1, 4)
    wait_for(lambda: len(d.events("run_started")) >= n and mid_run(d), timeout=120, every=0.05,
             what=f"collection run {n} to be under way")
    time.sleep(rnd.uniform(0, 0.15))


def stray_segments(config: Path) -> set[str]:
    """Payload segment files no page references (a writer removes them when it opens)."""
    cfg = load_config(config)
    con = open_warehouse(cfg, read_only=True, wait=30)
    try:
        folder = segments.raw_dir(con)
        used = {r[0] for r in con.execute("select distinct segment from raw.page_index")
                .fetchall()}
    finally:
        con.close()
    return {p.name for p in folder.iterdir()} - used - {segments.EMPTY}


def build(config: Path) -> int:
    result = CliRunner().invoke(cli, ["--config", str(config), "build"],
                                env={"TRACKER_MIN_INTERVAL": "1"})
    assert result.exit_code == 0, result.output
    return result.exit_code


def crash_loop(tmp: Path, kills: int, seed: int, page_delay: str = "0.3",
               between: tuple[float, float] = (0.8, 2.5), backend: str = "duckdb") -> dict:
    """`kills` SIGKILLs of the daemon, then one clean run to completion; the figures.

    Odd kills land in the commit of one of the loader's first batches (a random delay after
    its last write: during the commit or just after it). Even ones are aimed at a random one
    of the session's first collection runs (see `_in_a_run`): all of them on a lake, every
    other one on the file (the first among them), whose remaining kills land at a random
    moment after start-up."""
    rnd = random.Random(seed)
    x_posts = max(200, 60 * kills)   # still collecting at the last kill
    cfg = write(tmp, backend, x_posts=x_posts, x_per_run=PER_RUN)
    t0 = time.monotonic()
    killed_mid_run = in_commit = commit_kills = aimed = aimed_mid_run = 0
    for i in range(kills):
        if i % 2:
            commit_kills += 1
            # the first in the transaction for sure; the others at once or a moment later
            delay = 0 if commit_kills == 1 else rnd.choice([0, 0, rnd.uniform(0, 0.2)])
            d: Daemon = CommitDaemon(cfg, HARNESS_PAGE_DELAY=page_delay,
                                     HARNESS_KILL_COMMIT=f"{rnd.randint(1, 3)}:{delay}")
            try:
                d.proc.wait(30)         # it kills itself in a commit
            except subprocess.TimeoutExpired:
                d.proc.kill()
                d.proc.wait(10)
            in_commit += d.killed_in_commit()
            killed_mid_run += mid_run(d)
        else:
            d = Daemon(cfg, HARNESS_PAGE_DELAY=page_delay)
            is_aimed = backend == "ducklake" or i % 4 == 0
            if is_aimed:
                _in_a_run(d, rnd)
            else:
                time.sleep(rnd.uniform(*between))   # after start-up: kill anywhere
            d.proc.kill()
            d.proc.wait(10)
            killed_mid_run += mid_run(d)
            aimed += is_aimed
            aimed_mid_run += is_aimed and mid_run(d)
        assert d.proc.returncode == -9, d.log.read_text()[-2000:]
        d.log.unlink()
    cursor_after_kills = query(cfg, "select coalesce(sum((cursor->>'next_index')::int), 0) "
                                    "from ledger.cursors")[0][0]
    # a lake loads a batch in seconds here (its catalog and Parquet files), the file in
    # a fraction of one: more time to load the rest and to stop (a session under way ends)
    per_post, stop = (0.5, 90.0) if backend == "ducklake" else (0.1, 60.0)
    if backend == "ducklake":
        # and a run's end (an entry even with nothing fetched) every second from each
        # source would outpace those loads: the product's shortest interval, 10 s
        write(tmp, backend, x_posts=x_posts, x_per_run=PER_RUN, interval="10s")
    d = Daemon(cfg)       # the next writer opens the warehouse the kills left
    try:
        wait_for(lambda: done(cfg, x_posts), timeout=60 + x_posts * per_post,
                 what=f"collection to complete (seed {seed})")
    finally:
        d.stop(timeout=stop)
    got = snapshot(cfg)   # a reader opens it
    want = reference(tmp, x_posts, x_per_run=PER_RUN, backend=backend)
    build(cfg)
    build(tmp / "ref" / "tracker.toml")
    return {
        "backend": backend, "kills": kills, "seed": seed,
        "seconds": round(time.monotonic() - t0, 1),
        "posts_expected": len(want[2]), "posts_stored": len(got[2]),
        "posts_lost": len(want[2] - got[2]), "posts_extra": len(got[2] - want[2]),
        "pages_lost": len(want[1] - got[1]), "duplicates": duplicates(cfg),
        "tables_equal": got[0] == want[0], "kills_mid_run": killed_mid_run,
        "commit_kills": commit_kills, "kills_in_commit": in_commit,
        "random_kills": kills - commit_kills - aimed, "aimed_kills": aimed,
        "aimed_kills_mid_run": aimed_mid_run,
        "marts_equal": marts(cfg) == marts(tmp / "ref" / "tracker.toml"),
        "stray_segments": sorted(stray_segments(cfg)),
        "collected_before_final_run": cursor_after_kills,
        "left_running": len(query(cfg, "select 1 from ledger.runs where status = 'running'")),
    }
