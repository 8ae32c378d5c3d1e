"""Read tweet-id lists as researchers publish them: one id per line, or a column of a CSV.

A plain file holds one id per line (a status URL such as https://x.com/u/status/ID is read
as its id); blank lines and a first line `id` or `tweet_id` are skipped. A CSV (a `.csv`
name, or any file with `column` given) is read by its header: the column `column`, else the
first named `id` or `tweet_id` (case-insensitive). A line that holds no tweet id is counted
and kept as (file, line, reason, text) for the ledger's quarantine; reading goes on.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import TrackerError

ID = re.compile(r"[0-9]{1,20}")
STATUS_URL = re.compile(r"https?://(?:www\.|mobile\.)?(?:twitter|x)\.com/[^/\s]+/status(?:es)?/"
                        r"([0-9]{1,20})(?:[/?#]\S*)?")
HEADERS = ("id", "tweet_id")


@dataclass
class IdList:
    ids: list[str] = field(default_factory=list)        # in order, each once
    lines: int = 0                                       # id lines read (valid or not)
    duplicates: int = 0                                  # ids given more than once
    malformed: list[tuple[str, int, str, str]] = field(default_factory=list)

    def add(self, value: str, origin: str, line: int, seen: set[str]) -> None:
        self.lines += 1
        text = value.strip()
        m = STATUS_URL.fullmatch(text)
        tid = m.group(1) if m else text
        if not ID.fullmatch(tid) or int(tid) == 0:
            self.malformed.append((origin, line, "not a tweet id (digits, or a status URL)",
                                   value))
            return
        tid = str(int(tid))     # no leading zeros: the API's spelling
        if tid in seen:
            self.duplicates += 1
            return
        seen.add(tid)
        self.ids.append(tid)


def read_ids(paths: list[Path], column: str | None = None) -> IdList:
    """The ids of every file, in order, each once."""
    out = IdList()
    seen: set[str] = set()
    for path in paths:
        if not path.is_file():
            raise TrackerError(f"{path}: no such file")
        rows = _csv_rows(path, column) if column or path.suffix.lower() == ".csv" \
            else _plain_rows(path)
        for line, value in rows:
            out.add(value, str(path), line, seen)
    return out


def _open(path: Path):
    return path.open(encoding="utf-8-sig", newline="", errors="strict")


def _plain_rows(path: Path) -> Iterator[tuple[int, str]]:
    try:
        with _open(path) as f:
            for n, raw in enumerate(f, 1):
                text = raw.strip()
                if not text or (n == 1 and text.lower() in HEADERS):
                    continue
                yield n, text
    except UnicodeDecodeError as exc:
        raise TrackerError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") \
            from None


def _csv_rows(path: Path, column: str | None) -> Iterator[tuple[int, str]]:
    try:
        with _open(path) as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if header is None:
                return
            names = [h.strip().lower() for h in header]
            wanted = [column.strip().lower()] if column else list(HEADERS)
            index = next((names.index(w) for w in wanted if w in names), None)
            if index is None:
                what = f"no column '{column}'" if column else "no column 'id' or 'tweet_id'"
                raise TrackerError(f"{path}: {what} in the header line "
                                   f"({', '.join(header[:8]) or 'empty'}); give --column NAME")
            for row in reader:
                if not any(cell.strip() for cell in row):
                    continue
                value = row[index] if index < len(row) else ""
                yield reader.line_num, value
    except UnicodeDecodeError as exc:
        raise TrackerError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") \
            from None
    except csv.Error as exc:
        raise TrackerError(f"{path}: not a readable CSV ({exc})") from None
