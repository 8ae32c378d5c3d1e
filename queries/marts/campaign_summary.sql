-- One row per configured campaign: the headline numbers (zeros and nulls when it has no posts).
-- Definitions as in marts.reach_daily, over the whole campaign; engagement as in
-- core.campaign_posts (latest observation; reposts carry none).
--
-- campaign: campaign name from the config
-- title: display title from the config
-- timezone: the campaign's time zone
-- posts: number of campaign posts (all platforms and kinds)
-- contributors: distinct authors, (platform, author_id)
-- potential_reach: sum of followers over distinct contributors, each counted once with the
--   largest follower count among their posts
-- potential_impressions: sum over posts of the author's followers at posting
-- actual_impressions: sum of impressions the platform reports (X only); null if none
-- frequency: potential_impressions / potential_reach
-- likes: sum of likes over posts (latest observation)
-- reposts: sum of reposts received
-- replies: sum of replies received
-- quotes: sum of quotes received
-- engagement: likes + reposts + replies + quotes
-- engagement_per_post: engagement / posts that can receive engagement (all but reposts)
-- first_post: time of the first post (UTC)
-- last_post: time of the last post (UTC)
-- peak_hour: the UTC hour with the most posts (the earliest of equal hours)
-- peak_hour_posts: posts in the peak hour
-- synthetic: true if any post comes from the simulated source
-- platforms: the platforms with posts, sorted and comma-separated (e.g. 'mastodon, x')
with
campaigns as (
    select campaign, title, timezone from core.campaigns
),
reach as (
    select campaign, count(*) as contributors, sum(followers)::bigint as potential_reach
    from core.campaign_authors
    group by all
),
buckets as (
    select * from core.campaign_hourly
),
totals as (
    select campaign, sum(posts)::bigint as posts,
           sum(potential_impressions)::bigint as potential_impressions,
           sum(actual_impressions)::bigint as actual_impressions,
           coalesce(sum(likes), 0)::bigint as likes,
           coalesce(sum(reposts), 0)::bigint as reposts,
           coalesce(sum(replies), 0)::bigint as replies,
           coalesce(sum(quotes), 0)::bigint as quotes,
           coalesce(sum(engagement), 0)::bigint as engagement,
           sum(engageable_posts)::bigint as engageable_posts,
           min(first_post) as first_post, max(last_post) as last_post,
           bool_or(synthetic) as synthetic,
           string_agg(distinct platform, ', ' order by platform) as platforms
    from buckets
    group by all
),
hours as (
    select campaign, hour, sum(posts)::bigint as posts
    from buckets
    group by all
),
peak as (
    select campaign, arg_min(hour, (-posts, hour)) as peak_hour, max(posts) as peak_hour_posts
    from hours
    group by all
)
select
    c.campaign, c.title, c.timezone,
    coalesce(t.posts, 0) as posts,
    coalesce(r.contributors, 0) as contributors,
    coalesce(r.potential_reach, 0) as potential_reach,
    coalesce(t.potential_impressions, 0) as potential_impressions,
    t.actual_impressions,
    t.potential_impressions / nullif(r.potential_reach, 0) as frequency,
    coalesce(t.likes, 0) as likes, coalesce(t.reposts, 0) as reposts,
    coalesce(t.replies, 0) as replies, coalesce(t.quotes, 0) as quotes,
    coalesce(t.engagement, 0) as engagement,
    t.engagement / nullif(t.engageable_posts, 0) as engagement_per_post,
    t.first_post, t.last_post, k.peak_hour, k.peak_hour_posts,
    coalesce(t.synthetic, false) as synthetic,
    coalesce(t.platforms, '') as platforms
from campaigns c
left join totals t using (campaign)
left join reach r using (campaign)
left join peak k using (campaign)
order by c.campaign
