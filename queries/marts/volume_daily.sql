-- One row per (campaign, day, platform, kind) with at least one post; days are calendar days
-- in the campaign's time zone (a day across a DST change has 23 or 25 hours).
-- @incremental campaign, day, platform, kind
-- @changes core.campaign_posts(campaign, local_day)
--
-- campaign: campaign name from the config
-- day: calendar date in the campaign's time zone (DATE)
-- platform: the platform (core.platforms; x, mastodon, bluesky, facebook, ...)
-- kind: original, repost, reply or quote
-- posts: number of campaign posts made that day
-- authors: distinct authors who posted that day (null when no post's author is known)
with
posts as (
    select p.campaign, p.platform, p.kind, p.author_id,
           p.local_day as day
    from core.campaign_posts p
)
select campaign, day, platform, kind, count(*) as posts, nullif(count(distinct author_id), 0) as authors
from posts
group by all
order by campaign, day, platform, kind
