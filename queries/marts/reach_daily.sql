-- One row per (campaign, day, platform) with at least one post: potential and actual reach.
-- Days are in the campaign's time zone. Definitions (docs/models.md cites their sources):
-- @incremental campaign, day, platform
-- @changes core.campaign_posts(campaign, local_day)
--
-- campaign: campaign name from the config
-- day: calendar date in the campaign's time zone (DATE)
-- platform: the platform (core.platforms; x, mastodon, bluesky, facebook, ...)
-- posts: number of campaign posts that day
-- contributors: distinct authors who posted that day (posts whose author is not known add
--   none; null when no post's author is known)
-- followers_known_posts: posts whose author's followers at posting are known
-- potential_impressions: sum over those posts of the author's followers at posting; null
--   ("not known") when known for none
-- potential_reach: sum of followers over distinct contributors whose follower count is known,
--   each counted once with the largest follower count among their posts that day; null when
--   known for none
-- impressions_known_posts: posts whose platform reported actual impressions for them
-- actual_impressions: sum of the impressions the platform reported (X impression_count, for
--   posts made since X counted views); null when reported for none
-- frequency: potential_impressions / potential_reach (average times a follower could have
--   seen a post); null when either is unknown or potential_reach is 0
with
posts as (
    select p.campaign, p.platform, p.author_id, p.followers_at_post, p.impressions,
           p.local_day as day
    from core.campaign_posts p
),
per_author as (
    select campaign, day, platform, author_id, count(*) as posts,
           count(followers_at_post) as followers_known_posts,
           sum(followers_at_post) as potential_impressions,
           max(followers_at_post) as followers,
           count(impressions) as impressions_known_posts,
           sum(impressions) as actual_impressions
    from posts
    group by all
)
select campaign, day, platform, sum(posts)::bigint as posts, nullif(count(author_id), 0) as contributors,
       sum(followers_known_posts)::bigint as followers_known_posts,
       sum(potential_impressions)::bigint as potential_impressions,
       sum(followers)::bigint as potential_reach,
       sum(impressions_known_posts)::bigint as impressions_known_posts,
       sum(actual_impressions)::bigint as actual_impressions,
       sum(potential_impressions) / nullif(sum(followers), 0) as frequency
from per_author
group by all
order by campaign, day, platform
