"""`tracker payload` and `tracker rebuild`: the raw layer (payloads kept byte for byte).

Registered on the `tracker` group by tracker.cli.
"""

from __future__ import annotations

import sys

import click

from .errors import TrackerError


@click.command("payload")
@click.argument("page_id")
@click.pass_context
def payload_cmd(ctx: click.Context, page_id: str) -> None:
    """Print one raw page's payload exactly as stored (byte for byte, no newline added).

    PAGE_ID is raw.pages.page_id (norm.posts.first_page_id names the page a post was first
    seen in). Example: tracker payload 3f2a9c... > page.json
    """
    from .cli import echo_err, get_config
    from .store import segments
    from .store.db import connect

    cfg = get_config(ctx)
    con = connect(cfg.warehouse, lake=cfg.lake, read_only=True, wait=30, on_wait=echo_err)
    try:
        if segments.index_table(con) != "raw.page_index":
            raise TrackerError("the warehouse predates schema 5: open it once for writing "
                               "(e.g. `tracker status`) to move its payloads into segments")
        text = segments.read(con, page_id)
    finally:
        con.close()
    if text is None:
        raise TrackerError(f"no raw page with page_id {page_id}")
    sys.stdout.buffer.write(text.encode("utf-8", "surrogatepass"))
    sys.stdout.buffer.flush()


@click.command("rebuild")
@click.pass_context
def rebuild_cmd(ctx: click.Context) -> None:
    """Normalise the whole warehouse again from its raw pages.

    Empties norm.* and normalises every stored raw page again, in the order and batches it
    was stored, in one transaction (stopped, it changes nothing). Use it after a change to
    the normalisation SQL (warehouse/normalise/). The next `tracker build` is a full one.
    Example: tracker rebuild
    """
    from .cli import echo_err, get_config
    from .store.db import connect
    from .store.rebuild import rebuild

    cfg = get_config(ctx)
    con = connect(cfg.warehouse, lake=cfg.lake, wait=30, on_wait=echo_err)
    try:
        result = rebuild(con, cfg.campaigns)
    finally:
        con.close()
    click.echo(result.line())
