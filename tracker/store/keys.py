"""Numeric keys of authors and handles, so a few authors are found without a text scan.

`norm.authors` holds `author_key`, the key of (platform, author_id), and `handle_key`, the key
of (platform, handle); both are `author_key(platform, text)`, with the text compared
lowercased. A mart that needs the handles of its 25-75 leading accounts (or the accounts
behind mentioned handles) finds them by these 32-bit numbers first, then checks the text on
the few rows found: at 4.1M authors, comparing numbers takes a third of the time of comparing
every author's text id (docs/models.md, "Finding the leaders' handles"). A key is a pre-filter
only: two texts may share one, so the text is always compared after.

The key is 32 bits of the MD5 digest of `platform`, U+001F and the lowercased text: DuckDB's
`md5_number` reads the digest as a little-endian number, so its top 32 bits are the digest's
last four bytes read little-endian (tests/test_author_keys.py computes it with hashlib).
MD5 is the same in every DuckDB version; DuckDB's own `hash` may change between releases, and
a stored key must match one computed later. The lowercasing is DuckDB's `lower` when the row
is written: should a DuckDB upgrade change the case mapping of some letter, the keys of
handles holding it would go stale, and `UPDATE norm.authors SET author_key =
author_key(platform, author_id), handle_key = author_key(platform, handle)` (what schema 10
ran) writes them again. (Python's `str.lower` differs from DuckDB's for a few letters, such
as 'İ': the test's fixtures have none.)
"""

from __future__ import annotations

import duckdb

MACROS = """
create or replace temp macro author_key(platform, text) as
    (md5_number(platform || chr(31) || lower(text)) >> 96)::uinteger;
"""


def define(con: duckdb.DuckDBPyConnection) -> None:
    """Make `author_key(platform, text)` callable on this connection."""
    con.execute(MACROS)


def fill(con: duckdb.DuckDBPyConnection) -> None:
    """Schema 10: the keys of the authors stored before it."""
    define(con)
    con.execute("update norm.authors set author_key = author_key(platform, author_id), "
                "handle_key = author_key(platform, handle)")
