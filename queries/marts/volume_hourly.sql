-- One row per (campaign, hour, platform, kind) with at least one post.
-- @incremental campaign, hour, platform, kind
-- @changes core.campaign_posts(campaign, hour)
--
-- campaign: campaign name from the config
-- hour: start of the UTC hour (TIMESTAMPTZ); a post at exactly 10:00:00 is in the 10:00 hour
-- platform: the platform (core.platforms; x, mastodon, bluesky, facebook, ...)
-- kind: original, repost, reply or quote
-- posts: number of campaign posts made in that hour
-- authors: distinct authors who posted in that hour (null when no post's author is known)
with
posts as (
    select campaign, platform, kind, author_id,
           hour
    from core.campaign_posts
)
select campaign, hour, platform, kind, count(*) as posts, nullif(count(distinct author_id), 0) as authors
from posts
group by all
order by campaign, hour, platform, kind
