"""`tracker sql` and `tracker models`: reading the warehouse and what its tables mean.

Registered on the `tracker` group by tracker.cli.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .errors import TrackerError


@click.command()
@click.argument("query", required=False)
@click.option("-f", "--file", "sql_file", type=click.Path(dir_okay=False, exists=True),
              help="Read the query from this .sql file.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json", "jsonl",
                                                     "parquet"]),
              default="table", show_default=True, help="Output format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Write to this file instead of the screen (required for parquet).")
@click.option("--limit", type=click.IntRange(0), default=None,
              help="Show at most this many rows (0: all). Default: 50 on a terminal, all when "
                   "the output goes to a file or a pipe.")
@click.option("--db", type=click.Path(dir_okay=False), help="Warehouse file (default: from "
                                                            "the config; same as tracker --db).")
@click.pass_context
def sql(ctx: click.Context, query: str | None, sql_file: str | None, fmt: str,
        output: str | None, limit: int | None, db: str | None) -> None:
    """Run one read-only SQL query on the warehouse and print or save the result.

    Only SELECT (and EXPLAIN) is accepted; writes, COPY, ATTACH, INSTALL, LOAD, SET and
    reading other files are refused. On a terminal the table shows the first 50 rows
    (--limit), numbers right-aligned and rounded; files and pipes get every row, unrounded.
    See docs/querying.md.

    \b
    Examples:
      tracker sql "select * from marts.campaign_summary"
      tracker sql -f queries/examples/daily_volume.sql --format csv -o volume.csv
      tracker sql "from marts.top_posts" --format parquet -o top_posts.parquet
    """
    from .cli import echo_err, warehouse_target
    from .sqlquery import FORMATTERS, run_query_limited, write_parquet
    from .tables import format_table

    if query and sql_file:
        raise TrackerError("give either a query or -f FILE, not both")
    if sql_file:
        try:
            query = Path(sql_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise TrackerError(f"{sql_file}: cannot read: {exc}") from None
    if not query or not query.strip():
        raise TrackerError("no query given (pass it as an argument or with -f FILE)")
    if fmt == "parquet" and not output:
        raise TrackerError("--format parquet needs --output FILE")
    path, lake = warehouse_target(ctx, db)
    if fmt == "parquet" and output:
        n = write_parquet(path, query, Path(output), lake=lake, on_wait=echo_err)
        click.echo(f"Wrote {n} rows to {output}")
        return
    terminal = not output and stdout_is_terminal()
    if limit is None:
        limit = 50 if terminal else 0
    columns, rows, total = run_query_limited(path, query, limit or None, lake=lake,
                                              on_wait=echo_err)
    if fmt == "table":
        text = format_table(columns, rows, total=total, rounded=terminal)
    else:
        text = FORMATTERS[fmt](columns, rows)
        if total > len(rows):
            echo_err(f"{total - len(rows)} more rows not shown ({total} in all; --limit)")
    if output:
        Path(output).write_text(text + "\n", encoding="utf-8")
        click.echo(f"Wrote {len(rows)} rows to {output}")
    else:
        click.echo(text)


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


@click.command()
@click.argument("name", required=False)
@click.option("--db", type=click.Path(dir_okay=False), help="Warehouse file, for column "
                                                            "types (default: from the config; "
                                                            "same as tracker --db).")
@click.pass_context
def models(ctx: click.Context, name: str | None, db: str | None) -> None:
    """List the SQL models (queries/), one line each; with NAME, a model's columns.

    NAME is a table name (marts.reach_daily) or part of one; when several match, they are
    listed. Column types are shown when the warehouse has been built.
    Example: tracker models marts.reach_daily
    """
    from .cli import echo_err, warehouse_target
    from .models import describe
    from .store.db import connect

    try:
        path, lake = warehouse_target(ctx, db)
    except TrackerError:
        path, lake = None, None
    con = None
    if path is not None and (lake.exists() if lake else path.exists()):
        con = connect(path, lake=lake, read_only=True, wait=30, on_wait=echo_err)
    try:
        entries = describe(con)
    finally:
        if con is not None:
            con.close()
    if name:
        exact = [e for e in entries if e[0] == name]
        shown = exact or [e for e in entries if name in e[0]]
        if not shown:
            raise TrackerError(f"no model matches '{name}' (see `tracker models`)")
        if len(shown) == 1:
            table, desc, cols = shown[0]
            click.echo(table)
            click.echo(f"  {desc}")
            width = max([len(c) for c, _, _ in cols] + [1])
            twidth = max([len(t) for _, t, _ in cols] + [0])
            for column, dtype, meaning in cols:
                click.echo(f"    {column:{width}}  {dtype:{twidth}}  {meaning}".rstrip())
            return
        entries = shown
    width = max(len(e[0]) for e in entries)
    for table, desc, _ in entries:
        click.echo(f"{table:{width}}  {first_sentence(desc)}".rstrip())
    if not name:
        echo_err(f"({len(entries)} models; `tracker models NAME` shows one with its columns)")


def first_sentence(text: str, limit: int = 90) -> str:
    """The first sentence of a description, cut to `limit` characters."""
    end = text.find(". ")
    short = text if end < 0 else text[:end + 1]
    return short if len(short) <= limit else short[:limit - 3].rstrip() + "..."


