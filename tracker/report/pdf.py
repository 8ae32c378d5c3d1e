"""`tracker report --pdf`: each campaign page printed to PDF by a headless Chromium.

The page's print stylesheet (page.STYLE, `@media print`) hides the interactive parts, fits
the charts to the paper and starts each section on a new page. Chromium is found on PATH
(chromium, chromium-browser or google-chrome); without it, a one-line error says so before
anything is written. The page is opened from file:// with the network switched off (its
Content-Security-Policy forbids requests anyway).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import TrackerError

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
NOT_FOUND = ("--pdf needs Chromium, and none of chromium, chromium-browser or google-chrome "
             "is on PATH: install one (e.g. apt-get install chromium) or leave out --pdf")
TIMEOUT = 120  # seconds per page
FLAGS = ("--headless", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--disable-default-apps", "--mute-audio",
         "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9",
         "--no-pdf-header-footer", "--run-all-compositor-stages-before-draw",
         # virtual time runs the page's scripts (the charts are drawn by JavaScript) to the
         # end before printing
         "--virtual-time-budget=30000", "--window-size=1000,1400")


def find_chromium() -> str:
    """The path of a Chromium on PATH, or a TrackerError saying none is."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise TrackerError(NOT_FOUND)


def print_pdf(page: Path, out: Path, chromium: str | None = None) -> Path:
    """Print the HTML file `page` to the PDF `out` (written whole or not at all)."""
    chromium = chromium or find_chromium()
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    partial.unlink(missing_ok=True)
    flags = list(FLAGS)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        flags.append("--no-sandbox")  # Chromium refuses to run as root with its sandbox
    with tempfile.TemporaryDirectory(prefix="tracker-pdf-") as profile:
        try:
            done = subprocess.run(
                [chromium, *flags, f"--user-data-dir={profile}",
                 f"--print-to-pdf={partial}", page.resolve().as_uri()],
                capture_output=True, text=True, timeout=TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            partial.unlink(missing_ok=True)
            raise TrackerError(f"Chromium did not print {page} within {TIMEOUT} s") from None
    if done.returncode != 0 or not partial.exists() or partial.stat().st_size == 0:
        partial.unlink(missing_ok=True)
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise TrackerError(f"Chromium could not print {page} to PDF (exit code "
                           f"{done.returncode}): {last}")
    partial.replace(out)
    return out
