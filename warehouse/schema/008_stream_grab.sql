-- Schema version 8: resuming a large import (Twitter Stream Grab tars, zips) member by member.
-- One row per container member an import read to its end, written in the transaction that
-- stores the member's last records: an import run again after one that did not finish passes
-- over these members (a killed import resumes after the last committed member; nothing is
-- read or counted twice). When an import finishes, its inputs' rows become `read`: importing
-- the same archive again later (new campaigns, --allow-forgotten) reads it all again.
-- The scan counts are those of the campaign filter (tracker/importers/streamgrab.py); NULL
-- when the member was read whole, without the filter.
create table if not exists ledger.import_members (
    input_id  varchar not null,     -- the input: "<file name>:<size>:<sha256 of its first MiB, 16 hex>"
    member    varchar not null,     -- the member's path inside the tar or zip
    status    varchar not null,     -- done (passed over by the next import: it resumes a run
                                    -- that did not finish), read (that import finished)
    run_id    varchar not null,     -- ledger.runs.run_id of the import that read it
    records   bigint not null,      -- records read from it (stored, filtered in, or bad)
    lines     bigint,               -- lines scanned
    statuses  bigint,               -- lines that are statuses (not notices, not blank)
    deletes   bigint,               -- {"delete": ...} notices
    other     bigint,               -- other notices ({"limit": ...}, ...) and blank lines
    matched   bigint,               -- statuses carrying a campaign tag (stored)
    done_at   timestamptz not null
);
