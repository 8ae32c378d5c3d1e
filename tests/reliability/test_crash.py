"""Crash loop: SIGKILL `tracker run`, `tracker import` and `tracker build` mid-way."""

from __future__ import annotations

import os
import time

import pytest

from ..conftest import BACKENDS
from .crashloop import crash_loop

pytestmark = pytest.mark.reliability

# Kills per backend. A lake's writer loads a batch in seconds on a slow machine (each
# statement reads and writes its SQLite catalog and Parquet files), so it gets fewer kills
# and more time; half of them are still aimed at the loader's commit.
KILLS = {"duckdb": 12, "ducklake": 4}
TIMEOUT = {"duckdb": 300, "ducklake": 900}


@pytest.mark.parametrize("backend", [pytest.param(b, marks=pytest.mark.timeout(TIMEOUT[b]))
                                     for b in BACKENDS])
def test_sigkill_loop_of_the_daemon_loses_and_duplicates_nothing(tmp_path, backend):
    kills = int(os.environ.get("TRACKER_RELIABILITY_KILLS", KILLS[backend]))
    seed = int(os.environ.get("TRACKER_TEST_SEED", time.time_ns() % 100_000))
    fig = crash_loop(tmp_path, kills, seed, backend=backend)
    assert fig["posts_lost"] == 0 and fig["pages_lost"] == 0, fig
    assert fig["posts_extra"] == 0 and fig["duplicates"] == 0, fig
    assert fig["tables_equal"], fig
    assert fig["left_running"] == 0, fig
    # the next writer opened what the kills left, a reader read it, and a build on it
    # makes the marts of an uninterrupted run; no payload segment is left unreferenced
    assert fig["marts_equal"] and fig["stray_segments"] == [], fig
    # writers were killed inside a commit (with the batch's transaction open)
    assert fig["kills_in_commit"] >= 1, fig
    # the kills hit collection, not only an idle daemon: of those aimed at a run's fetch (the
    # commit kills come after it, in the loader), half or more land inside the run
    assert fig["aimed_kills"] >= 1, fig
    assert fig["aimed_kills_mid_run"] >= max(1, fig["aimed_kills"] // 2), fig
