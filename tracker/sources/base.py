"""The interface every source implements.

A source declares what it is (platform, name, primary key, cursor field) and yields raw pages.
Saving is not its business: the collection pass stores each page with its cursor in one
transaction. Delivery is at-least-once; the warehouse removes duplicates by key.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar, Protocol

from ..pages import RawPage, RunLog


class Source(Protocol):
    @property
    def platform(self) -> str: ...  # fixed per class, or per instance (simulated)

    primary_key: ClassVar[tuple[str, ...]]
    cursor_field: ClassVar[str]
    name: str

    def pages(self, cursor: Any, log: RunLog) -> Iterator[RawPage]:
        """Yield pages newer than `cursor`; each page carries the cursor to resume after it."""
        ...
