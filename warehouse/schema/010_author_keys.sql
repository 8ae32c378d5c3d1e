-- Schema version 10: numeric keys of each author's id and handle (tracker/store/keys.py), so
-- that the marts find their leading accounts' handles without comparing every author's text.
-- The rows stored before this version get their keys in the same transaction.
alter table norm.authors add column if not exists author_key uinteger;
alter table norm.authors add column if not exists handle_key uinteger;
