"""Logs on stderr (stdout carries only data): readable and coloured on a terminal (rich), one
JSON line per event otherwise or with `--log-format json`. A log file, if configured, always
gets JSON lines.

Secrets registered in `tracker.credentials` are redacted from every line.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

from . import credentials

_STANDARD = set(vars(logging.makeLogRecord({})))
FORMATS = ("auto", "text", "json")


def _extras(record: logging.LogRecord) -> dict[str, object]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, object] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"), "level": record.levelname,
            "logger": record.name, "msg": record.getMessage()}
        for k, v in _extras(record).items():
            if k not in out:
                out[k] = v
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return credentials.redact(json.dumps(out, ensure_ascii=False, default=str))


class TextFormatter(logging.Formatter):
    """The message, then the event's fields as key=value (the time and level are the
    handler's columns)."""

    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(f"{k}={v}" for k, v in _extras(record).items() if k != "event")
        text = record.getMessage() + (f"  {fields}" if fields else "")
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return credentials.redact(text)


class _Stderr(logging.StreamHandler):
    """A handler writing to whatever sys.stderr is when the event happens."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def _stderr_handler(fmt: str) -> logging.Handler:
    if fmt == "auto":
        fmt = "text" if sys.stderr.isatty() else "json"
    if fmt == "json":
        handler: logging.Handler = _Stderr()
        handler.setFormatter(JsonFormatter())
        return handler
    from rich.console import Console
    from rich.logging import RichHandler

    handler = RichHandler(console=Console(stderr=True), show_path=False, markup=False,
                          rich_tracebacks=False, log_time_format="%H:%M:%S")
    handler.setFormatter(TextFormatter())
    return handler


def setup(level: str = "INFO", file: Path | None = None, fmt: str = "auto") -> None:
    """Configure the `tracker` loggers: stderr in `fmt` (auto, text or json), plus `file`."""
    if fmt not in FORMATS:
        raise ValueError(f"log format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    root = logging.getLogger("tracker")
    root.setLevel(level)
    for h in list(root.handlers):
        root.removeHandler(h)
        if isinstance(h, logging.FileHandler):
            h.close()
    root.addHandler(_stderr_handler(fmt))
    if file:
        file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(file, encoding="utf-8")
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    root.propagate = False
