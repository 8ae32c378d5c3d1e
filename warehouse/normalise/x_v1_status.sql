-- X API v1.1 statuses (2016-era archives): one status per record, or a search response
-- {statuses: [...]}. A retweet's retweeted_status and a quote's quoted_status are posts too.
-- Dates look like 'Fri Apr 29 10:00:00 +0000 2016'. Followers are observed at the tweet's
-- created_at (the user object is a snapshot taken when the tweet was served).
-- The statuses of the record are the results (matched); the retweeted and quoted statuses they
-- carry only explain them (context).
-- Engagement counts are observed when the status was delivered: a streamed status's
-- `timestamp_ms` (the streaming API's delivery time), for it and the statuses it embeds;
-- else the page's retrieved_at (a file's modification time).
create or replace temp table v1_top as
select page_id, retrieved_at, synthetic,
       unnest(case
                  when json_type(payload, '$.statuses') = 'ARRAY' then json_extract(payload, '$.statuses[*]')
                  when json_type(payload) = 'OBJECT' then [payload::json]
                  else []::json[] end) as s
from batch;

create or replace temp table v1_statuses as
with
top as (
    select *, coalesce(case when ms between 1000000000000 and 9999999999999
                            then to_timestamp(ms / 1000.0) end, retrieved_at) as observed_at
    from (select *, try_cast(s->>'timestamp_ms' as bigint) as ms from v1_top)
),
nested as (
    select page_id, retrieved_at, observed_at, synthetic, s, true as matched from top
    union all
    select page_id, retrieved_at, observed_at, synthetic, s->'retweeted_status', false from top
    where json_type(s, '$.retweeted_status') = 'OBJECT'
    union all
    select page_id, retrieved_at, observed_at, synthetic, s->'quoted_status', false from top
    where json_type(s, '$.quoted_status') = 'OBJECT'
    union all
    select page_id, retrieved_at, observed_at, synthetic, s->'$.retweeted_status.quoted_status',
           false
    from top
    where json_type(s, '$.retweeted_status.quoted_status') = 'OBJECT'
)
select page_id, retrieved_at, observed_at, synthetic, s, matched,
       coalesce(s->>'id_str', s->>'id') as id,
       coalesce(try_strptime(s->>'created_at', '%a %b %d %H:%M:%S %z %Y'),
                try_cast(s->>'created_at' as timestamptz)) as created,
       coalesce(s->'$.extended_tweet.entities', s->'entities') as ents
from nested
where coalesce(s->>'id_str', s->>'id') is not null;

insert into n_posts
select
    'x', id,
    'https://x.com/' || coalesce(s->>'$.user.screen_name', 'i/web') || '/status/' || id,
    created,
    coalesce(s->>'$.user.id_str', s->>'$.user.id'),
    coalesce(s->>'$.extended_tweet.full_text', s->>'full_text', s->>'text'),
    s->>'lang',
    case
        when json_type(s, '$.retweeted_status') = 'OBJECT' then 'repost'
        when coalesce(s->>'quoted_status_id_str', s->>'$.quoted_status.id_str') is not null
            then 'quote'
        when coalesce(s->>'in_reply_to_status_id_str', s->>'in_reply_to_status_id') is not null
            then 'reply'
        else 'original' end,
    coalesce(s->>'$.retweeted_status.id_str', s->>'quoted_status_id_str',
             s->>'$.quoted_status.id_str', s->>'in_reply_to_status_id_str',
             s->>'in_reply_to_status_id'),
    null,
    s->>'$.place.full_name', s->>'$.place.country_code',
    synthetic, page_id, retrieved_at, matched,
    coalesce(s->>'in_reply_to_status_id_str', s->>'in_reply_to_status_id'),
    case when json_type(s, '$.retweeted_status') = 'OBJECT' then null
         else coalesce(s->>'quoted_status_id_str', s->>'$.quoted_status.id_str') end,
    null, id
from v1_statuses;

insert into n_hashtags
select 'x', id, unnest(json_extract_string(ents, '$.hashtags[*].text'))
from v1_statuses;

insert into n_mentions
select 'x', id, lower(unnest(json_extract_string(ents, '$.user_mentions[*].screen_name')))
from v1_statuses;

insert into n_engagement
select 'x', id, observed_at,
       (s->>'favorite_count')::bigint, (s->>'retweet_count')::bigint,
       (s->>'reply_count')::bigint, (s->>'quote_count')::bigint, null
from v1_statuses
where (s->>'favorite_count') is not null or (s->>'retweet_count') is not null;

insert into n_authors
select 'x', coalesce(s->>'$.user.id_str', s->>'$.user.id'), s->>'$.user.screen_name',
       s->>'$.user.name',
       try_strptime(s->>'$.user.created_at', '%a %b %d %H:%M:%S %z %Y'),
       (s->>'$.user.verified')::boolean, created
from v1_statuses
where coalesce(s->>'$.user.id_str', s->>'$.user.id') is not null;

insert into n_author_obs
select 'x', coalesce(s->>'$.user.id_str', s->>'$.user.id'), created,
       (s->>'$.user.followers_count')::bigint, (s->>'$.user.friends_count')::bigint,
       (s->>'$.user.statuses_count')::bigint
from v1_statuses
where coalesce(s->>'$.user.id_str', s->>'$.user.id') is not null and created is not null;

-- Links: entities.urls (media links are in entities.media, not here).
insert into n_urls
select 'x', id, position, u->>'url', coalesce(u->>'expanded_url', u->>'url'), 'entity'
from (select id, unnest(json_extract(ents, '$.urls[*]')) as u,
             generate_subscripts(json_extract(ents, '$.urls[*]'), 1) as position
      from v1_statuses)
where coalesce(u->>'url', u->>'expanded_url') is not null;

-- Media: extended_entities.media (every item; entities.media holds only the first).
insert into n_media
select 'x', id, position, coalesce(m->>'id_str', m->>'id'),
       case m->>'type' when 'animated_gif' then 'gif' when 'photo' then 'photo'
                       when 'video' then 'video' else 'unknown' end,
       case when m->>'type' in ('video', 'animated_gif')
            then coalesce(list_reverse_sort(list_transform(
                     list_filter(json_extract(m, '$.video_info.variants[*]'),
                                 lambda v: (v->>'content_type') = 'video/mp4'),
                     lambda v: {'bit_rate': coalesce((v->>'bitrate')::bigint, 0),
                           'url': v->>'url'}))[1].url,
                          m->>'media_url_https', m->>'media_url')
            else coalesce(m->>'media_url_https', m->>'media_url') end,
       case when m->>'type' in ('video', 'animated_gif')
            then coalesce(m->>'media_url_https', m->>'media_url') end,
       m->>'ext_alt_text'
from (select id, unnest(json_extract(media, '$[*]')) as m,
             generate_subscripts(json_extract(media, '$[*]'), 1) as position
      from (select id, coalesce(s->'$.extended_tweet.extended_entities.media',
                                s->'$.extended_entities.media', ents->'media') as media
            from v1_statuses)
      where json_type(media) = 'ARRAY');
