"""`tracker migrate` and `tracker shell`: moving a warehouse into a DuckLake, and opening
the warehouse in DuckDB's own shell (docs/lake.md).

Registered on the `tracker` group by tracker.cli.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import click

from .errors import TrackerError


@click.command("migrate")
@click.option("--to", "target", type=click.Choice(["ducklake"]), required=True,
              help="The backend to copy the warehouse into.")
@click.option("--catalog", default="sqlite:warehouse/lake.sqlite", show_default=True,
              help="The new lake's catalog: 'sqlite:PATH' (relative to the config's folder) "
                   "or 'postgres:CONNECTION STRING' (no password: PGPASSWORD or ~/.pgpass).")
@click.option("--data-path", default="warehouse/lake", show_default=True,
              help="The new lake's folder of Parquet files (relative to the config's folder).")
@click.pass_context
def migrate_cmd(ctx: click.Context, target: str, catalog: str, data_path: str) -> None:
    """Copy the DuckDB-file warehouse into a new DuckLake, then build its models.

    Copies raw pages (payload files included), norm.* and ledger.* in one transaction and
    builds the models in full on the lake; the file is left as it was. Then set the printed
    [warehouse] lines in tracker.toml. Example: tracker migrate --to ducklake
    """
    from .cli import echo_err, get_config, warehouse_target
    from .config import LAKE_WRITER_FILE, parse_config
    from .models import build
    from .store.db import connect
    from .store.to_lake import copy_to_lake

    cfg = get_config(ctx)
    source, lake = warehouse_target(ctx)
    if lake is not None:
        raise TrackerError(f"{cfg.path.name}: the warehouse is already a lake ({lake.describe()})")
    lines = {"backend": "ducklake", "catalog": catalog, "data_path": data_path}
    toml = "[warehouse]\n" + "".join(f'{k} = "{v}"\n' for k, v in lines.items())
    # the same validation and relative paths as the config file will have
    new = parse_config({"warehouse": lines}, cfg.path).lake
    assert new is not None
    writer = cfg.path.resolve().parent / LAKE_WRITER_FILE
    copied = copy_to_lake(source, writer, new,
                          on_table=lambda table, n: echo_err(f"{table:32} {n:>12,} rows"))
    click.echo(f"Copied {copied.rows:,} rows in {copied.tables} tables and {copied.segments} "
               f"payload files into the {new.describe()}.")
    con = connect(writer, lake=new, wait=30, on_wait=echo_err)
    try:
        steps = list(build(con, cfg.campaigns, full=True))
    finally:
        con.close()
    click.echo(f"Built {len(steps)} models on the lake. To use it, set in {cfg.path.name}:\n")
    click.echo(toml.rstrip("\n"))


@click.command("shell")
@click.option("--print-sql", is_flag=True,
              help="Print the statements that open the warehouse read-only in any DuckDB "
                   "1.5.5 session (Python, the DuckDB shell) instead of starting the shell.")
@click.pass_context
def shell_cmd(ctx: click.Context, print_sql: bool) -> None:
    """Open the warehouse read-only in the DuckDB shell (with a lake: attached as `lake`).

    A reader: it never keeps the daemon from loading a lake. Queries typed at the shell
    are DuckDB's own: `tracker sql` is the guarded way. Example: tracker shell
    """
    from .cli import warehouse_target
    from .store import lake as lakes

    path, lake = warehouse_target(ctx)
    if lake is None:
        if not path.exists():
            raise TrackerError(f"{path}: warehouse not found")
        statements: list[str] = []
        args = ["-readonly", str(path)]
    else:
        if not lake.exists():
            raise TrackerError(f"{lake.describe()}: warehouse not found")
        statements = lakes.attach_statements(lake, read_only=True)
        args = []
    if print_sql:
        if lake is None:
            statements = [f"attach '{path}' as warehouse (read_only)", "use warehouse"]
        click.echo("".join(f"{s};\n" for s in statements), nl=False)
        return
    exe = _duckdb_shell()
    init = "".join(f"{s};" for s in statements)
    code = subprocess.call([exe, *(["-cmd", init] if init else []), *args])
    sys.exit(code)


def _duckdb_shell() -> str:
    """The `duckdb` executable of the duckdb-cli package beside this Python, else on PATH."""
    beside = Path(sys.executable).parent / "duckdb"
    if beside.exists():
        return str(beside)
    found = shutil.which("duckdb")
    if found is None:
        raise TrackerError("the DuckDB shell is not installed: `pip install duckdb-cli==1.5.5` "
                           "(or `pip install 'hashtag-tracker[lake]'`)")
    return found


@click.command("maintain")
@click.option("--keep", default="30d", show_default=True, metavar="DURATION",
              help="Keep snapshots this long (e.g. '30d', '12h'): older ones expire, and "
                   "`tracker report --as-of` can no longer reach them.")
@click.pass_context
def maintain_cmd(ctx: click.Context, keep: str) -> None:
    """A lake only: merge small files, expire old snapshots, delete the files they alone used.

    Each commit writes files of its own; the daemon runs this on `[daemon] maintain` (daily
    by default). Example: tracker maintain --keep 30d
    """
    from .cli import echo_err, get_config
    from .config import parse_duration
    from .store.db import connect
    from .store.lake import maintain

    cfg = get_config(ctx)
    if cfg.lake is None:
        raise TrackerError("tracker maintain is for a lake ([warehouse] backend = "
                           "\"ducklake\", docs/lake.md); a DuckDB file needs none")
    seconds = parse_duration(keep)
    if seconds is None or seconds < 3600:
        raise TrackerError(f"--keep: expected a duration of at least an hour, such as '30d', "
                           f"got '{keep}'")
    con = connect(cfg.warehouse, lake=cfg.lake, wait=30, on_wait=echo_err)
    try:
        done = maintain(con, seconds)
    finally:
        con.close()
    click.echo(f"Compacted {done.tables_compacted} tables, expired {done.snapshots_expired} "
               f"snapshots, deleted {done.files_deleted} files.")
