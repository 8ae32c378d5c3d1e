"""Helpers for the import tests: configs, running an import, reading cassettes."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path

import yaml

from tracker.config import load_config
from tracker.importers import Importer
from tracker.store.db import connect

from .conftest import FIXTURES, warehouse_toml, write_config

CONFIG = """
{warehouse}
[[campaigns]]
name = "aleppo"
hashtags = ["AleppoIsBurning", "حلب_تحترق"]
[[campaigns]]
name = "red"
hashtags = ["MakeFacebookRed"]
[[campaigns]]
name = "poiu"
hashtags = ["poiuytrewq"]
[[campaigns]]
name = "hoot"
hashtags = ["HOOT"]
{extra}
"""


def make_config(tmp_path: Path, extra: str = "", backend: str = "duckdb"):
    """A config of the import tests' campaigns; its warehouse on `backend`."""
    body = CONFIG.replace("{warehouse}", warehouse_toml(backend)).replace("{extra}", extra)
    return load_config(write_config(tmp_path, body))


def run_import(cfg, paths, **kw):
    con = connect(cfg.warehouse, lake=cfg.lake)
    try:
        return Importer(con, cfg, **kw).run([str(p) for p in paths])
    finally:
        con.close()


def query(cfg, sql: str, params=None) -> list[tuple]:
    con = connect(cfg.warehouse, lake=cfg.lake, read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def build_and_query(cfg, sql: str, params=None) -> list[tuple]:
    """Build the models (as `tracker build`), then run `sql`."""
    from tracker.models import build
    con = connect(cfg.warehouse, lake=cfg.lake)
    try:
        build(con, cfg.campaigns)
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def v11_search_body() -> dict:
    """The v1.1 search response recorded in the tweepy cassette."""
    cassette = json.loads((FIXTURES / "x_v1" / "tweepy_cassette_v11_search_tweets.json")
                          .read_text(encoding="utf-8"))
    body = cassette["interactions"][0]["response"]["body"]["string"]
    return json.loads(body)


def mastodon_timeline() -> list[dict]:
    """The GET /api/v1/timelines/tag/hoot response body of the Mastodon.py cassette."""
    doc = yaml.safe_load((FIXTURES / "mastodon" / "mastodonpy_cassette_hashtag_tl.yaml")
                         .read_text(encoding="utf-8"))
    for it in doc["interactions"]:
        if it["request"]["method"] == "GET" and "/timelines/tag/" in it["request"]["uri"]:
            body = it["response"]["body"]["string"]
            if isinstance(body, bytes):
                body = body.decode()
            return json.loads(body)
    raise AssertionError("no timeline interaction in the cassette")


def cassette_json_body(path: Path) -> dict:
    """The (gzip, base64) JSON body of the first interaction of a tweepy vcrpy cassette."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    body = doc["interactions"][0]["response"]["body"]["string"]
    if isinstance(body, str):
        body = base64.b64decode(body)
    return json.loads(gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body)
