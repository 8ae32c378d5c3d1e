"""Structured logs: one JSON line per event on stderr (and a file if configured).

Secrets registered in `tracker.credentials` are redacted from every line.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

from . import credentials

_STANDARD = set(vars(logging.makeLogRecord({})))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {"ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"), "level": record.levelname,
               "logger": record.name, "msg": record.getMessage()}
        for k, v in vars(record).items():
            if k not in _STANDARD and k not in out:
                out[k] = v
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return credentials.redact(json.dumps(out, ensure_ascii=False, default=str))


def setup(level: str = "INFO", file: Path | None = None) -> None:
    root = logging.getLogger("tracker")
    root.setLevel(level)
    for h in list(root.handlers):
        root.removeHandler(h)
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if file:
        file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(file, encoding="utf-8"))
    for h in handlers:
        h.setFormatter(JsonFormatter())
        root.addHandler(h)
    root.propagate = False
