-- Schema version 7: looking posts up by id (tracker/lookup): tweet-id hydration and
-- engagement re-polls. Both are ledger tables: what was asked and what the API answered.
-- No primary keys (as norm.*, schema 002): a hydrated id list can hold millions of ids; the
-- writers (tracker/store/lookups.py) add only rows not stored yet.

-- One row per (platform, post id, campaign) that a hydration asked and the API answered,
-- written in the transaction that stores the answering page: an id with a row here is never
-- asked again for that campaign (a killed run resumes with the ids not answered).
create table if not exists ledger.hydration (
    platform   varchar not null,     -- x
    post_id    varchar not null,     -- the id as asked
    campaign   varchar not null,     -- the campaign it was hydrated for (--campaign)
    status     varchar not null,     -- found, not_found, protected, suspended, error
    reason     varchar,              -- the API's words when not found: "<title>: <detail>"
    run_id     varchar not null,     -- ledger.runs.run_id of the hydrate run
    answered_at timestamptz not null -- when the answer was stored
);

-- One row per (campaign, platform, post id, age) re-poll: the post's engagement read again
-- at that age after posting. Written in the transaction that stores the reading's page.
-- The reading itself is in norm.engagement_observations (as of polled_at: an unchanged
-- reading adds no observation, the latest one before it still holds).
create table if not exists ledger.repolls (
    campaign     varchar not null,
    platform     varchar not null,
    post_id      varchar not null,
    age_seconds  integer not null,       -- the configured age: 3600 for 1 h, ...
    due_at       timestamptz not null,   -- created_at + age
    polled_at    timestamptz not null,   -- when the reading was taken (the page's retrieved_at)
    status       varchar not null,       -- read, or why not: not_found, protected, suspended, error
    reason       varchar,                -- the API's words when not read
    run_id       varchar not null        -- ledger.runs.run_id of the repoll run
);
