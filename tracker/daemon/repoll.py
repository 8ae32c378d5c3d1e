"""The daemon's re-poll job (`[repoll] schedule`): one `tracker repoll` pass
(tracker.lookup.repoll). The warehouse is opened (under the loader's `write_lock`) only to
plan a pass and to store its readings, never while the lookups wait on the network. If a
reader holds it for longer than STORE_WAIT, the pass's readings are dropped and read again next
pass (their slots are not recorded); its run stays `running` until the daemon's next start
marks it `killed`."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import duckdb

from ..config import Config
from .loader import Loader

log = logging.getLogger("tracker.daemon")
REAL = ("x", "bluesky", "mastodon")
STORE_WAIT = 30.0   # seconds to wait for a reader to let go of the warehouse


def wanted(cfg: Config) -> bool:
    """Whether the daemon re-polls: ages configured and a real (not simulated) source."""
    return bool(cfg.repoll.ages) and any(s.type in REAL for c in cfg.campaigns
                                         for s in c.sources)


def repoll_job(loader: Loader) -> str:
    """One re-poll pass; 'ok', or 'failed' when a platform's re-poll failed (ledger.runs)."""
    from ..lookup.repoll import repoll

    if loader.stop.is_set():
        return "skipped"

    @contextlib.contextmanager
    def opener() -> Iterator[duckdb.DuckDBPyConnection | None]:
        with loader.write_lock:
            con = loader.open(wait=STORE_WAIT)
            try:
                yield con
            finally:
                if con is not None:
                    con.close()

    runs = repoll(opener, loader.get_config())
    for run in runs:
        if run.run_id is not None:
            log.log(logging.WARNING if run.status == "failed" else logging.INFO,
                    "re-poll finished", extra={"event": "repoll_finished",
                                               "run_id": run.run_id, "campaign": run.campaign,
                                               "source": f"repoll-{run.platform}",
                                               "status": run.status, "detail": run.message})
    return "failed" if any(r.status == "failed" for r in runs) else "ok"
