-- Bluesky post views: app.bsky.feed.searchPosts responses {posts: [...], cursor}, or one post
-- view per record. Follower counts come separately (bluesky_profiles).
create or replace temp table b_posts as
select page_id, retrieved_at, synthetic,
       unnest(case
                  when json_type(payload, '$.posts') = 'ARRAY' then json_extract(payload, '$.posts[*]')
                  when json_type(payload) = 'OBJECT' and (payload->>'uri') is not null then [payload::json]
                  else []::json[] end) as p
from batch;

insert into n_posts
select
    'bluesky', p->>'uri',
    'https://bsky.app/profile/' || (p->>'$.author.handle') || '/post/'
        || regexp_extract(p->>'uri', '[^/]+$'),
    coalesce(try_cast(p->>'$.record.createdAt' as timestamptz), (p->>'indexedAt')::timestamptz),
    p->>'$.author.did',
    p->>'$.record.text',
    json_extract_string(p, '$.record.langs[0]'),
    case
        when p->>'$.record.embed.$type' in ('app.bsky.embed.record', 'app.bsky.embed.recordWithMedia')
            then 'quote'
        when p->>'$.record.reply.parent.uri' is not null then 'reply'
        else 'original' end,
    coalesce(p->>'$.record.embed.record.uri', p->>'$.record.embed.record.record.uri',
             p->>'$.record.reply.parent.uri'),
    p->>'$.record.reply.root.uri',
    null, null, synthetic, page_id, retrieved_at, true,
    p->>'$.record.reply.parent.uri',
    coalesce(p->>'$.record.embed.record.uri', p->>'$.record.embed.record.record.uri'),
    null, null
from b_posts where p->>'uri' is not null;

insert into n_hashtags
select 'bluesky', uri, tag from (
    select p->>'uri' as uri,
           unnest(list_concat(
               json_extract_string(p, '$.record.facets[*].features[*].tag'),
               json_extract_string(p, '$.record.tags[*]'))) as tag
    from b_posts)
where tag is not null;

insert into n_mentions
select 'bluesky', uri, lower(did) from (
    select p->>'uri' as uri, unnest(json_extract_string(p, '$.record.facets[*].features[*].did')) as did
    from b_posts)
where did is not null;

insert into n_engagement
select 'bluesky', p->>'uri', retrieved_at,
       (p->>'likeCount')::bigint, (p->>'repostCount')::bigint, (p->>'replyCount')::bigint,
       (p->>'quoteCount')::bigint, null
from b_posts where p->>'uri' is not null;

insert into n_authors
select 'bluesky', p->>'$.author.did', p->>'$.author.handle', p->>'$.author.displayName',
       try_cast(p->>'$.author.createdAt' as timestamptz), null, retrieved_at
from b_posts where p->>'$.author.did' is not null;
