-- One row per (campaign, UTC hour, rank): the hour's 50 posts with the most engagement, the
-- candidates of marts.top_posts (a campaign's 50 leading posts are among its hours' 50
-- leading posts), kept incrementally per (campaign, hour), with the posts' url and text.
-- Order within an hour as in marts.top_posts: engagement, then the earlier post, then
-- platform and post_id. Reposts (no engagement of their own) and unobserved posts are left out.
-- @incremental campaign, hour, rank
-- @changes core.campaign_posts(campaign, hour)
--
-- campaign: campaign name from the config
-- hour: start of the UTC hour of posting
-- rank: 1 to 50 within (campaign, hour)
-- platform: the platform (core.platforms; x, mastodon, bluesky, facebook, ...)
-- post_id: the platform's identity of the post
-- author_id: the author's identity on the platform
-- created_at: posting time (UTC)
-- kind: original, reply or quote
-- likes: likes in the latest observation
-- reposts: reposts in the latest observation
-- replies: replies in the latest observation
-- quotes: quotes in the latest observation
-- engagement: likes + reposts + replies + quotes
-- impressions: actual impressions where reported (X)
-- url: link to the post
-- text: the post text (untrusted: escape before display)
with
hourly as (
    -- the 50 smallest (-engagement, created_at, platform, post_id): a top-N heap, no sort
    select campaign, hour,
           arg_min({'platform': platform, 'post_id': post_id, 'author_id': author_id,
                    'created_at': created_at, 'kind': kind, 'likes': likes,
                    'reposts': reposts, 'replies': replies, 'quotes': quotes,
                    'engagement': engagement, 'impressions': impressions,
                    'norm_row': norm_row},
                   (-engagement, created_at, platform, post_id), 50) as leaders
    from core.campaign_posts
    where engagement is not null
    group by all
),
leaders as (
    select campaign, hour, unnest(leaders, recursive := true),
           unnest(range(1, len(leaders) + 1)) as rank
    from hourly
),
texts as (
    -- by row in norm.posts: an incremental build's hours are recent, so are their rows,
    -- and the look-up reads few row groups
    select rowid as norm_row, url, text from norm.posts
    where rowid in (select norm_row from leaders)
)
select l.campaign, l.hour, l.rank, l.platform, l.post_id, l.author_id, l.created_at, l.kind,
       l.likes, l.reposts, l.replies, l.quotes, l.engagement, l.impressions, t.url, t.text
from leaders l
join texts t using (norm_row)
