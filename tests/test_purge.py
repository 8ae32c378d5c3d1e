"""Synthetic data is labelled wherever a synthetic post contributes, and `tracker purge
--synthetic` removes it (raw, norm, then the models at the next build), recorded in the
ledger."""

from __future__ import annotations

import json

import duckdb
from click.testing import CliRunner

from tests.conftest import FIXTURES, write_config
from tracker.cli import cli
from tracker.config import load_config
from tracker.report.page import SYNTHETIC_BANNER

CONFIG = """
[warehouse]
path = "wh/tracker.duckdb"
[reports]
dir = "out"
[[campaigns]]
name = "aleppo"
hashtags = ["AleppoIsBurning"]
[[campaigns.sources]]
type = "simulated"
platform = "x"
posts = 150
"""
REAL = FIXTURES / "x_v2" / "twarc2_two_tweets.jsonl"


def invoke(*args):
    return CliRunner().invoke(cli, list(args))


def pages(cfg) -> list:
    return [cfg.reports / "aleppo" / "index.html", cfg.reports / "index.html",
            cfg.reports / "compare.html"]


def one(cfg, sql: str):
    con = duckdb.connect(str(cfg.warehouse), read_only=True)
    try:
        return con.execute(sql).fetchone()
    finally:
        con.close()


def real_post_ids() -> set[str]:
    """Posts the recorded twarc2 file delivers as results or context, read from its JSON."""
    ids = set()
    for line in REAL.read_text(encoding="utf-8").splitlines():
        page = json.loads(line)
        ids |= {t["id"] for t in page.get("data", [])}
        ids |= {t["id"] for t in page.get("includes", {}).get("tweets", [])}
    return ids


def test_banner_stays_when_the_window_has_no_synthetic_post(tmp_path):
    """--since after the data: the window's figures have no post, but the whole-campaign
    sections (contributors, hashtags, languages, heatmap) still show synthetic posts."""
    path = write_config(tmp_path, CONFIG)
    cfg = load_config(path)
    assert invoke("--config", str(path), "collect").exit_code == 0
    result = invoke("--config", str(path), "report", "--no-images", "--since", "2030-01-01")
    assert result.exit_code == 0, result.output
    summary = json.loads((cfg.reports / "aleppo" / "summary.json").read_text(encoding="utf-8"))
    assert summary["figures"]["posts"] == 0
    assert summary["synthetic"] is True
    for page in pages(cfg):
        assert SYNTHETIC_BANNER in page.read_text(encoding="utf-8"), page


def test_purge_removes_synthetic_posts_and_keeps_real_ones(tmp_path):
    path = write_config(tmp_path, CONFIG)
    cfg = load_config(path)
    conf = ["--config", str(path)]
    assert invoke(*conf, "collect").exit_code == 0
    result = invoke(*conf, "import", str(REAL), "--campaign", "aleppo")
    assert result.exit_code == 0, result.output
    assert invoke(*conf, "report", "--no-images").exit_code == 0
    assert SYNTHETIC_BANNER in pages(cfg)[0].read_text(encoding="utf-8")
    synthetic_pages, synthetic_posts = one(
        cfg, "select (select count(*) from raw.pages where synthetic), "
             "(select count(*) from norm.posts where synthetic)")
    assert synthetic_pages > 0 and synthetic_posts >= 150
    real = real_post_ids()

    result = invoke(*conf, "purge", "--synthetic")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Removed synthetic data: {synthetic_pages:,} from raw.pages")
    assert f"{synthetic_posts:,} from norm.posts" in result.output

    # the ledger has the purge with its counts
    kind, status, removed_pages, removed_posts, message = one(
        cfg, "select kind, status, pages, records, message from ledger.runs "
             "where kind = 'purge'")
    assert (kind, status, removed_pages, removed_posts) == ("purge", "ok", synthetic_pages,
                                                            synthetic_posts)
    assert message == result.output.strip()
    # raw and norm: no synthetic row left, every real post kept
    assert one(cfg, "select count(*) from raw.pages where synthetic")[0] == 0
    assert one(cfg, "select count(*) from norm.posts where synthetic")[0] == 0
    con = duckdb.connect(str(cfg.warehouse), read_only=True)
    kept = {r[0] for r in con.execute("select post_id from norm.posts").fetchall()}
    orphans = con.execute("""
        select (select count(*) from norm.campaign_posts c anti join norm.posts p
                on p.platform = c.platform and p.post_id = c.post_id),
               (select count(*) from norm.post_hashtags h anti join norm.posts p
                on p.platform = h.platform and p.post_id = h.post_id),
               (select count(*) from norm.authors a anti join norm.posts p
                on p.platform = a.platform and p.author_id = a.author_id)""").fetchone()
    con.close()
    assert kept == real
    assert orphans == (0, 0, 0)

    # the next report builds (a full build) and shows no synthetic post: the banner is gone
    result = invoke(*conf, "report", "--no-images")
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("Building the models first")
    assert one(cfg, "select count(*) from core.posts where synthetic")[0] == 0
    assert one(cfg, "select count(*) from core.campaign_posts where synthetic")[0] == 0
    summary = json.loads((cfg.reports / "aleppo" / "summary.json").read_text(encoding="utf-8"))
    assert summary["synthetic"] is False
    assert summary["figures"]["posts"] == one(
        cfg, "select count(*) from norm.campaign_posts where campaign = 'aleppo'")[0] > 0
    for page in pages(cfg):
        assert SYNTHETIC_BANNER not in page.read_text(encoding="utf-8"), page

    # nothing left: a second purge says so and changes nothing
    again = invoke(*conf, "purge", "--synthetic")
    assert again.output == "No synthetic data in the warehouse: nothing removed.\n"


def test_purge_needs_to_be_told_what(tmp_path):
    path = write_config(tmp_path, CONFIG)
    result = invoke("--config", str(path), "purge")
    assert result.exit_code == 1
    assert result.output == "Error: say what to purge: tracker purge --synthetic\n"
