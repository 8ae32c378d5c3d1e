"""A progress bar for imports: rich, on stderr, only when stderr is a terminal."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from .run import ImportSummary, Progress


@contextmanager
def import_progress() -> Iterator[Progress | None]:
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("importing"), BarColumn(), DownloadColumn(),
                   TextColumn("{task.fields[posts]:,} posts, {task.fields[rate]:,.0f} posts/s, "
                              "{task.fields[bad]} bad"),
                   TimeElapsedColumn(), console=Console(stderr=True), transient=True)
    task = bar.add_task("import", total=None, posts=0, rate=0.0, bad=0)

    def update(s: ImportSummary, total: int | None) -> None:
        bar.update(task, completed=s.bytes_read, total=total, posts=s.posts_new + s.duplicates,
                   rate=s.posts_per_second, bad=s.bad)

    with bar:
        yield update
