"""What an import did: the counts `tracker import` prints and the ledger keeps."""

from __future__ import annotations

from dataclasses import dataclass, field

from .reading import Counts


@dataclass
class ImportSummary:
    run_id: str
    files: int = 0
    records: int = 0          # records read, readable or not
    pages_new: int = 0        # records stored now
    pages_seen: int = 0       # records already in the warehouse (same content)
    posts_new: int = 0
    duplicates: int = 0       # copies of posts already stored (or repeated in the archive)
    bad: int = 0              # records quarantined
    api_errors: int = 0       # error objects inside twarc2 output
    quarantined_before: int = 0   # bad records and errors an earlier import quarantined
    forgotten: int = 0        # posts skipped: removed on request (`tracker forget`)
    bytes_read: int = 0       # input bytes read (compressed, as on disk)
    bytes_stored: int = 0     # input bytes whose records are committed (the progress bar's)
    phase: str = "importing"  # then "writing to disk" (the final checkpoint)
    seconds: float = 0.0
    status: str = "ok"
    notes: list[str] = field(default_factory=list)
    scan: Counts = field(default_factory=Counts)   # the campaign filter's line counts

    @property
    def posts_per_second(self) -> float:
        return (self.posts_new + self.duplicates) / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        text = (f"{self.records} records read from {self.files} file(s): {self.posts_new} new "
                f"posts, {self.duplicates} duplicate posts, {self.pages_seen} records already "
                f"imported, {self.bad} bad records, {self.api_errors} API error objects "
                f"({self.seconds:.1f}s, {self.posts_per_second:,.0f} posts/s)")
        if self.quarantined_before:
            text += (f"; {self.quarantined_before} of them already in the quarantine from an "
                     "earlier import (stored once)")
        if self.bad + self.api_errors > self.quarantined_before:
            text += f". See: tracker quarantine --run {self.run_id}"
        elif self.bad or self.api_errors:
            text += ". See: tracker quarantine"
        return text + self.scan.line()
