-- Schema version 4: removal on request (`tracker forget`).
--   ledger.forgotten   what was removed, ids only (never content): one row per forgotten post
--                      and one per forgotten author. While a row is not restored, no loader
--                      stores that post (or any post of that author, or a repost of that
--                      post) again: warehouse/normalise/_forgotten.sql drops them from each
--                      batch before _merge.sql. `tracker import --allow-forgotten` lets
--                      them back and sets restored_by.
--   raw.pages.redacted_by / redacted_at / redaction
--                      a page whose payload held a forgotten post or author: 'rewritten'
--                      (the payload without them) or 'purged' (the payload was the post
--                      itself; it is now '{}'). page_id stays the hash of the page as it was
--                      received, so the same page delivered again is recognised as stored
--                      and not stored again; a redacted payload no longer hashes to it.
create table if not exists ledger.forgotten (
    platform     varchar not null,
    post_id      varchar,               -- a forgotten post (null on an author's row)
    author_id    varchar,               -- a forgotten author (null on a post's row)
    request      varchar not null,      -- post, author, or repost (a repost of a forgotten post)
    forgotten_at timestamptz not null,
    run_id       varchar not null,      -- the ledger.runs row of kind 'forget'
    restored_by  varchar                -- the import run that brought it back (--allow-forgotten)
);

alter table raw.pages add column redacted_by varchar;   -- ledger.runs.run_id that redacted it
alter table raw.pages add column redacted_at timestamptz;
alter table raw.pages add column redaction varchar;     -- rewritten or purged
