-- X API v2 response page: {data: [tweet] | tweet, includes: {users, tweets, places}, meta}
-- (search/recent, search/all, twarc2 output lines, streaming lines with data as one object).
-- Each page is parsed once, into a struct (json_transform); later statements read fields.
-- Tweets in `data` are the results (matched); tweets in includes.tweets only explain them
-- (retweeted, quoted, replied to: context). An edited tweet is one post, keyed by the first
-- id of its edit_history_tweet_ids; each version keeps its own tweet id as version_id.
-- A long post (note_tweet) has its full text and that text's entities in note_tweet; its
-- top-level text and entities are only the first 280 characters. Its hashtags, mentions and
-- links are read from note_tweet.entities when given, else from entities (x_tweets.ent).
create or replace temp macro x_entities_type() as '{"hashtags": [{"tag": "VARCHAR"}],
    "mentions": [{"username": "VARCHAR"}],
    "urls": [{"url": "VARCHAR", "expanded_url": "VARCHAR", "media_key": "VARCHAR"}]}';
create or replace temp macro x_tweet_type() as '{"id": "VARCHAR", "text": "VARCHAR",
    "note_tweet": {"text": "VARCHAR", "entities": ' || x_entities_type() || '},
    "author_id": "VARCHAR",
    "created_at": "TIMESTAMPTZ", "lang": "VARCHAR", "conversation_id": "VARCHAR",
    "geo": {"place_id": "VARCHAR"},
    "referenced_tweets": [{"type": "VARCHAR", "id": "VARCHAR"}],
    "edit_history_tweet_ids": ["VARCHAR"],
    "entities": ' || x_entities_type() || ',
    "attachments": {"media_keys": ["VARCHAR"]},
    "public_metrics": {"like_count": "BIGINT", "retweet_count": "BIGINT",
                       "reply_count": "BIGINT", "quote_count": "BIGINT",
                       "impression_count": "BIGINT"}}';

-- payload is kept only for pages whose `data` is not a list (streaming output, below)
create or replace temp table x_pages as
select page_id, retrieved_at, synthetic, case when p.data is null then payload end as payload, p
from (select page_id, retrieved_at, synthetic, payload,
       json_transform(payload, '{"data": [' || x_tweet_type() || '], "includes": {"tweets": ['
           || x_tweet_type() || '], "users": [{"id": "VARCHAR", "username": "VARCHAR",
           "name": "VARCHAR", "created_at": "TIMESTAMPTZ", "verified": "BOOLEAN",
           "public_metrics": {"followers_count": "BIGINT", "following_count": "BIGINT",
           "tweet_count": "BIGINT"}}], "places": [{"id": "VARCHAR", "full_name": "VARCHAR",
           "country_code": "VARCHAR"}], "media": [{"media_key": "VARCHAR", "type": "VARCHAR",
           "url": "VARCHAR", "preview_image_url": "VARCHAR", "alt_text": "VARCHAR",
           "variants": [{"bit_rate": "BIGINT", "content_type": "VARCHAR", "url": "VARCHAR"}]}]}}')
           as p
      from batch);

create or replace temp table x_tweets as
with
results as (
    select page_id, retrieved_at, synthetic,
           unnest(case
               when p.data is not null then p.data
               -- streaming output: `data` is one tweet (only these pages are parsed again)
               when json_type(payload, '$.data') = 'OBJECT'
                   then [json_transform(json_extract(payload, '$.data'), x_tweet_type())]
               else [] end) as t
    from x_pages
),
context as (
    select page_id, retrieved_at, synthetic, unnest(p.includes.tweets) as t
    from x_pages
),
tweets as (
    select *, true as matched from results
    union all
    select *, false as matched from context
),
places as (
    select distinct on (place_id) pl.id as place_id, pl.full_name, pl.country_code
    from (select unnest(p.includes.places) as pl from x_pages)
    order by place_id, pl.full_name, pl.country_code
)
select tweets.page_id, tweets.retrieved_at, tweets.synthetic, tweets.t, tweets.matched,
       coalesce(tweets.t.edit_history_tweet_ids[1], tweets.t.id) as post_id,
       coalesce(tweets.t.note_tweet.entities, tweets.t.entities) as ent,
       places.full_name, places.country_code
from tweets
left join places on places.place_id = tweets.t.geo.place_id
where tweets.t.id is not null;

insert into n_posts
select
    'x', post_id, 'https://x.com/i/web/status/' || post_id, t.created_at, t.author_id,
    coalesce(t.note_tweet.text, t.text), t.lang,
    case
        when list_contains(refs, 'retweeted') then 'repost'
        when list_contains(refs, 'quoted') then 'quote'
        when list_contains(refs, 'replied_to') then 'reply'
        else 'original' end,
    coalesce(
        list_filter(t.referenced_tweets, lambda r: r.type = 'retweeted')[1].id,
        list_filter(t.referenced_tweets, lambda r: r.type = 'quoted')[1].id,
        list_filter(t.referenced_tweets, lambda r: r.type = 'replied_to')[1].id),
    t.conversation_id, full_name, country_code, synthetic, page_id, retrieved_at,
    matched,
    list_filter(t.referenced_tweets, lambda r: r.type = 'replied_to')[1].id,
    list_filter(t.referenced_tweets, lambda r: r.type = 'quoted')[1].id,
    case when t.id <> post_id then t.created_at end,
    t.id
from (select *, list_transform(t.referenced_tweets, lambda r: r.type) as refs from x_tweets);

insert into n_hashtags
select 'x', post_id, unnest(list_transform(ent.hashtags, lambda h: h.tag)) from x_tweets;

insert into n_mentions
select 'x', post_id, lower(unnest(list_transform(ent.mentions, lambda m: m.username)))
from x_tweets;

insert into n_engagement
select 'x', post_id, retrieved_at, t.public_metrics.like_count, t.public_metrics.retweet_count,
       t.public_metrics.reply_count, t.public_metrics.quote_count,
       t.public_metrics.impression_count
from x_tweets
where t.public_metrics is not null;

create or replace temp table x_users as
select retrieved_at, unnest(p.includes.users) as u from x_pages;

insert into n_authors
select 'x', u.id, u.username, u.name, u.created_at, u.verified, retrieved_at
from x_users where u.id is not null;

insert into n_author_obs
select 'x', u.id, retrieved_at, u.public_metrics.followers_count,
       u.public_metrics.following_count, u.public_metrics.tweet_count
from x_users where u.id is not null and u.public_metrics is not null;

-- Links: entities.urls (a long post's note_tweet.entities.urls), except those standing for
-- an attached media item (they carry a media_key; the item is in n_media).
insert into n_urls
select 'x', post_id, position, u.url, coalesce(u.expanded_url, u.url), 'entity'
from (select post_id, unnest(ent.urls) as u, generate_subscripts(ent.urls, 1) as position
      from x_tweets)
where u.media_key is null and coalesce(u.url, u.expanded_url) is not null;

-- Media: attachments.media_keys, described in the page's includes.media. A video's url is
-- its mp4 variant with the highest bit rate.
create or replace temp table x_media as
select distinct on (page_id, m.media_key) page_id, m
from (select page_id, unnest(p.includes.media) as m from x_pages)
where m.media_key is not null
order by page_id, m.media_key, m.url, m.type;

insert into n_media
select 'x', k.post_id, k.position, k.media_key,
       case m.m.type when 'animated_gif' then 'gif' when 'photo' then 'photo'
                     when 'video' then 'video' else 'unknown' end,
       coalesce(m.m.url, list_reverse_sort(list_transform(
           list_filter(m.m.variants, lambda v: v.content_type = 'video/mp4'),
           lambda v: {'bit_rate': coalesce(v.bit_rate, 0), 'url': v.url}))[1].url),
       m.m.preview_image_url, m.m.alt_text
from (select page_id, post_id, unnest(t.attachments.media_keys) as media_key,
             generate_subscripts(t.attachments.media_keys, 1) as position
      from x_tweets) k
left join x_media m on m.page_id = k.page_id and m.m.media_key = k.media_key;
