"""A twarc2 page is classified from its shape without building its tweets in Python
(tracker/importers/formats.py `_probe_page`): it must give exactly the records that parsing
the whole line gives, for every real recorded line and for pages of every shape."""

from __future__ import annotations

import json

import pytest

from tracker.importers import formats
from tracker.pages import page_id, page_id_of

from .conftest import FIXTURES


def _whole(data: bytes, line: int, wanted: str, monkeypatch) -> list:
    """The records of a line parsed whole (the reference): the import's reading with the
    probe turned off, which is Python's json where the line is not valid JSON to orjson."""
    with monkeypatch.context() as m:
        m.setattr(formats, "_probe_page", lambda *a: None)
        whole = formats.parse_line(data, line, wanted)
    text = data.decode("utf-8")
    try:
        obj = json.loads(text)
    except json.JSONDecodeError:
        return whole
    assert whole == formats.to_records(obj, text, line, wanted)
    return whole


def _real_lines() -> list[bytes]:
    out = []
    for path in sorted(FIXTURES.rglob("*.jsonl")):
        out += [ln for ln in path.read_bytes().splitlines() if ln.strip()]
    return out


SHAPES = [
    b'{"data": [], "meta": {"result_count": 0}}',
    b'{"data": [ ], "includes": {"users": [{"id": "1"}]}}',
    b'{"data": null, "errors": [{"title": "Not Found Error", "detail": "gone", '
    b'"resource_id": "9"}]}',
    b'{"data": [], "errors": [{"title": "t"}], "__twarc": {"retrieved_at": '
    b'"2016-04-29T10:00:00+00:00"}}',
    b'{"data": {"id": "1", "text": "streamed #AleppoIsBurning"}, "matching_rules": []}',
    b'{"data": [{"id": "1"}], "__twarc": {"retrieved_at": "2016-04-29T10:00:00"}}',
    b'{"data": [{"id": "1"}], "__twarc": {"retrieved_at": 12}}',
    b'{"data": 0, "statuses": [{"id_str": "1", "user": {}}]}',
    b'{"data": [1], "author": {"id": "2"}, "author_id": "2", "id": "3"}',
    b'{"data": [1], "id": "3"}',
    b'{"data": [{"id": "1"}], "includes": {}, "__twarc": {"retrieved_at": "x\\ny"}}',
    b'{"data": [{"id": "1"}]',                      # truncated
    b'{"data": [{"id": "1", "text": "\\ud800"}]}',  # a lone surrogate: json reads it
    b'{"data": [{"id": 123456789012345678901234567890}]}',   # beyond 64 bits
    b'{"data": [NaN]}',
    b'{"data": [1], "data": []}',                   # a repeated key: the last counts
    b'{"data": 1e400}',                             # msgspec reads it, orjson does not
    b'{"data": [1], "includes": {}, "errors": [{"title": "x", "v": 1e400}]}',
    b'{"data": [' + b" " * 70 + b'], "includes": {' + b"\n" * 70 + b'}}',   # empty, padded
    b'{"data": [{"id": "1"}], "includes": {"users": []}, "meta": {"newest_id": "1"}}',
]


@pytest.mark.parametrize("wanted", ["auto", "twarc2", "x_v1"])
def test_probe_gives_the_records_of_the_whole_parse(wanted, monkeypatch):
    real = _real_lines()
    assert sum(ln.startswith(b'{"data"') for ln in real) >= 10   # real pages go through it
    for number, data in enumerate(real + SHAPES, start=1):
        assert formats.parse_line(data, number, wanted) == \
            _whole(data, number, wanted, monkeypatch), data[:80]


def test_probe_is_taken_for_twarc2_pages_only():
    page = next(ln for ln in _real_lines() if ln.startswith(b'{"data"'))
    assert formats._probe_page(page, page.decode(), 1, "auto") is not None
    flat = b'{"data": [1], "author": {"id": "2"}, "author_id": "2", "id": "3"}'
    assert formats._probe_page(flat, flat.decode(), 1, "auto") is None   # parsed whole
    assert formats._probe_page(b'{"data": [1]', "", 1, "auto") is None


FLAT = (b'{"id": "3", "text": "\\u062d\\u0644\\u0628 #AleppoIsBurning", "author_id": "2", '
        b'"author": {"id": "2", "username": "u"}, "created_at": "2016-04-29T10:00:00.000Z"}')


@pytest.mark.parametrize("data", [
    *_real_lines()[:6],
    '{"data": [{"id": "1", "text": "حلب"}],\r\t"includes": {}}  '.encode(),   # kept as read
    FLAT,                                                    # written out again by the import
    b'[{"id_str": "1", "text": "x", "user": {"id_str": "2"}}]',   # a v1.1 list, likewise
])
def test_records_carry_their_payloads_utf8_bytes(data):
    """The bytes a record carries are its payload's UTF-8 (the line itself, when the payload is
    the line), so the page id made from them is the page id of the text."""
    records = [r for r in formats.parse_line(data, 1, "auto") if isinstance(r, formats.Record)]
    assert records
    for r in records:
        assert r.encoded == r.payload.encode("utf-8")
        assert page_id_of(r.format, r.encoded) == page_id(r.format, r.payload)
        assert (r.encoded is data) == (r.payload == data.decode())
