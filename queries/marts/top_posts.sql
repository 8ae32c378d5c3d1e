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
           arg_min({'platform': p.platform, 'post_id': p.post_id, 'author_id': p.author_id},
                   (-p.engagement, p.created_at, p.platform, p.post_id), 50) as leaders
    from core.campaign_posts p
    join floors f on f.campaign = p.campaign and p.engagement >= f.floor
    group by all
),
ranked as (
    select campaign, unnest(leaders) as leader, unnest(range(1, len(leaders) + 1)) as rank
    from top
)
select r.campaign, r.rank, p.platform, p.post_id, p.url, a.handle, p.text, p.created_at,
       p.kind, c.likes, c.reposts, c.replies, c.quotes, c.engagement, c.impressions
from ranked r
join core.posts p on p.platform = r.leader.platform and p.post_id = r.leader.post_id
join core.campaign_posts c
  on c.campaign = r.campaign and c.platform = p.platform and c.post_id = p.post_id
left join norm.authors a on a.platform = p.platform and a.author_id = r.leader.author_id
order by r.campaign, r.rank
