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
                  images: bool = True, pdf: bool = False) -> list[Path]:
    """Campaign reports (all, or the one named), then the index and comparison pages; with
    `pdf`, each campaign page also printed to `<slug>/report.pdf` by a headless Chromium
    (an error before anything is written when there is none on PATH).

    Returns the campaign pages written, then the index and the comparison page, then the PDFs.
    """
    from .campaign import write_report
    from .index import write_comparison, write_index
    from .pdf import find_chromium, print_pdf

    window = window or Window()
    if window.since and window.until and window.since > window.until:
        raise TrackerError(f"--since {window.since} is after --until {window.until}")
    chromium = find_chromium() if pdf else None
    campaigns = [config.campaign(campaign)] if campaign else list(config.campaigns)
    pages = [write_report(con, config, c, out_dir, window, images=images) for c in campaigns]
    out = [*pages, write_index(con, config, out_dir), write_comparison(con, config, out_dir)]
    if chromium:
        out += [print_pdf(p, p.with_name("report.pdf"), chromium) for p in pages]
    return out


__all__ = ["Window", "write_reports"]
