"""One daemon per warehouse: an exclusive `flock` on `<warehouse>.daemon.lock`.

The lock file holds the PID of the daemon that owns it, so a second daemon can say which
process is in the way. The kernel drops a `flock` when its process dies (even by SIGKILL),
so a lock file left behind by a killed daemon never blocks a restart.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from ..errors import TrackerError


class DaemonRunning(TrackerError):
    """Another daemon holds the warehouse's daemon lock."""


def _read_pid(fd: int) -> int | None:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, 64).decode("ascii", "replace").strip()
        return int(text) if text.isdigit() else None
    except OSError:
        return None


class DaemonLock:
    """Held from `acquire()` until `release()` or the end of the process."""

    def __init__(self, path: Path):
        self.path = path
        self.fd: int | None = None

    def acquire(self, what: str = "warehouse") -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        for attempt in range(5):  # `holder()` (tracker status) may hold it for a moment
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if attempt < 4:
                    time.sleep(0.05)
        else:
            pid = _read_pid(fd)
            os.close(fd)
            holder = f"process {pid}" if pid else "another process"
            raise DaemonRunning(f"{what}: a tracker daemon is already running on it "
                                f"({holder}, lock file {self.path})") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        os.fsync(fd)
        self.fd = fd

    def release(self) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


def holder(path: Path) -> int | None:
    """The PID of the live daemon holding `path`, or None if no daemon holds it."""
    if not path.exists():
        return None
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_pid(fd) or -1
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
