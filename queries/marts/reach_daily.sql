-- One row per (campaign, day, platform) with at least one post: potential and actual reach.
-- Days are in the campaign's time zone. Definitions (docs/models.md cites their sources):
-- @incremental campaign, day, platform
-- @changes core.campaign_posts(campaign, local_day)
--
-- campaign: campaign name from the config
-- day: calendar date in the campaign's time zone (DATE)
-- platform: x, mastodon or bluesky
-- posts: number of campaign posts that day
-- contributors: distinct authors who posted that day
-- potential_impressions: sum over posts of the author's followers at posting (unknown = 0)
-- potential_reach: sum of followers over distinct contributors, each counted once with the
--   largest follower count among their posts that day
-- actual_impressions: sum of impressions the platform reports (X impression_count), null
--   where the platform reports none
-- frequency: potential_impressions / potential_reach (average times a follower could have
--   seen a post); null when potential_reach is 0
with
posts as (
    select p.campaign, p.platform, p.author_id, p.followers_at_post, p.impressions,
           p.local_day as day
    from core.campaign_posts p
),
per_author as (
    select campaign, day, platform, author_id, count(*) as posts,
           sum(coalesce(followers_at_post, 0)) as potential_impressions,
           max(coalesce(followers_at_post, 0)) as followers,
           sum(impressions) as actual_impressions
    from posts
    group by all
)
select campaign, day, platform, sum(posts)::bigint as posts, count(*) as contributors,
       sum(potential_impressions)::bigint as potential_impressions,
       sum(followers)::bigint as potential_reach,
       sum(actual_impressions)::bigint as actual_impressions,
       sum(potential_impressions) / nullif(sum(followers), 0) as frequency
from per_author
group by all
order by campaign, day, platform
