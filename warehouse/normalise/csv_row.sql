-- One CSV row per record: {columns: {...as exported...}, fields: {...}}. The importer maps
-- the columns to fields (Facebook preset or a [csv_mappings.NAME] table) and finds the
-- hashtags in the text, so this file reads `fields` only. Followers are the count at posting
-- (observed at created_at); reactions/comments/shares as exported (observed at retrieved_at).
create or replace temp table c_rows as
select page_id, retrieved_at, synthetic, payload->'fields' as f,
       (payload->>'$.fields.created_at')::timestamptz as created
from batch
where payload->>'$.fields.post_id' is not null;

insert into n_posts
select f->>'platform', f->>'post_id', coalesce(f->>'url', f->>'link'), created,
       coalesce(f->>'author_id', f->>'handle', f->>'author_name'), f->>'text', f->>'lang',
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
select f->>'platform', coalesce(f->>'author_id', f->>'handle', f->>'author_name'), f->>'handle',
       f->>'author_name', null, null, created
from c_rows
where coalesce(f->>'author_id', f->>'handle', f->>'author_name') is not null;

insert into n_author_obs
select f->>'platform', coalesce(f->>'author_id', f->>'handle', f->>'author_name'), created,
       (f->>'followers')::bigint, null, null
from c_rows
where coalesce(f->>'author_id', f->>'handle', f->>'author_name') is not null
  and (f->>'followers') is not null;

-- Links: the export's link column (the link the post shares), when it is not the post's own
-- url.
insert into n_urls
select f->>'platform', f->>'post_id', 1, f->>'link', f->>'link', 'csv'
from c_rows
where nullif(trim(f->>'link'), '') is not null and (f->>'link') is distinct from (f->>'url');
