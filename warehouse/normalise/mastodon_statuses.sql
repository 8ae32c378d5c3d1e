-- Mastodon statuses: a JSON array as the API returns it (or one status object).
-- A status is identified by its `uri`, the same on every instance; a reblog wrapper is a
-- repost whose parent is the reblogged status's uri, and the reblogged status is kept too.
create or replace temp table m_statuses as
with
items as (
    select page_id, retrieved_at, synthetic,
           unnest(case json_type(payload)
                      when 'ARRAY' then json_extract(payload, '$[*]')
                      when 'OBJECT' then [payload::json]
                      else []::json[] end) as s
    from batch
)
select page_id, retrieved_at, synthetic, s, true as matched from items
union all
select page_id, retrieved_at, synthetic, s->'reblog', false from items
where json_type(s, '$.reblog') = 'OBJECT';

insert into n_posts
select
    'mastodon', s->>'uri', coalesce(s->>'url', s->>'uri'),
    (s->>'created_at')::timestamptz,
    s->>'$.account.url',
    trim(replace(replace(replace(replace(replace(replace(
        regexp_replace(regexp_replace(s->>'content', '<br\s*/?>|</p><p>', ' ', 'g'), '<[^>]+>', '', 'g'),
        '&quot;', '"'), '&#39;', ''''), '&lt;', '<'), '&gt;', '>'), '&nbsp;', ' '), '&amp;', '&')),
    s->>'language',
    case
        when json_type(s, '$.reblog') = 'OBJECT' then 'repost'
        when json_type(s, '$.quote.quoted_status') = 'OBJECT' then 'quote'
        when s->>'in_reply_to_id' is not null then 'reply'
        else 'original' end,
    case
        when json_type(s, '$.reblog') = 'OBJECT' then s->>'$.reblog.uri'
        when json_type(s, '$.quote.quoted_status') = 'OBJECT' then s->>'$.quote.quoted_status.uri'
        else null end,
    null, null, null, synthetic, page_id, retrieved_at, matched,
    null,  -- in_reply_to_id is the reading instance's local id, not a uri
    case when json_type(s, '$.quote.quoted_status') = 'OBJECT' then s->>'$.quote.quoted_status.uri' end,
    (s->>'edited_at')::timestamptz, null
from m_statuses where s->>'uri' is not null;

insert into n_hashtags
select 'mastodon', s->>'uri', unnest(json_extract_string(s, '$.tags[*].name'))
from m_statuses where s->>'uri' is not null;

insert into n_mentions
select 'mastodon', s->>'uri', lower(unnest(json_extract_string(s, '$.mentions[*].acct')))
from m_statuses where s->>'uri' is not null;

insert into n_engagement
select 'mastodon', s->>'uri', retrieved_at,
       (s->>'favourites_count')::bigint, (s->>'reblogs_count')::bigint,
       (s->>'replies_count')::bigint, (s->>'quotes_count')::bigint, null
from m_statuses where s->>'uri' is not null;

insert into n_authors
select 'mastodon', s->>'$.account.url', s->>'$.account.acct', s->>'$.account.display_name',
       (s->>'$.account.created_at')::timestamptz, null, retrieved_at
from m_statuses where s->>'$.account.url' is not null;

insert into n_author_obs
select 'mastodon', s->>'$.account.url', retrieved_at,
       (s->>'$.account.followers_count')::bigint, (s->>'$.account.following_count')::bigint,
       (s->>'$.account.statuses_count')::bigint
from m_statuses where s->>'$.account.url' is not null;
