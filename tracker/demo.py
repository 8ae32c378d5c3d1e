"""`tracker demo`: the whole pipeline on synthetic data, offline, with no credentials.

It runs the path a real deployment runs (config -> collectors -> warehouse -> models ->
report) against its own warehouse, so synthetic posts never mix with real ones.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Callable
from pathlib import Path

from .config import Config, parse_config
from .models import build
from .pipeline import RunSummary, collect
from .report import write_reports
from .resources import template
from .store.db import connect


def demo_config(base: Path, scale: float = 1.0) -> Config:
    """The demo's config with its warehouse, spool and reports under `base` (the current
    folder): `base`/warehouse/demo.duckdb and `base`/reports/demo."""
    data = tomllib.loads(template("demo.toml"))
    if scale != 1.0:
        for c in data["campaigns"]:
            for s in c["sources"]:
                s["posts"] = max(10, int(s["posts"] * scale))
    # as if the file were at <base>/tracker/demo.toml: its paths are relative to that folder
    cfg = parse_config(data, base / "tracker" / "demo.toml")
    return dataclasses.replace(cfg, synthetic=True)


def run_demo(base: Path, *, scale: float = 1.0, fresh: bool = True,
             on_run: Callable[[RunSummary], None] | None = None) -> tuple[Config, list[Path]]:
    cfg = demo_config(base, scale)
    if fresh:
        for p in (cfg.warehouse, cfg.warehouse.with_name(cfg.warehouse.name + ".wal")):
            p.unlink(missing_ok=True)
    con = connect(cfg.warehouse, lake=cfg.lake)
    try:
        collect(con, cfg, batch_pages=20, on_run=on_run)
        build(con, cfg.campaigns)
        reports = write_reports(con, cfg, cfg.reports)
    finally:
        con.close()
    return cfg, reports
