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
floors as (
    -- the 50th largest engagement per campaign: no post below it can rank (ties pass)
    select campaign, list_min(max(engagement, 50)) as floor
    from core.campaign_posts
    where engagement is not null
    group by all
),
top as (
    -- the 50 smallest (-engagement, created_at, platform, post_id): a top-N heap, no sort
    select p.campaign,
           arg_min({'platform': p.platform, 'post_id': p.post_id, 'author_id': p.author_id,
                    'created_at': p.created_at, 'kind': p.kind, 'likes': p.likes,
                    'reposts': p.reposts, 'replies': p.replies, 'quotes': p.quotes,
                    'engagement': p.engagement, 'impressions': p.impressions,
                    'norm_row': p.norm_row},
                   (-p.engagement, p.created_at, p.platform, p.post_id), 50) as leaders
    from core.campaign_posts p
    join floors f on f.campaign = p.campaign and p.engagement >= f.floor
    group by all
),
ranked as (
    select campaign, unnest(leaders, recursive := true),
           unnest(range(1, len(leaders) + 1)) as rank
    from top
),
details as (
    -- url and text of the ranked posts only, fetched by their row in norm.posts (no scan)
    select platform, post_id, url, text from norm.posts
    where rowid in (select norm_row from ranked)
)
select r.campaign, r.rank, r.platform, r.post_id, d.url, a.handle, d.text, r.created_at,
       r.kind, r.likes, r.reposts, r.replies, r.quotes, r.engagement, r.impressions
from ranked r
join details d on d.platform = r.platform and d.post_id = r.post_id
left join norm.authors a on a.platform = r.platform and a.author_id = r.author_id
order by r.campaign, r.rank
