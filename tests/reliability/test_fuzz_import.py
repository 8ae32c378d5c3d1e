"""Property-based fuzzing of every import format (the config parser: tests/test_config_fuzz.py).

Archives mix valid records with mutated ones, random bytes, invalid UTF-8, NUL bytes, deep
nesting and big lines. Whatever comes in: no uncaught exception (a refusal is one TrackerError
line), every rejected record is in the quarantine with its reason and line, and every record
read is accounted for.
"""

from __future__ import annotations

import csv
import io
import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracker.errors import TrackerError
from tracker.importers import Importer
from tracker.store.db import connect

from ..import_helpers import make_config, mastodon_timeline, v11_search_body
from ..test_import_csv import CT_HEADER, ct_row
from ..test_import_formats import TWARC_FILES, bluesky_post

pytestmark = pytest.mark.reliability

EXAMPLES = int(os.environ.get("TRACKER_RELIABILITY_EXAMPLES", "40"))  # per format


def seeds() -> dict[str, list[dict]]:
    twarc = [json.loads(line) for f in TWARC_FILES[:3]
             for line in f.read_text(encoding="utf-8").splitlines() if line.startswith("{")]
    return {"twarc2": twarc, "x_v1": v11_search_body()["statuses"][:3],
            "mastodon": mastodon_timeline(),
            "bluesky": [bluesky_post(i, ["AleppoIsBurning"]) for i in range(3)]}


SEEDS = seeds()
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20))


def mutate(draw, value, depth: int = 0):
    """Change a few parts of a record: drop keys, swap values for wrong types."""
    if isinstance(value, dict) and value:
        out = {}
        for k, v in value.items():
            choice = draw(st.integers(0, 12))
            if choice == 0:
                continue                                  # key missing
            out[k] = draw(scalars) if choice == 1 else mutate(draw, v, depth + 1)
        return out
    if isinstance(value, list) and value:
        return [mutate(draw, v, depth + 1) for v in value[: draw(st.integers(0, len(value)))]]
    return draw(scalars) if draw(st.integers(0, 8)) == 0 else value


@st.composite
def json_line(draw, fmt: str) -> bytes:
    kind = draw(st.sampled_from(["valid", "mutated", "mutated", "bytes", "utf8", "nul", "deep",
                                 "big", "truncated"]))
    seed = draw(st.sampled_from(SEEDS[fmt]))
    if kind == "valid":
        return json.dumps(seed, ensure_ascii=False).encode()
    if kind == "mutated":
        return json.dumps(mutate(draw, seed)).encode()
    if kind == "bytes":
        return draw(st.binary(max_size=200)).replace(b"\n", b" ")
    if kind == "utf8":
        return json.dumps(seed).encode()[:50] + b"\xff\xfe\xc3(" + draw(st.binary(max_size=20))
    if kind == "nul":
        return json.dumps(seed, ensure_ascii=False).replace('"', '"\x00', 3).encode()
    if kind == "deep":
        n = draw(st.integers(100, 20_000))
        return (b'{"data":' + b"[" * n + b"]" * n + b"}")
    if kind == "big":
        return json.dumps({**seed, "text": "x" * draw(st.integers(100_000, 2_000_000))}).encode()
    text = json.dumps(seed).encode()
    return text[: draw(st.integers(0, len(text)))]


@st.composite
def csv_file(draw) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(CT_HEADER)
    rows = draw(st.lists(st.one_of(
        st.builds(lambda n, m: ct_row(n, "2016-04-29 10:00:00 EDT", m),
                  st.integers(0, 50), st.text(max_size=40)),
        st.lists(st.text(max_size=20), max_size=30)), max_size=8))
    w.writerows(rows)
    data = buf.getvalue().encode()
    extra = draw(st.sampled_from([b"", b"\x00\x00", b"\xff\xfe bad,utf8\n", b'"unclosed,\n']))
    return data + extra


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz")
    cfg = make_config(tmp)
    con = connect(cfg.warehouse)
    yield tmp, cfg, con
    con.close()


def check(project, fmt: str, data: bytes) -> None:
    tmp, cfg, con = project
    path = tmp / ("in.csv" if "csv" in fmt else "in.jsonl")
    path.write_bytes(data)
    before = con.execute("select count(*) from ledger.runs").fetchone()[0]
    try:
        s = Importer(con, cfg, fmt=fmt).run([str(path)])
    except TrackerError as exc:                     # a refusal: one clear line
        assert "\n" not in str(exc) and str(exc)
        return
    assert con.execute("select count(*) from ledger.runs").fetchone()[0] == before + 1
    rows = con.execute("select origin, line, reason from ledger.quarantine where run_id = ?",
                       [s.run_id]).fetchall()
    # a record quarantined by an earlier run (the same file and line) is not stored again
    assert len(rows) == s.bad + s.api_errors - s.quarantined_before
    assert all(reason and str(path) in origin for origin, _, reason in rows), rows
    assert s.pages_new + s.pages_seen + s.bad <= s.records, s


FUZZ = settings(max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])


@pytest.mark.parametrize("fmt", ["auto", *SEEDS])
def test_json_archives_never_crash_and_quarantine_what_they_reject(project, fmt):
    source = "twarc2" if fmt == "auto" else fmt

    @FUZZ
    @given(st.lists(json_line(source), min_size=1, max_size=6))
    def run(lines):
        check(project, fmt, b"\n".join(lines) + b"\n")
    run()


@FUZZ
@given(csv_file())
def test_csv_exports_never_crash_and_quarantine_what_they_reject(project, data):
    check(project, "facebook_csv", data)


def test_what_fuzzing_found_is_quarantined_and_the_good_records_kept(tmp_path):
    """Three crashes hypothesis found: deep nesting (RecursionError), a non-text
    __twarc.retrieved_at (TypeError), a field of the wrong type (the whole batch's SQL
    failed). Now each bad record is quarantined and the good ones beside it are stored."""
    good = [json.loads(line) for line in TWARC_FILES[-1].read_text().splitlines()[:1]]
    lines = [json.dumps(good[0]), "[" * 50_000 + "]" * 50_000,
             json.dumps({**good[0], "__twarc": {"retrieved_at": 1}}),
             json.dumps({"id_str": False, "user": None, "favorite_count": False})]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    cfg = make_config(tmp_path)
    con = connect(cfg.warehouse)
    try:
        s = Importer(con, cfg).run([str(path)])
        reasons = dict(con.execute("select line, reason from ledger.quarantine").fetchall())
        posts = con.execute("select count(*) from norm.posts").fetchone()[0]
    finally:
        con.close()
    assert s.records == 4 and s.bad == 2 and s.status == "partial", s
    assert reasons[2] == "JSON nested too deeply to read"
    assert reasons[4].startswith("could not be normalised: Conversion Error"), reasons
    # line 3 is line 1 with another __twarc block: its own page, the same posts (once)
    assert s.pages_new == 2 and posts == s.posts_new == s.duplicates > 0, s
