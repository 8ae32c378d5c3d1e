"""Recognise archive records and turn them into raw pages.

Each record (a twarc2 line, a v1.1 status line, a Mastodon array, a Bluesky API
response...) becomes one row of `raw.pages`, kept as received. Only twarc2 `flatten` lines
are reshaped, into the v2 page they came from, so one normalisation serves both.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any

import duckdb
import msgspec
import orjson

from ..store.db import one, scalar

# --format choices for JSON archives -> (raw format, platform, label)
JSON_FORMATS = {
    "twarc2": ("x_v2_page", "x", "twarc2 / X API v2 page"),
    "x_v1": ("x_v1_status", "x", "X v1.1 status"),
    "mastodon": ("mastodon_statuses", "mastodon", "Mastodon status"),
    "bluesky": ("bluesky_posts", "bluesky", "Bluesky API response"),
}
# Bluesky responses are told apart by their shape; all but getProfiles hold post views
BLUESKY_KINDS = {"bluesky": "bluesky_posts", "bluesky_feed": "bluesky_posts",
                 "bluesky_thread": "bluesky_posts", "bluesky_profiles": "bluesky_profiles"}
CSV_FORMATS = ("facebook_csv", "csv")
FORMAT_CHOICES = ("auto", *JSON_FORMATS, *CSV_FORMATS)
# Formats whose pages are JSON arrays: `[]` is an empty page (a timeline's last page), read
# and not stored, not a bad record.
EMPTY_PAGE_FORMATS = ("auto", "mastodon", "x_v1")
BIG_LINE = 16 * 1024 * 1024     # above this, a line is inspected by DuckDB, not parsed in Python
ARRAY_CHUNK = 1000              # a long Mastodon array is stored in records of this many


@dataclass
class Record:
    """A readable archive record: a raw page to store (payload None: nothing to store)."""

    line: int
    format: str | None
    platform: str | None
    payload: str | None
    retrieved_at: str | None = None
    api_errors: list[str] = field(default_factory=list)
    # False: kept by the campaign filter only for a status it quotes, so `--campaign` does not
    # take its results (the quoted status joins campaigns by its own tags)
    assign: bool = True
    # the payload's UTF-8 bytes, when known already: the line as read (`with_encoded`), or
    # the text the import wrote (`_dumps`); so they are not encoded again for the page id and
    # the load
    encoded: bytes | None = field(default=None, compare=False, repr=False)


def with_encoded(items: list[Record | Bad], text: str, data: bytes) -> list[Record | Bad]:
    """`items`, read from `data` (decoded as `text`): each record whose payload is `text`
    itself carries `data` as its bytes."""
    for item in items:
        if isinstance(item, Record) and item.payload is text:
            item.encoded = data
    return items


@dataclass
class Bad:
    """A record that could not be read; goes to the quarantine."""

    line: int | None
    reason: str
    raw: str | bytes | None


def kind_of(obj: Any) -> str | None:
    """Which archive format a parsed JSON value is, or None."""
    if isinstance(obj, list):
        first = obj[0] if obj else None
        if isinstance(first, dict) and "uri" in first and "account" in first:
            return "mastodon"
        if isinstance(first, dict) and kind_of(first) == "x_v1":
            return "x_v1_list"
        return None
    if not isinstance(obj, dict):
        return None
    if isinstance(obj.get("statuses"), list):
        return "x_v1"
    if isinstance(obj.get("posts"), list):
        return "bluesky"
    if isinstance(obj.get("feed"), list):
        return "bluesky_feed"        # getAuthorFeed, getTimeline, getFeed: {feed: [{post}]}
    if isinstance(obj.get("thread"), dict):
        return "bluesky_thread"      # getPostThread
    if isinstance(obj.get("profiles"), list):
        return "bluesky_profiles"    # app.bsky.actor.getProfiles
    if "author" in obj and "author_id" in obj and "id" in obj:
        return "twarc2_flat"
    if "__twarc" in obj or "data" in obj or "includes" in obj or "errors" in obj:
        return "twarc2"
    if "id_str" in obj and "user" in obj:
        return "x_v1"
    uri = obj.get("uri")
    if isinstance(uri, str) and uri.startswith("at://") and "record" in obj:
        return "bluesky"
    if uri and "account" in obj:
        return "mastodon"
    return None


def _family(kind: str | None) -> str | None:
    if kind in BLUESKY_KINDS:
        return "bluesky"
    return {"twarc2_flat": "twarc2", "x_v1_list": "x_v1"}.get(kind or "", kind)


def label(kind: str | None) -> str:
    fam = _family(kind)
    return JSON_FORMATS[fam][2] if fam in JSON_FORMATS else "unrecognised JSON"


def api_errors(obj: dict[str, Any]) -> list[str]:
    """X API error objects in a twarc2 page, one line each."""
    out = []
    for e in obj.get("errors") or []:
        if isinstance(e, dict):
            parts = [str(e[k]) for k in ("title", "detail", "resource_id") if e.get(k)]
            out.append("X API error: " + (": ".join(parts) or json.dumps(e)[:200]))
    return out


def _retrieved(obj: dict[str, Any]) -> str | None:
    tw = obj.get("__twarc")
    return _timestamp(tw.get("retrieved_at")) if isinstance(tw, dict) else None


def _timestamp(value: Any) -> str | None:
    """An ISO timestamp as given (one without a zone is UTC: it says so, so the warehouse
    does not read it in the session's zone), or None (then the file's time is used) for
    anything else."""
    if not isinstance(value, str) or "\n" in value:
        return None
    try:
        t = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return t.replace(tzinfo=dt.UTC).isoformat() if t.tzinfo is None else value


def unflatten(tweet: dict[str, Any]) -> dict[str, Any]:
    """A `twarc2 flatten` line -> the v2 page it came from.

    twarc's flatten (twarc/expansions.py) writes each tweet of `data` with its expansions
    inlined: `author`, `referenced_tweets` merged with the referenced tweets (themselves
    expanded), `attachments.media` (the media objects of `attachments.media_keys`) and `geo`
    merged with its place. They become `includes.users`, `includes.tweets`, `includes.media`
    and `includes.places` again; a missing expansion is inlined as `{}` and gives nothing."""
    users: dict[Any, Any] = {}
    tweets: dict[Any, dict[str, Any]] = {}
    media: dict[Any, Any] = {}
    places: dict[Any, Any] = {}

    def collect(t: dict[str, Any]) -> None:
        if isinstance(t.get("author"), dict) and t["author"].get("id"):
            users.setdefault(t["author"]["id"], t["author"])
        attachments = t.get("attachments")
        for m in (attachments.get("media") or []) if isinstance(attachments, dict) else []:
            if isinstance(m, dict) and m.get("media_key"):
                media.setdefault(m["media_key"], m)
        geo = t.get("geo")
        if isinstance(geo, dict) and geo.get("place_id"):
            place = {k: v for k, v in geo.items() if k not in ("place_id", "coordinates")}
            if place:
                places.setdefault(geo["place_id"], {"id": geo["place_id"], **place})
        for ref in t.get("referenced_tweets") or []:
            if isinstance(ref, dict) and "text" in ref and ref.get("id") not in tweets:
                tweets[ref.get("id")] = ref
                collect(ref)

    collect(tweet)
    includes: dict[str, Any] = {"users": list(users.values()), "tweets": list(tweets.values())}
    if media:
        includes["media"] = list(media.values())
    if places:
        includes["places"] = list(places.values())
    page: dict[str, Any] = {"data": [tweet], "includes": includes}
    if "__twarc" in tweet:
        page["__twarc"] = tweet["__twarc"]
    return page


def to_records(obj: Any, text: str | None, line: int, wanted: str) -> list[Record | Bad]:
    """Records for one parsed JSON value. `text` is the value as received (None: re-encode)."""
    if obj == [] and wanted in EMPTY_PAGE_FORMATS:
        return [Record(line, None, None, None)]   # an empty page: read, nothing to store
    kind = kind_of(obj)
    fam = _family(kind)
    if fam is None or (wanted != "auto" and fam != wanted):
        what = f"not a {JSON_FORMATS[wanted][2]} record" if wanted != "auto" else "not a record"
        return [Bad(line, f"{what} (looks like {label(kind)})", text or json.dumps(obj)[:4096])]
    fmt, platform, _ = JSON_FORMATS[fam]
    fmt = BLUESKY_KINDS.get(kind or "", fmt)
    if kind == "twarc2_flat":
        obj, text = unflatten(obj), None
    if kind == "x_v1_list":
        obj, text = {"statuses": obj}, None
    if kind == "mastodon" and isinstance(obj, list) and len(obj) > ARRAY_CHUNK:
        chunks = [_dumps(obj[i:i + ARRAY_CHUNK]) for i in range(0, len(obj), ARRAY_CHUNK)]
        return [Record(line, fmt, platform, text, encoded=encoded) for text, encoded in chunks]
    errors = api_errors(obj) if fam == "twarc2" else []
    retrieved = _retrieved(obj) if isinstance(obj, dict) else None
    if fam == "twarc2" and not obj.get("data") and not obj.get("includes"):
        return [Record(line, None, None, None, retrieved, errors)]  # an error-only line
    if text is not None:
        return [Record(line, fmt, platform, text, retrieved, errors)]
    payload, encoded = _dumps(obj)
    return [Record(line, fmt, platform, payload, retrieved, errors, encoded=encoded)]


def _dumps(obj: Any) -> tuple[str, bytes]:
    """A value read from JSON, as JSON text again, and its UTF-8 bytes. A lone surrogate (a
    `\\ud800` escape, which Python reads) is not UTF-8: then the text keeps non-ASCII
    characters as escapes, as the input had them (the raw layer refuses it as it refuses
    such a line read as is)."""
    text = json.dumps(obj, ensure_ascii=False)
    try:
        return text, text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(obj)
        return text, text.encode("utf-8")


def parse_line(data: bytes, line: int, wanted: str) -> list[Record | Bad]:
    """One JSONL line -> its records, or why it cannot be read."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return [Bad(line, f"not UTF-8 text (byte {exc.start + 1}): binary data?", data)]
    try:
        return with_encoded(_parse_text(data, text, line, wanted), text, data)
    except RecursionError:
        return [Bad(line, "JSON nested too deeply to read", text)]


def _parse_text(data: bytes, text: str, line: int, wanted: str) -> list[Record | Bad]:
    if len(data) > BIG_LINE:
        return _parse_big(text, line, wanted)
    if wanted in ("auto", "twarc2") and data.startswith(b'{"data"') and \
            (records := _probe_page(data, text, line, wanted)) is not None:
        return records
    try:
        # orjson reads the same values about five times as fast; what it refuses (lone
        # surrogates, NaN, integers beyond 64 bits, nesting past 1,024, invalid JSON) is
        # read by json, which accepts or reports it as before
        obj = orjson.loads(data)
    except orjson.JSONDecodeError:
        obj = None
    try:
        obj = json.loads(text) if obj is None else obj
    except json.JSONDecodeError as exc:
        # the line ends before the JSON does: at its last character, or inside a string
        # that never closes (json reports where that string starts)
        if exc.pos >= len(text.rstrip()) - 1 or exc.msg.startswith("Unterminated string"):
            why = f"truncated JSON: the line ends inside a value ({len(data)} bytes)"
        else:
            why = f"invalid JSON: {exc.msg} at column {exc.colno}"
        return [Bad(line, why, text)]
    return to_records(obj, text, line, wanted)


_Raw = msgspec.Raw | msgspec.UnsetType


class _Probe(msgspec.Struct):
    """The top-level members `kind_of` and `to_records` look at; each value as its raw JSON
    (msgspec checks it is well formed and builds nothing)."""
    data: _Raw = msgspec.UNSET
    includes: _Raw = msgspec.UNSET
    errors: _Raw = msgspec.UNSET
    twarc: _Raw = msgspec.field(default=msgspec.UNSET, name="__twarc")
    meta: _Raw = msgspec.UNSET
    statuses: _Raw = msgspec.UNSET
    posts: _Raw = msgspec.UNSET
    feed: _Raw = msgspec.UNSET
    thread: _Raw = msgspec.UNSET
    profiles: _Raw = msgspec.UNSET
    author: _Raw = msgspec.UNSET
    author_id: _Raw = msgspec.UNSET
    id: _Raw = msgspec.UNSET


_PROBE = msgspec.json.Decoder(_Probe)
_SMALL = ("errors", "__twarc", "meta")   # read whole: what to_records takes from a page


def _probe_page(data: bytes, text: str, line: int, wanted: str) -> list[Record | Bad] | None:
    """A twarc2 / X API v2 page's records without building its tweets in Python (about 5
    times faster than orjson; the page is stored as read, so only its shape matters): a
    stand-in object with the page's top-level members, each of the same JSON type and
    emptiness, `errors` and `__twarc` read whole. None when msgspec refuses the line or it
    is not a twarc2 page: then it is parsed whole."""
    try:
        probe = _PROBE.decode(data)
    except msgspec.DecodeError:
        return None
    stub: dict[str, Any] = {}
    try:
        for name in _Probe.__struct_fields__:
            raw = getattr(probe, name)
            if raw is msgspec.UNSET:
                continue
            key = "__twarc" if name == "twarc" else name
            value = bytes(raw)
            stub[key] = orjson.loads(value) if key in _SMALL else _shape(value)
    except orjson.JSONDecodeError:   # what msgspec lets pass and orjson does not (1e400)
        return None
    if kind_of(stub) != "twarc2":
        return None
    return to_records(stub, text, line, wanted)


_EMPTY = re.compile(rb"\[\s*\]|\{\s*\}")


def _shape(value: bytes) -> Any:
    """A stand-in of the same JSON type and emptiness as the raw JSON `value`."""
    first = value[:1]
    if first in (b"[", b"{"):
        empty = _EMPTY.match(value) is not None
        if first == b"[":
            return [] if empty else [None]
        return {} if empty else {"": None}
    return orjson.loads(value)


_duck: duckdb.DuckDBPyConnection | None = None


def _parse_big(text: str, line: int, wanted: str) -> list[Record | Bad]:
    """Inspect a very long line with DuckDB's JSON reader (far less memory than Python's)."""
    global _duck
    if _duck is None:
        _duck = duckdb.connect()
    if not scalar(_duck, "select json_valid(?::varchar)", [text]):
        return [Bad(line, f"invalid or truncated JSON ({len(text)} characters)", text)]
    row = one(_duck, """
        select true, json_type(s), json_keys(s), json_keys(s, '$[0]'),
               s->>'uri', json_type(s, '$.statuses'), json_type(s, '$.posts'),
               json_type(s, '$.feed'), json_type(s, '$.thread'), json_type(s, '$.profiles'),
               s->>'$.__twarc.retrieved_at', json_extract(s, '$.errors')::varchar
        from (select ?::varchar as s)""", [text])
    (_, jtype, keys, first_keys, uri, statuses, posts, feed, thread, profiles, retrieved,
     errors) = row
    stub: Any
    if jtype == "ARRAY":
        stub = [dict.fromkeys(first_keys or [], True)]
    else:
        stub = dict.fromkeys(keys or [], True)
        stub.update({"uri": uri, "statuses": [] if statuses == "ARRAY" else None,
                     "posts": [] if posts == "ARRAY" else None,
                     "feed": [] if feed == "ARRAY" else None,
                     "thread": {} if thread == "OBJECT" else None,
                     "profiles": [] if profiles == "ARRAY" else None,
                     "errors": json.loads(errors) if errors else None})
        stub = {k: v for k, v in stub.items() if v is not None}
    kind = kind_of(stub)
    if kind in ("twarc2_flat", "x_v1_list"):
        return to_records(json.loads(text), text, line, wanted)
    recs = to_records(stub, text, line, wanted)
    for r in recs:
        if isinstance(r, Record):
            r.retrieved_at = _timestamp(retrieved)
    return recs
