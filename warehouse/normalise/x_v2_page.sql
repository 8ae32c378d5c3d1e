-- X API v2 response page: {data: [tweet] | tweet, includes: {users, tweets, places}, meta}
-- (search/recent, search/all, twarc2 output lines, streaming lines with data as one object).
create or replace temp table x_tweets as
with
pages as (
    select page_id, retrieved_at, synthetic, payload from batch
),
primary_tweets as (
    select page_id, retrieved_at, synthetic,
           unnest(case json_type(payload, '$.data')
                      when 'ARRAY' then json_extract(payload, '$.data[*]')
                      when 'OBJECT' then [json_extract(payload, '$.data')]
                      else []::json[] end) as t
    from pages
),
included_tweets as (
    select page_id, retrieved_at, synthetic,
           unnest(json_extract(payload, '$.includes.tweets[*]')) as t
    from pages
),
places as (
    select distinct on (place_id) p->>'id' as place_id, p->>'full_name' as full_name,
           p->>'country_code' as country_code
    from (select unnest(json_extract(payload, '$.includes.places[*]')) as p from pages)
)
select t.page_id, t.retrieved_at, t.synthetic, t.t, places.full_name, places.country_code
from (select * from primary_tweets union all select * from included_tweets) t
left join places on places.place_id = (t.t->>'$.geo.place_id')
where t.t->>'id' is not null;

insert into n_posts
select
    'x', t->>'id',
    'https://x.com/i/web/status/' || (t->>'id'),
    (t->>'created_at')::timestamptz,
    t->>'author_id',
    coalesce(t->>'$.note_tweet.text', t->>'text'),
    t->>'lang',
    case
        when list_contains(refs, 'retweeted') then 'repost'
        when list_contains(refs, 'quoted') then 'quote'
        when list_contains(refs, 'replied_to') then 'reply'
        else 'original' end,
    coalesce(
        list_filter(json_extract(t, '$.referenced_tweets[*]'), lambda r: r->>'type' = 'retweeted')[1],
        list_filter(json_extract(t, '$.referenced_tweets[*]'), lambda r: r->>'type' = 'quoted')[1],
        list_filter(json_extract(t, '$.referenced_tweets[*]'), lambda r: r->>'type' = 'replied_to')[1]
    )->>'id',
    t->>'conversation_id',
    full_name, country_code, synthetic, page_id, retrieved_at
from (select *, json_extract_string(t, '$.referenced_tweets[*].type') as refs from x_tweets);

insert into n_hashtags
select 'x', t->>'id', unnest(json_extract_string(t, '$.entities.hashtags[*].tag'))
from x_tweets;

insert into n_mentions
select 'x', t->>'id', lower(unnest(json_extract_string(t, '$.entities.mentions[*].username')))
from x_tweets;

insert into n_engagement
select 'x', t->>'id', retrieved_at,
       (t->>'$.public_metrics.like_count')::bigint,
       (t->>'$.public_metrics.retweet_count')::bigint,
       (t->>'$.public_metrics.reply_count')::bigint,
       (t->>'$.public_metrics.quote_count')::bigint,
       (t->>'$.public_metrics.impression_count')::bigint
from x_tweets
where json_exists(t, '$.public_metrics');

create or replace temp table x_users as
select retrieved_at, unnest(json_extract(payload, '$.includes.users[*]')) as u from batch;

insert into n_authors
select 'x', u->>'id', u->>'username', u->>'name', (u->>'created_at')::timestamptz,
       (u->>'verified')::boolean, retrieved_at
from x_users where u->>'id' is not null;

insert into n_author_obs
select 'x', u->>'id', retrieved_at,
       (u->>'$.public_metrics.followers_count')::bigint,
       (u->>'$.public_metrics.following_count')::bigint,
       (u->>'$.public_metrics.tweet_count')::bigint
from x_users where u->>'id' is not null and json_exists(u, '$.public_metrics');
