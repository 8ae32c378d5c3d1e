-- One CSV row per record: {columns: {...as exported...}, fields: {...}}. The importer maps
-- the columns to fields (Facebook preset or a [csv_mappings.NAME] table) and finds the
-- hashtags in the text, so this file reads `fields` only. Followers are the count at posting
-- (observed at created_at); reactions/comments/shares as exported (observed at retrieved_at).
-- An empty cell is no value: a row whose account cells are empty has no known author (not an
-- author named ''), an empty language cell no known language.
create or replace temp table c_rows as
select page_id, retrieved_at, synthetic, f, created,
       coalesce(author_id, handle, author_name) as author, handle, author_name,
       coalesce(url, link) as post_url, url, link, lang
from (
    select page_id, retrieved_at, synthetic, payload->'fields' as f,
           (payload->>'$.fields.created_at')::timestamptz as created,
           nullif(trim(payload->>'$.fields.author_id'), '') as author_id,
           nullif(trim(payload->>'$.fields.handle'), '') as handle,
           nullif(trim(payload->>'$.fields.author_name'), '') as author_name,
           nullif(trim(payload->>'$.fields.url'), '') as url,
           nullif(trim(payload->>'$.fields.link'), '') as link,
           nullif(trim(payload->>'$.fields.lang'), '') as lang
    from batch
    where payload->>'$.fields.post_id' is not null
);

insert into n_posts
select f->>'platform', f->>'post_id', post_url, created, author, f->>'text', lang,
       'original', null, null, null, null, synthetic, page_id, retrieved_at, true,
       null, null, null, null
from c_rows;

insert into n_hashtags
select f->>'platform', f->>'post_id', unnest(json_extract_string(f, '$.hashtags[*]'))
from c_rows;

insert into n_engagement
select f->>'platform', f->>'post_id', retrieved_at, (f->>'reactions')::bigint,
       (f->>'shares')::bigint, (f->>'comments')::bigint, null, (f->>'views')::bigint
from c_rows
where coalesce(f->>'reactions', f->>'shares', f->>'comments', f->>'views') is not null;

insert into n_authors
select f->>'platform', author, handle, author_name, null, null, created
from c_rows
where author is not null;

insert into n_author_obs
select f->>'platform', author, created, (f->>'followers')::bigint, null, null
from c_rows
where author is not null and (f->>'followers') is not null;

-- Links: the export's link column (the link the post shares), when it is not the post's own
-- url.
insert into n_urls
select f->>'platform', f->>'post_id', 1, link, link, 'csv'
from c_rows
where link is not null and link is distinct from url;
