-- One row per (campaign, rank): the 50 posts with the most engagement (latest observation).
-- Reposts carry no engagement of their own and are not ranked; ties go to the earlier post,
-- then platform and post_id.
--
-- campaign: campaign name from the config
-- rank: 1 to 50
-- platform: x, mastodon or bluesky
-- post_id: the platform's identity of the post
-- url: link to the post
-- handle: the author's handle
-- text: the post text (untrusted: escape before display)
-- created_at: posting time (UTC)
-- kind: original, reply or quote
-- likes: likes in the latest observation
-- reposts: reposts in the latest observation
-- replies: replies in the latest observation
-- quotes: quotes in the latest observation
-- engagement: likes + reposts + replies + quotes
-- impressions: actual impressions where reported (X)
with
top as (
    -- the 50 smallest (-engagement, created_at, platform, post_id) among the hours' leaders
    select campaign,
           arg_min({'platform': platform, 'post_id': post_id, 'author_id': author_id,
                    'created_at': created_at, 'kind': kind, 'likes': likes,
                    'reposts': reposts, 'replies': replies, 'quotes': quotes,
                    'engagement': engagement, 'impressions': impressions, 'url': url,
                    'text': text},
                   (-engagement, created_at, platform, post_id), 50) as leaders
    from core.campaign_post_leaders
    group by all
),
ranked as (
    -- at most 50 per campaign; the limit only tells DuckDB's planner they are few, so that
    -- the handle look-up hashes them, never norm.authors
    select campaign, unnest(leaders, recursive := true),
           unnest(range(1, len(leaders) + 1)) as rank
    from top
    limit 1000000
),
handles as (
    select platform, author_id, handle from norm.authors
    where (platform, author_id) in (select platform, author_id from ranked)
)
select r.campaign, r.rank, r.platform, r.post_id, r.url, a.handle, r.text, r.created_at,
       r.kind, r.likes, r.reposts, r.replies, r.quotes, r.engagement, r.impressions
from ranked r
left join handles a on a.platform = r.platform and a.author_id = r.author_id
order by r.campaign, r.rank
