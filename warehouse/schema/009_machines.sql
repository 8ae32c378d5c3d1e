-- Schema version 9: several collector machines sharing one lake (docs/lake.md).
-- A run and a cursor belong to the machine that made them (`[warehouse] machine`, the host's
-- name by default; NULL on a DuckDB file, which one machine holds): each machine resumes from
-- its own cursors, and marks only its own runs killed after a crash, never a run another
-- machine is still doing. Rows from before this version have NULL: any machine takes them.
alter table ledger.runs add column if not exists machine varchar;
alter table ledger.cursors add column if not exists machine varchar;
