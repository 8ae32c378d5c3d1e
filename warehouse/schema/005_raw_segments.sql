-- Schema version 5: payloads leave the database (tracker/store/segments.py).
--   raw.page_index   one row per raw page: the provenance columns raw.pages had, and
--                    `segment`, the file in `<database>.raw/` that holds its payload
--                    (Parquet, zstd; columns page_id, payload). No primary key (as norm.*,
--                    schema 002): the one writer, store.load, adds only pages not stored yet.
--   raw.page_inline  payloads of small batches (live collection, lookups) until they add up
--                    to a segment's worth (segments.INLINE_FLUSH_BYTES): then they are
--                    written to a segment and deleted here. Their index rows say
--                    segment = 'inline'. Small, so its checkpoints stay cheap.
--   raw.pages        a view: raw.page_index joined with the segments, the same columns (and
--                    payload text, byte for byte) the table of that name had.
--   ledger.quarantine.raw_bytes
--                    the exact bytes of a quarantined record that is not valid UTF-8 (raw
--                    shows them with backslash escapes).
-- Moving the stored payloads into a segment is done in Python, in the same transaction
-- (tracker/store/segments_migration.py), after this file.
create table raw.page_index (
    page_id       varchar not null,
    format        varchar not null,
    platform      varchar not null,
    source        varchar not null,
    campaign      varchar,
    request       varchar,
    retrieved_at  timestamptz not null,
    client        varchar,
    load_id       varchar not null,
    batch_id      varchar not null,
    synthetic     boolean not null default false,
    redacted_by   varchar,
    redacted_at   timestamptz,
    redaction     varchar,
    segment       varchar not null   -- file name in <database>.raw/, or 'inline'
);

create table raw.page_inline (
    page_id  varchar not null,
    payload  json not null,
    bytes    bigint not null      -- octets of the payload
);

alter table ledger.quarantine add column raw_bytes blob;
