"""Reports: Altair charts over the marts, rendered into self-contained HTML pages.

`write_reports` is the entry point the CLI and the demo use.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from ..config import Config
from ..errors import TrackerError
from .data import Window


def write_reports(con: duckdb.DuckDBPyConnection, config: Config, out_dir: Path,
                  campaign: str | None = None, window: Window | None = None, *,
                  images: bool = True) -> list[Path]:
    """Campaign reports (all, or the one named), then the index and comparison pages.

    Returns the campaign pages written, then the index and the comparison page.
    """
    from .campaign import write_report
    from .index import write_comparison, write_index

    window = window or Window()
    if window.since and window.until and window.since > window.until:
        raise TrackerError(f"--since {window.since} is after --until {window.until}")
    campaigns = [config.campaign(campaign)] if campaign else list(config.campaigns)
    out = [write_report(con, config, c, out_dir, window, images=images) for c in campaigns]
    out.append(write_index(con, config, out_dir))
    out.append(write_comparison(con, config, out_dir))
    return out


__all__ = ["Window", "write_reports"]
