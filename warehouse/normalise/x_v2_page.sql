-- X API v2 response page: {data: [tweet] | tweet, includes: {users, tweets, places}, meta}
-- (search/recent, search/all, twarc2 output lines, streaming lines with data as one object).
-- Each page is parsed once, into a struct (json_transform); later statements read fields.
-- Tweets in `data` are the results (matched); tweets in includes.tweets only explain them
-- (retweeted, quoted, replied to: context). An edited tweet is one post, keyed by the first
-- id of its edit_history_tweet_ids; each version keeps its own tweet id as version_id.
create or replace temp macro x_tweet_type() as '{"id": "VARCHAR", "text": "VARCHAR",
    "note_tweet": {"text": "VARCHAR"}, "author_id": "VARCHAR",
    "created_at": "TIMESTAMPTZ", "lang": "VARCHAR", "conversation_id": "VARCHAR",
    "geo": {"place_id": "VARCHAR"},
    "referenced_tweets": [{"type": "VARCHAR", "id": "VARCHAR"}],
    "edit_history_tweet_ids": ["VARCHAR"],
    "entities": {"hashtags": [{"tag": "VARCHAR"}], "mentions": [{"username": "VARCHAR"}]},
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
           "country_code": "VARCHAR"}]}}') as p
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
select 'x', post_id, unnest(list_transform(t.entities.hashtags, lambda h: h.tag)) from x_tweets;

insert into n_mentions
select 'x', post_id, lower(unnest(list_transform(t.entities.mentions, lambda m: m.username)))
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
