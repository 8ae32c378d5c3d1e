"""The daemon's state file `<warehouse>.daemon.json`, read by `tracker status`.

`tracker status` cannot talk to the daemon and the ledger may lag behind (runs wait in the
spool while a reader holds the warehouse), so the daemon writes what only it knows here:
next run times, backoff, the last outcome and error of each job, the spool backlog, and the
runs in progress (`active_runs`: a 'running' run of the ledger that is not among them has no
process behind it). Written atomically (temporary file + rename) after every change, and
when a run starts, before any of its pages can reach the ledger.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..timeutil import iso, utcnow


@dataclass
class JobState:
    campaign: str | None
    source: str | None
    schedule: str
    next_run: str | None = None
    running: bool = False
    last_started: str | None = None
    last_finished: str | None = None
    last_status: str | None = None
    last_error: str | None = None
    last_error_at: str | None = None
    last_ok: str | None = None
    failures: int = 0                  # consecutive failed runs
    blocked_until: str | None = None   # backoff or the source's resume_after
    blocked_reason: str | None = None  # 'backoff' or the source's status (rate_limited, ...)


class StateFile:
    def __init__(self, path: Path, pid: int):
        self.path = path
        self.pid = pid
        self.started = iso(utcnow())
        self.jobs: dict[str, JobState] = {}
        self.spool_batches = 0
        self.warehouse_busy_since: str | None = None
        self.active_runs: Callable[[], Iterable[str]] = lambda: ()
        self._lock = threading.Lock()

    def save(self) -> None:
        with self._lock:
            data = {"pid": self.pid, "started_at": self.started, "updated_at": iso(utcnow()),
                    "spool_batches": self.spool_batches,
                    "warehouse_busy_since": self.warehouse_busy_since,
                    "active_runs": sorted(self.active_runs()),
                    "jobs": {k: asdict(v) for k, v in sorted(self.jobs.items())}}
            tmp = self.path.with_name(self.path.name + ".tmp")
            tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
            os.replace(tmp, self.path)


def read_state(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None
