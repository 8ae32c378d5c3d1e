"""CSV archives: a preset for Facebook post exports and a generic column mapping.

Each row is stored as one raw record `{"columns": {...as in the file...}, "fields": {...}}`:
the columns exactly as exported, and the fields the warehouse needs (post id, time, author,
text, counts, hashtags found in the text), so one normalisation (`csv_row.sql`) serves every
mapping.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import sys
from collections.abc import Iterable, Iterator

from ..errors import ImportFormatError
from ..hashtags import tags_in_text
from .formats import Bad, Record

# field -> columns that may hold it, in order of preference. CrowdTangle's "Facebook Id" is
# the page's id; a post is identified by its URL there.
FACEBOOK_PRESET: dict[str, tuple[str, ...]] = {
    "post_id": ("Post Id", "post_id", "id", "URL"),
    "url": ("URL", "post_url", "url", "Link"),
    "created_at": ("Post Created", "creation_time", "created_time", "Created"),
    "author_id": ("Facebook Id", "post_owner.id", "page_id", "User Name", "Page Name"),
    "handle": ("User Name", "post_owner.username", "page_username"),
    "author_name": ("Page Name", "post_owner.name", "page_name", "Account"),
    "followers": ("Followers at Posting", "post_owner.followers_count", "followers_count",
                  "Likes at Posting"),
    "reactions": ("statistics.reaction_count", "reaction_count", "Reactions"),
    "comments": ("Comments", "statistics.comment_count", "comment_count"),
    "shares": ("Shares", "statistics.share_count", "share_count"),
    "views": ("Post Views", "statistics.views", "views", "Total Views"),
    "text": ("Message", "text", "message"),
    "link": ("Link", "link_attachment.link", "link"),
    "lang": ("Language", "lang"),
}
# CrowdTangle exports reactions one column per kind; their sum is the reaction count.
REACTION_COLUMNS = ("Likes", "Love", "Wow", "Haha", "Sad", "Angry", "Care")
FIELDS = tuple(FACEBOOK_PRESET)
# Fields read per row from the first non-blank of their columns (in the order above), not
# from the first column present: CrowdTangle leaves "Followers at Posting" blank for pages
# it gives only "Likes at Posting" for.
PER_ROW = ("followers",)
REQUIRED = ("post_id", "created_at")
NUMBERS = ("followers", "reactions", "comments", "shares", "views")
# Time zone abbreviations found in exports (CrowdTangle writes e.g. "2016-04-29 10:00:00 EDT").
TZ_ABBREV = {"UTC": 0, "GMT": 0, "Z": 0, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5,
             "MST": -7, "MDT": -6, "PST": -8, "PDT": -7, "CET": 1, "CEST": 2, "EET": 2,
             "EEST": 3, "BST": 1}
_ABBREV = re.compile(r"^(.*\d)\s+([A-Za-z]{1,5})$")


def parse_time(value: str) -> dt.datetime | None:
    """Export timestamps: ISO 8601, 'YYYY-MM-DD HH:MM:SS TZ', or Unix seconds/ms. None if not."""
    value = (value or "").strip()
    if not value:
        return None
    if re.fullmatch(r"\d{9,13}(\.\d+)?", value):
        seconds = float(value)
        return dt.datetime.fromtimestamp(seconds / 1000 if seconds > 1e11 else seconds, dt.UTC)
    offset = None
    m = _ABBREV.match(value)
    if m and m.group(2).upper() in TZ_ABBREV:
        value, offset = m.group(1), TZ_ABBREV[m.group(2).upper()]
    try:
        t = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if offset is not None:
        t = t.replace(tzinfo=dt.timezone(dt.timedelta(hours=offset)))
    elif t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return t.astimezone(dt.UTC)


def _number(value: str | None) -> int | None:
    if value is None:
        return None
    v = value.strip().replace(",", "")
    if not v:
        return None
    try:
        return int(float(v))
    except ValueError:
        return None


class Mapping:
    """Which column holds each field, resolved against one file's header."""

    def __init__(self, name: str, candidates: dict[str, tuple[str, ...]], platform: str,
                 header: list[str], sum_reactions: bool = False):
        self.name = name
        self.platform = platform
        self.columns = {f: next((c for c in cols if c in header), None)
                        for f, cols in candidates.items()}
        self.per_row = {f: present for f in PER_ROW
                        if len(present := [c for c in candidates.get(f, ()) if c in header]) > 1}
        self.reaction_columns = ([c for c in REACTION_COLUMNS if c in header]
                                 if sum_reactions and not self.columns.get("reactions") else [])
        missing = [f for f in REQUIRED if not self.columns.get(f)]
        if missing:
            want = "; ".join(f"{f}: one of {', '.join(repr(c) for c in candidates.get(f, ()))}"
                             for f in missing)
            raise ImportFormatError(f"CSV columns do not match the {name} mapping (missing {want})")

    def fields(self, row: dict[str, str]) -> tuple[dict[str, object] | None, str | None]:
        """The warehouse fields of a row, or (None, reason) if the row cannot be used."""
        out: dict[str, object] = {"platform": self.platform}
        for f, col in self.columns.items():
            if f in self.per_row:
                out[f] = next((row[c] for c in self.per_row[f] if (row.get(c) or "").strip()),
                              None)
            elif col:
                out[f] = row.get(col)
        if not out.get("post_id"):
            return None, f"no post id (column '{self.columns['post_id']}' is empty)"
        created = parse_time(str(out.get("created_at") or ""))
        if created is None:
            return None, (f"'{out.get('created_at')}' in column '{self.columns['created_at']}' "
                          "is not a date and time")
        out["created_at"] = created.isoformat()
        for f in NUMBERS:
            if f in out:
                out[f] = _number(out[f])  # type: ignore[arg-type]
        if self.reaction_columns:
            vals = [v for v in (_number(row.get(c)) for c in self.reaction_columns)
                    if v is not None]
            # reactions of the kinds given; not known (not 0) when every cell is empty
            out["reactions"] = sum(vals) if vals else None
        out["hashtags"] = tags_in_text(str(out.get("text") or ""))
        return out, None


def mapping_for(fmt: str, header: list[str], mappings: dict[str, dict[str, str]],
                mapping_name: str | None) -> Mapping:
    """The column mapping for this file: the Facebook preset, or a named mapping from config."""
    if fmt == "facebook_csv" or (fmt == "auto" and mapping_name is None):
        return Mapping("Facebook export", FACEBOOK_PRESET, "facebook", header, sum_reactions=True)
    if not mapping_name:
        raise ImportFormatError("a generic CSV needs --mapping NAME ([csv_mappings.NAME] in "
                                "the config)")
    if mapping_name not in mappings:
        known = ", ".join(sorted(mappings)) or "none"
        raise ImportFormatError(f"no [csv_mappings.{mapping_name}] in the config (known: {known})")
    m = dict(mappings[mapping_name])
    platform = m.pop("platform", "other")
    unknown = sorted(set(m) - set(FIELDS))
    if unknown:
        raise ImportFormatError(f"csv_mappings.{mapping_name}: unknown field(s) "
                                f"{', '.join(unknown)} (expected: platform, {', '.join(FIELDS)})")
    absent = [c for c in m.values() if c not in header]
    if absent:
        raise ImportFormatError(f"CSV has no column {', '.join(repr(c) for c in absent)} "
                                f"(csv_mappings.{mapping_name})")
    return Mapping(f"csv_mappings.{mapping_name}", {f: (c,) for f, c in m.items()}, platform,
                   header)


def csv_records(lines: Iterable[str], fmt: str, mappings: dict[str, dict[str, str]],
                mapping_name: str | None) -> Iterator[Record | Bad]:
    """Rows of a CSV file (text lines ending in '\\n') -> records. Header errors raise."""
    csv.field_size_limit(sys.maxsize)
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        raise ImportFormatError(f"line 1: not a CSV header: {exc}") from None
    header = [h.strip() for h in header]
    mapping = mapping_for(fmt, header, mappings, mapping_name)
    last = reader.line_num
    while True:
        start = last + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            last = reader.line_num
            yield Bad(start, f"unreadable CSV row: {exc}", None)
            continue
        last = reader.line_num
        text = ",".join(row)
        if not any(cell.strip() for cell in row):
            continue
        if any("\udc80" <= ch <= "\udcff" for ch in text):
            yield Bad(start, "not UTF-8 text: binary data?",
                      text.encode("utf-8", "surrogateescape"))
            continue
        if len(row) != len(header):
            yield Bad(start, f"{len(row)} columns where the header has {len(header)}", text)
            continue
        columns = dict(zip(header, row, strict=True))
        fields, why = mapping.fields(columns)
        if fields is None:
            yield Bad(start, why or "unusable row", text)
            continue
        payload = json.dumps({"columns": columns, "fields": fields}, ensure_ascii=False)
        yield Record(start, "csv_row", str(fields["platform"]), payload)
