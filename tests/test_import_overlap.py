"""The import prepares batch N+1 on a second connection while batch N commits
(tracker/importers/storing.py). It stores exactly what one batch after another stores, also
when a batch repeats a page the batch before it stored while it was being prepared."""

from __future__ import annotations

import time

import pytest

from tracker.importers import run, storing
from tracker.store import segments

from .conftest import FIXTURES
from .import_helpers import make_config, query, run_import

TABLES = ["norm.posts", "norm.authors", "norm.author_observations", "norm.post_hashtags",
          "norm.post_mentions", "norm.post_urls", "norm.post_media", "norm.campaign_posts",
          "norm.engagement_observations"]


def _pages() -> list[str]:
    """Every complete twarc2 page of the real recorded files (the truncated line left out)."""
    lines = []
    for path in sorted((FIXTURES / "x_v2").glob("twarc2_*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip() and line.rstrip().endswith("}"):
                lines.append(line)
    return lines


@pytest.fixture
def archive(tmp_path):
    """Each page twice in a row: with one record a batch, batch N+1 repeats batch N's page."""
    pages = _pages()
    assert len(pages) >= 8
    path = tmp_path / "repeats.jsonl"
    path.write_text("".join(f"{p}\n{p}\n" for p in pages), encoding="utf-8")
    return path


def _import(cfg, archive, monkeypatch, *, overlap: bool, slow_commit: float = 0.0):
    """Import `archive` one record a batch; returns (summary, the `parsed` flag of every
    store_batch_table call, whether a batch was prepared in the overlap's thread)."""
    monkeypatch.setattr(run, "BATCH_BYTES", 1)
    monkeypatch.setattr(storing.Overlap, "usable", staticmethod(lambda con: overlap))
    flags: list[bool] = []
    threads: set[str] = set()
    store, prepare = storing.store_batch_table, storing.prepare

    def store_batch_table(*a, **k):
        flags.append(k["parsed"])
        time.sleep(slow_commit)   # the next batch is prepared meanwhile
        return store(*a, **k)

    def spy_prepare(*a, **k):
        import threading
        threads.add(threading.current_thread().name)
        return prepare(*a, **k)

    monkeypatch.setattr(storing, "store_batch_table", store_batch_table)
    monkeypatch.setattr(storing, "prepare", spy_prepare)
    summary = run_import(cfg, [archive])
    monkeypatch.undo()
    return summary, flags, any(t.startswith("import-prep") for t in threads)


def _contents(cfg) -> dict:
    out = {t: query(cfg, f"select * exclude (first_page_id, first_seen_at) from {t} order by all"
                    if t == "norm.posts" else f"select * from {t} order by all") for t in TABLES}
    out["raw.pages"] = query(cfg, "select page_id, format, request, retrieved_at, "
                                  "md5(payload::varchar) from raw.pages order by all")
    return out


def _orphans(cfg) -> set[str]:
    """Segment files in the warehouse's folder that no raw.page_index row refers to."""
    used = {r[0] for r in query(cfg, "select distinct segment from raw.page_index")}
    folder = cfg.warehouse.parent / (cfg.warehouse.name + ".raw")
    assert folder.is_dir(), folder
    return {f.name for f in folder.iterdir()} - used - {segments.EMPTY}


def test_overlap_stores_what_one_batch_after_another_stores(tmp_path, archive, monkeypatch):
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    one, two = make_config(tmp_path / "one"), make_config(tmp_path / "two")
    s1, flags1, threaded1 = _import(one, archive, monkeypatch, overlap=False)
    # each commit waits, so the next batch, the same page, is prepared before it is stored
    s2, flags2, threaded2 = _import(two, archive, monkeypatch, overlap=True, slow_commit=0.2)
    assert not threaded1 and threaded2
    pages = len(_pages())
    assert (s2.pages_new, s2.pages_seen, s2.posts_new, s2.duplicates) == \
        (s1.pages_new, s1.pages_seen, s1.posts_new, s1.duplicates)
    assert s2.pages_new + s2.pages_seen == 2 * pages and s2.pages_seen >= pages
    # the repeats prepared before their page was stored were stored anew in their
    # transaction, which then found nothing new
    assert flags2.count(False) >= pages - 1 and all(flags1)
    assert _contents(two) == _contents(one)
    assert query(two, "select count(*) - count(distinct page_id) from raw.page_index") == [(0,)]
    assert _orphans(two) == set() and _orphans(one) == set()


def test_payloads_load_byte_exact_through_the_file_and_the_string(tmp_path, monkeypatch):
    """Payloads go to DuckDB through a file (storing._load_from_file), or, for a batch with
    a carriage return inside a payload (JSON whitespace, which the CSV reader would take for
    a line end), through one string: either way each is stored exactly as read."""
    pages = _pages()
    # real pages, one with a carriage return and a tab between its top-level members
    odd = pages[1].replace(', "includes"', ',\r\t"includes"', 1)
    assert odd != pages[1]
    lines = [pages[0], odd, *pages[2:]]
    s, ways, stored = _one_a_batch(tmp_path, monkeypatch, lines)
    assert s.bad == 0 and ways.count(False) == 1 and ways.count(True) == len(pages) - 1
    assert stored == {f"pages.jsonl:{n}": line for n, line in enumerate(lines, start=1)}


def _one_a_batch(tmp_path, monkeypatch, lines: list[str]):
    """Import `lines`, one record a batch: the summary, whether each batch went through the
    load file (True) or the string, and the payloads stored by request ('pages.jsonl:N')."""
    archive = tmp_path / "pages.jsonl"
    archive.write_bytes("".join(f"{ln}\n" for ln in lines).encode())
    monkeypatch.setattr(run, "BATCH_BYTES", 1)
    ways: list[bool] = []
    load = storing._load_from_file
    monkeypatch.setattr(storing, "_load_from_file",
                        lambda *a, **k: ways.append(load(*a, **k)) or ways[-1])
    cfg = make_config(tmp_path)
    s = run_import(cfg, [archive])
    stored = {r.rpartition("/")[2]: p for r, p in
              query(cfg, "select request, payload::varchar from raw.pages")}
    return s, ways, stored


def test_payloads_at_the_load_files_line_limit_are_stored_exactly(tmp_path, monkeypatch):
    """DuckDB's CSV reader refuses a line longer than its limit: a payload of that many
    bytes goes through the file, one a byte longer through the string; both stored as read."""
    page = _pages()[0]
    limit = len(page.encode()) + 64
    monkeypatch.setattr(storing, "LOAD_FILE_LINE", limit)
    lines = [page[:-1] + " " * (limit - len(page.encode()) + extra) + "}" for extra in (0, 1)]
    assert [len(ln.encode()) for ln in lines] == [limit, limit + 1]
    s, ways, stored = _one_a_batch(tmp_path, monkeypatch, lines)
    assert s.bad == 0 and s.pages_new == 2 and ways == [True, False]
    assert stored == {"pages.jsonl:1": lines[0], "pages.jsonl:2": lines[1]}


def test_interrupt_after_a_commit_keeps_it_and_removes_the_batch_prepared_ahead(
        tmp_path, archive, monkeypatch):
    """Ctrl-C while a batch is being reported (after its commit, with the next batch
    prepared on the other connection): the committed batch's segment stays, the one
    prepared ahead is removed, and a rerun ends as an uninterrupted import."""
    (tmp_path / "cut").mkdir()
    (tmp_path / "whole").mkdir()
    cut, whole = make_config(tmp_path / "cut"), make_config(tmp_path / "whole")
    monkeypatch.setattr(run, "BATCH_BYTES", 1)
    calls = []
    prepare = storing.prepare

    def slow_prepare(*a, **k):   # the batch ahead is still being prepared
        time.sleep(0.05)
        return prepare(*a, **k)

    def stop_at_third(summary, total):
        calls.append(summary.pages_new)
        if len(calls) == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(storing, "prepare", slow_prepare)
    with pytest.raises(KeyboardInterrupt):
        run_import(cut, [archive], on_progress=stop_at_third)
    stored = query(cut, "select count(*) from raw.page_index")[0][0]
    assert stored == calls[-1] > 0
    used = {r[0] for r in query(cut, "select distinct segment from raw.page_index")}
    folder = cut.warehouse.parent / (cut.warehouse.name + ".raw")
    assert all((folder / name).exists() for name in used)   # nothing committed was removed
    assert _orphans(cut) == set()                           # nor left behind
    assert run_import(cut, [archive]).pages_new == len(_pages()) - stored
    run_import(whole, [archive])
    assert _contents(cut) == _contents(whole)


def test_memory_limit_is_never_set_on_a_connection_being_prepared_on(
        tmp_path, archive, monkeypatch):
    """A batch with a larger record raises DuckDB's memory limit (for the whole database);
    it is set on a connection no preparation is using: a DuckDB connection runs one
    statement at a time, and a statement from another thread would take its results."""
    monkeypatch.setattr(run, "BATCH_BYTES", 1)
    monkeypatch.setattr(run, "MEMORY_FLOOR", 1)        # each larger record raises the limit
    monkeypatch.setattr(run, "MEMORY_PER_RECORD_BYTE", 4096)
    busy: set[int] = set()
    clashes: list[int] = []
    prepare, set_memory = storing.prepare, run.Importer._set_memory

    def tracked_prepare(con, *a, **k):
        busy.add(id(con))
        try:
            time.sleep(0.05)
            return prepare(con, *a, **k)
        finally:
            busy.discard(id(con))

    def tracked_set_memory(self, memory, con):
        if memory != self._memory and id(con) in busy:
            clashes.append(memory)
        return set_memory(self, memory, con)

    monkeypatch.setattr(storing, "prepare", tracked_prepare)
    monkeypatch.setattr(run.Importer, "_set_memory", tracked_set_memory)
    # pages in growing order of size, so that most batches raise the limit
    path = tmp_path / "growing.jsonl"
    path.write_text("".join(f"{p}\n" for p in sorted(_pages(), key=len)), encoding="utf-8")
    cfg = make_config(tmp_path)
    s = run_import(cfg, [path])
    assert s.pages_new == len(_pages()) and clashes == []
