"""Fill norm.* with N synthetic posts straight in SQL, for the models benchmark.

The simulated source (tracker/sources/simulated.py) is pure Python and too slow for 10M posts,
so this writes the normalised tables directly with the same distributions: three platforms
(70% X, 15% Mastodon, 15% Bluesky), a 14-day campaign with a daily rhythm and two bursts,
authors drawn with a heavy head (u^2.2 over N/4 accounts), heavy-tailed follower counts with
two observations per author, 45% reposts / 35% originals / 10% replies / 10% quotes (no
Bluesky reposts), four languages, campaign tags in three spellings plus co-tags, mentions on
20% of posts, one engagement observation per post, links on 30% of posts and a media item on
20% of the posts that are not reposts. Raw pages are NOT written (see
models_bench.py for how raw payload bytes are estimated).
"""

from __future__ import annotations

import duckdb

START = "2016-04-22 00:00:00+00"

_POSTS = """
create or replace temp table bench_posts as
with
ids as (
    select i,
           hash(i * 32 + 1) / 18446744073709551616.0 as u1,
           hash(i * 32 + 2) / 18446744073709551616.0 as u2,
           hash(i * 32 + 3) / 18446744073709551616.0 as u3,
           hash(i * 32 + 4) / 18446744073709551616.0 as u4,
           hash(i * 32 + 5) / 18446744073709551616.0 as u5
    from range($lo, $hi) t(i)
),
shaped as (
    select i,
           case when u1 < 0.70 then 'x' when u1 < 0.85 then 'mastodon' else 'bluesky' end
               as platform,
           floor($authors * pow(u2, 2.2))::bigint as a,
           case when u3 < 0.70 then u4 * 14 * 24
                when u3 < 0.85 then 140 - 10 * ln(1 - u4 * 0.999)
                else 176 - 16 * ln(1 - u4 * 0.999) end as hours,
           u5
    from ids
),
posts as (
    select *, case when platform = 'bluesky'
                   then (case when u5 < 0.75 then 'original' when u5 < 0.88 then 'reply'
                              else 'quote' end)
                   else (case when u5 < 0.45 then 'repost' when u5 < 0.80 then 'original'
                              when u5 < 0.90 then 'reply' else 'quote' end) end as kind,
              greatest(0, i - 1 - floor(pow(hash(i * 32 + 6) / 18446744073709551616.0, 3)
                                        * least(i, 5000)))::bigint as j
    from shaped
)
select platform,
       case platform when 'x' then (1000000000000 + i)::varchar
            when 'mastodon' then 'https://mastodon.social/users/user' || a || '/statuses/' || i
            else 'at://did:plc:sim' || lpad(a::varchar, 8, '0') || '/app.bsky.feed.post/' || i
       end as post_id,
       'https://example.org/' || i as url,
       timestamptz '2016-04-22 00:00:00+00'
           + to_microseconds((least(hours, 335.99) * 3600e6)::bigint) as created_at,
       case platform when 'x' then (1000 + a)::varchar
            when 'mastodon' then 'https://mastodon.social/@user' || a
            else 'did:plc:sim' || lpad(a::varchar, 8, '0') end as author_id,
       ['Hospitals are being bombed in Aleppo. The world must act. #AleppoIsBurning',
        'حلب تحترق. أوقفوا قصف المستشفيات #حلب_تحترق',
        'Halep yanıyor. #AleppoIsBurning', 'Alep brûle. #AleppoIsBurning'][1 + (a % 4)] as text,
       ['en', 'ar', 'tr', 'fr'][1 + (a % 4)] as lang,
       kind,
       case when kind = 'original' then null
            when platform = 'x' then (1000000000000 + j)::varchar
            else 'parent-' || j end as parent_id,
       null::varchar as conversation_id, null::varchar as place, null::varchar as country_code,
       true as synthetic, 'bench' as first_page_id,
       timestamptz '2016-05-06 00:00:00+00' as first_seen_at
from posts
"""

_AUTHORS = """
insert into norm.authors by name
select platform, author_id, handle, 'Synthetic user' as name,
       timestamptz '2016-05-06 00:00:00+00' as last_seen_at,
       author_key(platform, author_id) as author_key, author_key(platform, handle) as handle_key
from (select distinct platform, author_id,
             'user' || regexp_extract(author_id, '(\\d+)$') as handle
      from bench_posts b
      where not exists (select 1 from norm.authors a
                        where a.platform = b.platform and a.author_id = b.author_id))
"""

_OBS = """
insert into norm.author_observations
with
authors as (
    select platform, author_id, hash(author_id || ':7') / 18446744073709551616.0 as u
    from norm.authors
    where not exists (select 1 from norm.author_observations o
                      where o.platform = norm.authors.platform
                        and o.author_id = norm.authors.author_id)
),
base as (
    select *, least(40000000, floor(15 / pow(greatest(u, 1e-7), 0.9)))::bigint as f
    from authors
)
select platform, author_id, timestamptz '2016-04-22 00:00:00+00', f, 100, 1000 from base
union all
select platform, author_id, timestamptz '2016-04-29 00:00:00+00',
       (f * (1 + 0.07 * u))::bigint, 100, 1000 from base
"""

_TAGS = """
create or replace temp table bench_tags as
with
p as (
    select platform, post_id, hash(post_id || ':8') / 18446744073709551616.0 as u,
           hash(post_id || ':9') / 18446744073709551616.0 as v
    from bench_posts
),
tags as (
    select platform, post_id,
           unnest([
               case when u < 0.5 then ['AleppoIsBurning', 'aleppoisburning',
                                       'ALEPPOISBURNING'][1 + floor(v * 3)::int]
                    else 'حلب_تحترق' end,
               case when v < 0.3 then (case when u < 0.5 then 'حلب_تحترق'
                                           else 'AleppoIsBurning' end) end,
               case when hash(post_id || ':10') % 4 = 0 then 'Aleppo' end,
               case when hash(post_id || ':11') % 8 = 0 then 'Syria' end,
               case when hash(post_id || ':12') % 12 = 0 then 'SaveAleppo' end,
               case when hash(post_id || ':13') % 5 = 0 then 'MakeFacebookRed' end,
               case when hash(post_id || ':14') % 20 = 0 then 'StopBombingHospitals' end
           ]) as tag_text
    from p
)
select distinct on (platform, post_id, lower(tag_text)) platform, post_id,
       lower(tag_text) as tag, tag_text
from tags where tag_text is not null
"""

_REST = """
-- by name: the columns of later schema versions (edits, links) stay null
insert into norm.posts by name select *, true as matched from bench_posts;

insert into norm.post_hashtags
select * from bench_tags;

insert into norm.post_mentions
select platform, post_id, 'user' || (hash(post_id || ':15') % 1000)
from bench_posts where hash(post_id || ':16') % 5 = 0;

insert into norm.campaign_posts
select distinct 'aleppo', platform, post_id from bench_tags
where tag in ('aleppoisburning', 'حلب_تحترق')
union all
select 'red', platform, post_id from bench_tags where tag = 'makefacebookred';

insert into norm.engagement_observations
select platform, post_id, created_at + interval 1 minute,
       floor(pow(u, 2) * 60)::bigint, floor(pow(u, 3) * 30)::bigint,
       floor(pow(u, 4) * 12)::bigint, floor(pow(u, 5) * 6)::bigint,
       case when platform = 'x' then floor(u * 5000)::bigint end
from (select *, hash(post_id || ':17') / 18446744073709551616.0 as u from bench_posts)
where kind <> 'repost';

-- links on 30% of posts (a heavy head over N/100 articles on 200 domains) and one media item
-- on 20% of the posts that are not reposts (a quarter from 1,000 images passed around)
insert into norm.post_urls
select platform, post_id, 1, 'https://t.co/' || post_id, url, url,
       'site' || (k % 200) || '.example', 'entity'
from (select platform, post_id,
             floor($authors / 25 * pow(hash(post_id || ':18') / 18446744073709551616.0, 2.5))
                 ::bigint as k
      from bench_posts where hash(post_id || ':19') % 10 < 3) l,
     lateral (select 'https://site' || (l.k % 200) || '.example/story/' || l.k as url);

insert into norm.post_media
select platform, post_id, 1, 'm' || post_id, 'photo',
       case when hash(post_id || ':21') % 4 = 0
            then 'https://media.example/shared/' || (hash(post_id || ':22') % 1000) || '.jpg'
            else 'https://media.example/' || hash(post_id) || '.jpg' end, null, null
from bench_posts where kind <> 'repost' and hash(post_id || ':20') % 5 = 0;
"""


def add_posts(con: duckdb.DuckDBPyConnection, lo: int, hi: int, authors: int) -> None:
    """Insert posts lo..hi-1 and everything that hangs off them, in one transaction."""
    con.execute("begin transaction")
    con.execute(_POSTS.replace("$lo", str(lo)).replace("$hi", str(hi))
                .replace("$authors", str(authors)))
    con.execute(_AUTHORS)
    con.execute(_OBS)
    con.execute(_TAGS)
    con.execute(_REST.replace("$authors", str(authors)))
    con.execute("commit")
