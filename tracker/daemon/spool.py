"""The spool: fetched pages wait here, durably, until the warehouse can take them.

Each entry is one file `<seq>-<kind>.jsonl`: a header line (JSON) then, for a batch, one line
per page. It is written to a temporary name, flushed and fsync'd, then renamed and the
directory fsync'd, so an entry is either complete on disk or absent. `seq` increases across
restarts, so loading in file-name order replays what was fetched in the order it was fetched.
An entry is deleted only after the transaction that stored it has committed; loading one
twice is harmless (pages are keyed by content hash, the cursor is set to the same value).

Kinds: `batch` (pages + the cursor after them) and `run` (a run's outcome for the ledger).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..pages import Gap, RawPage, RunLog
from ..store.ledger import LastRun
from ..timeutil import iso, parse_iso

_KINDS = ("batch", "run")
log = logging.getLogger("tracker.daemon")


@dataclass
class Entry:
    path: Path
    seq: int
    kind: str
    header: dict[str, Any]

    def pages(self) -> list[RawPage]:
        out = []
        with self.path.open(encoding="utf-8") as f:
            next(f)
            for line in f:
                d = json.loads(line)
                out.append(RawPage(d["format"], d["platform"], d["payload"],
                                   request=d["request"],
                                   retrieved_at=dt.datetime.fromisoformat(d["retrieved_at"]),
                                   client=d["client"], cursor=self.header.get("cursor"),
                                   synthetic=d["synthetic"]))
        return out


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    raise TypeError(f"cannot store {type(value).__name__} in the spool")


class Spool:
    """A directory of entries. Thread-safe for writers; one loader reads and deletes."""

    def __init__(self, directory: Path):
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        for tmp in self.dir.glob(".*.tmp"):  # never acknowledged: its cursor never advanced
            tmp.unlink(missing_ok=True)
        self._seq = max((e.seq for e in self._scan()), default=0)

    def _scan(self) -> Iterator[_Name]:
        for p in self.dir.glob("*.jsonl"):
            stem = p.stem.split("-", 1)
            if len(stem) == 2 and stem[0].isdigit() and stem[1] in _KINDS:
                yield _Name(int(stem[0]), stem[1], p)

    def write(self, kind: str, header: dict[str, Any], pages: Sequence[RawPage] = ()) -> Path:
        """Write one entry durably; return its path once it is safely on disk."""
        lines = [json.dumps({"kind": kind, **header}, default=_encode)]
        for p in pages:
            lines.append(json.dumps({
                "format": p.format, "platform": p.platform, "payload": p.payload,
                "request": p.request, "retrieved_at": p.retrieved_at.isoformat(),
                "client": p.client, "synthetic": p.synthetic}))
        data = ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")
        with self._lock:
            self._seq += 1
            seq = self._seq
        tmp = self.dir / f".{seq:012d}.tmp"
        final = self.dir / f"{seq:012d}-{kind}.jsonl"
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, final)
        self._fsync_dir()
        return final

    def _fsync_dir(self) -> None:
        fd = os.open(self.dir, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def entries(self) -> list[Entry]:
        """Complete entries in the order they were written."""
        out = []
        for name in sorted(self._scan(), key=lambda n: n.seq):
            try:
                with name.path.open(encoding="utf-8") as f:
                    header = json.loads(f.readline())
                if not isinstance(header, dict):
                    raise ValueError("header is not a JSON object")
            except FileNotFoundError:
                continue
            except ValueError as exc:  # includes JSON and UTF-8 decoding errors
                entry = Entry(name.path, name.seq, name.kind, {})
                log.error("unreadable spool entry set aside (kept on disk)", extra={
                    "event": "load_rejected", "entry": str(self.reject(entry)),
                    "error": str(exc)})
                continue
            out.append(Entry(name.path, name.seq, name.kind, header))
        return out

    def remove(self, entry: Entry) -> None:
        entry.path.unlink(missing_ok=True)

    def reject(self, entry: Entry) -> Path:
        """Move an entry that cannot be loaded to `rejected/`, out of the queue, keeping it."""
        target = self.dir / "rejected" / entry.path.name
        target.parent.mkdir(exist_ok=True)
        os.replace(entry.path, target)
        return target

    def count(self) -> int:
        return sum(1 for n in self._scan() if n.kind == "batch")

    def latest_cursors(self) -> dict[tuple[str, str], Any]:
        """The newest spooled cursor of each (campaign, source)."""
        out: dict[tuple[str, str], Any] = {}
        for e in self.entries():
            if e.kind == "batch":
                out[(e.header["campaign"], e.header["source"])] = e.header.get("cursor")
        return out

    def latest_runs(self) -> dict[tuple[str, str], LastRun]:
        """The outcome of the newest spooled run of each (campaign, source)."""
        return {(e.header["campaign"], e.header["source"]): last_run_of(e.header)
                for e in self.entries() if e.kind == "run"}


def run_header(head: dict[str, Any], ended_at: dt.datetime, status: str,
               message: str | None, runlog: RunLog) -> dict[str, Any]:
    """The header of a `run` entry: a run's end, as `ledger.end_run` needs it."""
    return {**head, "ended_at": ended_at, "status": status, "message": message,
            "requests": runlog.requests, "errors": runlog.errors,
            "rate_limit_waits": runlog.rate_limit_waits, "resume_after": runlog.resume_after,
            "gaps": [[iso(g.start), iso(g.end), g.reason] for g in runlog.gaps],
            "quarantine": [list(q) for q in runlog.quarantine]}


def runlog_of(header: dict[str, Any]) -> RunLog:
    """The run log a `run` entry carries."""
    return RunLog(requests=header["requests"], errors=header["errors"],
                  rate_limit_waits=header["rate_limit_waits"],
                  resume_after=parse_iso(header.get("resume_after")),
                  gaps=[Gap(parse_iso(a), parse_iso(b), r)
                        for a, b, r in header.get("gaps", [])],
                  quarantine=[(o, r, raw) for o, r, raw in header.get("quarantine", [])])


def last_run_of(header: dict[str, Any]) -> LastRun:
    return LastRun(header["status"], parse_iso(header.get("resume_after")),
                   parse_iso(header.get("ended_at")), header.get("message"))


def spooled_ends(directory: Path) -> dict[str, dict[str, Any]]:
    """The `run` entries waiting in a spool, by run id (their headers): runs that ended but
    are not in the ledger yet. Only reads (for `tracker status`, beside a daemon or not)."""
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(directory.glob("*-run.jsonl")):
        try:
            with path.open(encoding="utf-8") as f:
                header = json.loads(f.readline())
        except (OSError, ValueError):   # loaded and removed meanwhile, or unreadable
            continue
        if isinstance(header, dict) and header.get("run_id"):
            out[header["run_id"]] = header
    return out


@dataclass
class _Name:
    seq: int
    kind: str
    path: Path
