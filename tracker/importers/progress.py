"""A progress bar for imports: rich, on stderr, only when stderr is a terminal.

It follows the bytes of the whole input (as stored, compressed) whose records are stored
(committed), not merely read, so it reaches the end when the work does; it shows the rate
(MB/s), the summary's counts (new posts, duplicate posts, bad records), and the time left
estimated from the rate so far.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from .run import ImportSummary, Progress


def progress_text(s: ImportSummary) -> str:
    """The counts shown beside the bar, named as in the summary line."""
    return (f"{s.posts_new:,} new posts, {s.duplicates:,} duplicate posts, "
            f"{s.bad:,} bad records")


@contextmanager
def import_progress() -> Iterator[Progress | None]:
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    bar = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                   TransferSpeedColumn(), TextColumn("{task.fields[counts]}"), TimeElapsedColumn(),
                   TextColumn("left:"), TimeRemainingColumn(),
                   console=Console(stderr=True), transient=True)
    task = bar.add_task("importing", total=None, counts="")

    def update(s: ImportSummary, total: int | None) -> None:
        bar.update(task, description=s.phase, completed=s.bytes_stored, total=total,
                   counts=progress_text(s))

    with bar:
        yield update
