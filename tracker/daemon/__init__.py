"""The daemon behind `tracker run`: scheduled collection that never holds the warehouse open.

Collector threads fetch pages and write them durably to a spool on disk; one loader thread
moves spooled batches into the warehouse in short read-write sessions, so readers (`tracker
sql`, `tracker report`, any DuckDB client opened read-only) can get in between. See
docs/daemon.md for the design.

Modules: `lock` (one daemon per warehouse), `spool` (durable batches), `state` (the JSON file
`tracker status` reads), `policy` (triggers and backoff), `collector` (fetch to spool),
`loader` (spool to warehouse, recovery, model builds), `service` (scheduler, signals, reload),
`status` (the `tracker status` report).
"""

from __future__ import annotations

from pathlib import Path


def lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".daemon.lock")


def state_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".daemon.json")


def collect_job_id(campaign: str, source: str) -> str:
    """The scheduler's id of a source's collection job (also the key in the state file)."""
    return f"collect:{campaign}:{source}"
