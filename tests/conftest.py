from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest

from tracker.config import load_config
from tracker.store.db import connect
from tracker.store.normalise import prepare

ROOT = Path(__file__).resolve().parent.parent


def _find_fixtures() -> Path:
    """The real recorded payloads the suite uses: tests/fixtures/shared/ in the repository
    (copied from the project's shared/fixtures, provenance in its README.md).
    TRACKER_SHARED_FIXTURES points the suite at another copy."""
    env = os.environ.get("TRACKER_SHARED_FIXTURES")
    if env:
        return Path(env)
    return ROOT / "tests" / "fixtures" / "shared"


FIXTURES = _find_fixtures()


def fixture_path(*parts: str) -> Path:
    p = FIXTURES.joinpath(*parts)
    if not p.exists():
        pytest.fail(f"shared fixture missing: {p}")
    return p


def write_config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "tracker.toml"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


SIM_CONFIG = """
[warehouse]
path = "wh/tracker.duckdb"
[reports]
dir = "out"
[[campaigns]]
name = "aleppo"
hashtags = ["AleppoIsBurning", "حلب_تحترق"]
start = 2016-04-22
end = 2016-05-05
[[campaigns.sources]]
type = "simulated"
platform = "x"
posts = {x_posts}
per_run = {per_run}
[[campaigns.sources]]
type = "simulated"
platform = "mastodon"
posts = 200
[[campaigns.sources]]
type = "simulated"
platform = "bluesky"
posts = 200
"""


@pytest.fixture
def sim_config(tmp_path):
    def make(x_posts: int = 500, per_run: int = 10_000_000):
        return load_config(write_config(tmp_path, SIM_CONFIG.format(x_posts=x_posts,
                                                                     per_run=per_run)))
    return make


@pytest.fixture
def warehouse(tmp_path):
    con = connect(tmp_path / "test.duckdb")
    prepare(con, [])
    yield con
    con.close()


def counts(con) -> dict[str, int]:
    tables = ["raw.pages", "norm.posts", "norm.authors", "norm.author_observations",
              "norm.post_hashtags", "norm.post_mentions", "norm.campaign_posts",
              "norm.engagement_observations"]
    return {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in tables}


def jsonl(path: Path) -> list[dict]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out
