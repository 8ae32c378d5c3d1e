-- Bluesky post views, from the responses of app.bsky.feed:
--   {posts: [...]}  searchPosts, getPosts, getQuotes: each post is a result (matched);
--   {feed: [{post, reason?, reply?}]}  getAuthorFeed, getTimeline, getFeed, getListFeed: each
--       item's post is a result; the reply.parent / reply.root views explain it (context); an
--       item whose reason is a reasonRepost is a repost by reason.by (matched), and its post,
--       someone else's, is context;
--   {thread: {post, parent?, replies?}}  getPostThread: the anchor is the result, its parents
--       and (nested) replies context;
--   or one post view per record (matched).
-- A quote's embedded record (embed.record, or embed.record.record in recordWithMedia) is a
-- context post too, one level deep. Follower counts come separately (bluesky_profiles).
-- Hashtags: tag facets, record.tags, and `#tags` in the text by Bluesky's rule (docs/import.md).
-- the items of feed responses, read once for their posts and their reposts
create or replace temp table b_items as
select page_id, retrieved_at, synthetic, unnest(json_extract(payload, '$.feed[*]')) as item
from batch where json_type(payload, '$.feed') = 'ARRAY';

create or replace temp table b_views as
with recursive
items as (
    select * from b_items
),
parents (page_id, retrieved_at, synthetic, node) as (
    select page_id, retrieved_at, synthetic, payload->'$.thread.parent' from batch
    where json_type(payload, '$.thread.parent') = 'OBJECT'
    union all
    select page_id, retrieved_at, synthetic, node->'parent' from parents
    where json_type(node, '$.parent') = 'OBJECT'
),
replies (page_id, retrieved_at, synthetic, node) as (
    select page_id, retrieved_at, synthetic, unnest(json_extract(payload, '$.thread.replies[*]'))
    from batch where json_type(payload, '$.thread.replies') = 'ARRAY'
    union all
    select page_id, retrieved_at, synthetic, unnest(json_extract(node, '$.replies[*]'))
    from replies where json_type(node, '$.replies') = 'ARRAY'
),
views as (
    select page_id, retrieved_at, synthetic, unnest(json_extract(payload, '$.posts[*]')) as p,
           true as matched
    from batch where json_type(payload, '$.posts') = 'ARRAY'
    union all
    select page_id, retrieved_at, synthetic, payload::json, true from batch
    where json_type(payload) = 'OBJECT' and json_type(payload, '$.record') = 'OBJECT'
      and (payload->>'uri') is not null
    union all
    -- a reposted post is delivered because the feed's account reposted it: context, as X's
    -- retweeted tweet in includes.tweets (the repost itself is matched, below)
    select page_id, retrieved_at, synthetic, item->'post',
           (item->>'$.reason.$type') is distinct from 'app.bsky.feed.defs#reasonRepost'
    from items
    union all
    select page_id, retrieved_at, synthetic, item->'$.reply.parent', false from items
    where json_type(item, '$.reply.parent.record') = 'OBJECT'
    union all
    select page_id, retrieved_at, synthetic, item->'$.reply.root', false from items
    where json_type(item, '$.reply.root.record') = 'OBJECT'
    union all
    select page_id, retrieved_at, synthetic, payload->'$.thread.post', true from batch
    where json_type(payload, '$.thread.post') = 'OBJECT'
    union all
    select page_id, retrieved_at, synthetic, node->'post', false from parents
    where json_type(node, '$.post') = 'OBJECT'
    union all
    select page_id, retrieved_at, synthetic, node->'post', false from replies
    where json_type(node, '$.post') = 'OBJECT'
),
with_record as (
    select page_id, retrieved_at, synthetic, p, p->'record' as rec, matched from views
    where (p->>'uri') is not null
),
-- a record view embedded in a post view: viewRecord {uri, author, value, counts}
embedded as (
    select page_id, retrieved_at, synthetic,
           case when json_type(p, '$.embed.record.value') = 'OBJECT' then p->'$.embed.record'
                else p->'$.embed.record.record' end as e
    from with_record
    where json_type(p, '$.embed.record.value') = 'OBJECT'
       or json_type(p, '$.embed.record.record.value') = 'OBJECT'
)
select *, p->>'uri' as uri, rec->>'text' as text from with_record
union all
select page_id, retrieved_at, synthetic, e, e->'value', false, e->>'uri', e->>'$.value.text'
from embedded
where (e->>'uri') like 'at://%/app.bsky.feed.post/%';

insert into n_posts
select
    'bluesky', uri,
    'https://bsky.app/profile/' || (p->>'$.author.handle') || '/post/'
        || regexp_extract(uri, '[^/]+$'),
    coalesce(try_cast(rec->>'createdAt' as timestamptz), (p->>'indexedAt')::timestamptz),
    p->>'$.author.did',
    text,
    json_extract_string(rec, '$.langs[0]'),
    case
        when rec->>'$.embed.$type' in ('app.bsky.embed.record', 'app.bsky.embed.recordWithMedia')
            then 'quote'
        when rec->>'$.reply.parent.uri' is not null then 'reply'
        else 'original' end,
    coalesce(rec->>'$.embed.record.uri', rec->>'$.embed.record.record.uri',
             rec->>'$.reply.parent.uri'),
    rec->>'$.reply.root.uri',
    null, null, synthetic, page_id, retrieved_at, matched,
    rec->>'$.reply.parent.uri',
    coalesce(rec->>'$.embed.record.uri', rec->>'$.embed.record.record.uri'),
    null, null
from b_views;

-- A repost in a feed (reason: reasonRepost) has no record of its own in the response (newer
-- servers add reason.uri): its key is made up from the reposting account and the reposted
-- post, at://<reposter did>/app.bsky.feed.repost/<post author did>:<post rkey> (a real rkey
-- never holds ':'), so every copy of the feed, old or new, stores it once.
create or replace temp table b_reposts as
select page_id, retrieved_at, synthetic, item->'$.reason.by' as reposter,
       item->>'$.post.uri' as subject, item->>'$.post.author.handle' as subject_handle,
       (item->>'$.reason.indexedAt')::timestamptz as reposted_at
from b_items
where item->>'$.reason.$type' = 'app.bsky.feed.defs#reasonRepost'
  and (item->>'$.reason.by.did') is not null and (item->>'$.post.uri') is not null;

insert into n_posts
select
    'bluesky',
    'at://' || (reposter->>'did') || '/app.bsky.feed.repost/'
        || regexp_extract(subject, '^at://([^/]+)/', 1) || ':' || regexp_extract(subject, '[^/]+$'),
    'https://bsky.app/profile/' || subject_handle || '/post/' || regexp_extract(subject, '[^/]+$'),
    reposted_at, reposter->>'did', null, null, 'repost', subject, null, null, null, synthetic, page_id,
    retrieved_at, true, null, null, null, null
from b_reposts;

-- `#tag` in the text, as the Bluesky app detects it (packages/api rich-text of atproto): `#`
-- or `＃` at the start or after whitespace (here also after an emoji or other symbol, as
-- API clients write `✨#rstats`), then the run of characters up to whitespace or a zero-width
-- character, not starting with U+FE0F; trailing punctuation is dropped; the tag holds a
-- character that is neither a digit nor punctuation and is 1-64 UTF-16 units long.
create or replace temp table b_text_tags as
with
found as (
    select uri,
           unnest(regexp_extract_all(text,
               '(?:^|[\t\n\x{0B}\f\r\p{Z}\x{FEFF}]|[\p{So}\x{FE0F}\x{20E3}\x{1F3FB}-\x{1F3FF}])'
               || '[#＃]([^\t\n\x{0B}\f\r\p{Z}\x{FEFF}\x{00AD}\x{2060}\x{200B}\x{200C}\x{200D}'
               || '\x{20E2}\x{FE0F}][^\t\n\x{0B}\f\r\p{Z}\x{FEFF}\x{00AD}\x{2060}\x{200B}'
               || '\x{200C}\x{200D}\x{20E2}]*)', 1)) as body
    from b_views where contains(text, '#') or contains(text, '＃')
),
stripped as (select uri, regexp_replace(body, '\p{P}+$', '') as tag from found)
select uri, tag from stripped
where regexp_matches(tag, '[^0-9\p{P}]')
  and length(tag) + length(regexp_replace(tag, '[^\x{10000}-\x{10FFFF}]', '', 'g')) <= 64;

insert into n_hashtags
select 'bluesky', uri, tag from (
    select uri,
           unnest(list_concat(
               json_extract_string(rec, '$.facets[*].features[*].tag'),
               json_extract_string(rec, '$.tags[*]'))) as tag
    from b_views
    union all
    select uri, tag from b_text_tags)
where tag is not null;

insert into n_mentions
select 'bluesky', uri, lower(did) from (
    select uri, unnest(json_extract_string(rec, '$.facets[*].features[*].did')) as did
    from b_views)
where did is not null;

-- counts as the response shows them (a record view of an older server may have none)
insert into n_engagement
with counts as materialized (
    select uri, retrieved_at, (p->>'likeCount')::bigint as likes,
           (p->>'repostCount')::bigint as reposts, (p->>'replyCount')::bigint as replies,
           (p->>'quoteCount')::bigint as quotes
    from b_views
)
select 'bluesky', uri, retrieved_at, likes, reposts, replies, quotes, null from counts
where coalesce(likes, reposts, replies, quotes) is not null;

insert into n_authors
select 'bluesky', a->>'did', a->>'handle', a->>'displayName',
       try_cast(a->>'createdAt' as timestamptz), null, retrieved_at
from (select retrieved_at, p->'author' as a from b_views
      union all
      select retrieved_at, reposter from b_reposts)
where (a->>'did') is not null;

-- Links: link facets of the text (in order), then the external embed (a link card; inside
-- recordWithMedia too).
insert into n_urls
select 'bluesky', uri, position, link, link, source from (
    select uri, position, f->>'uri' as link, 'facet' as source
    from (select uri, unnest(features) as f, generate_subscripts(features, 1) as position
          from (select uri, json_extract(rec, '$.facets[*].features[*]') as features
                from b_views where json_type(rec, '$.facets') = 'ARRAY'))
    where f->>'$.$type' = 'app.bsky.richtext.facet#link'
    union all
    select uri, 1, coalesce(rec->>'$.embed.external.uri', rec->>'$.embed.media.external.uri'),
           'embed'
    from b_views
    where coalesce(rec->>'$.embed.external.uri', rec->>'$.embed.media.external.uri') is not null)
where link is not null and link <> '';

-- Media: the images or video of the post's embed view (a post view's `embed`, an embedded
-- record's `embeds[0]`; inside recordWithMedia its `media`). The record holds only blob refs:
-- the view gives the urls.
create or replace temp table b_embeds as
select uri, case when (v->>'$.$type') like 'app.bsky.embed.recordWithMedia%' then v->'media'
                 else v end as v
from (select uri, coalesce(p->'embed', p->'$.embeds[0]') as v from b_views)
where v is not null;

insert into n_media
select 'bluesky', uri, position,
       regexp_extract(coalesce(i->>'fullsize', i->>'thumb'), '/([^/@]+)(@[a-z]+)?$', 1),
       'photo', i->>'fullsize', i->>'thumb', nullif(i->>'alt', '')
from (select uri, unnest(json_extract(v, '$.images[*]')) as i,
             generate_subscripts(json_extract(v, '$.images[*]'), 1) as position
      from b_embeds where (v->>'$.$type') like 'app.bsky.embed.images%')
union all
select 'bluesky', uri, 1, v->>'cid', 'video', v->>'playlist', v->>'thumbnail',
       nullif(v->>'alt', '')
from b_embeds where (v->>'$.$type') like 'app.bsky.embed.video%';
