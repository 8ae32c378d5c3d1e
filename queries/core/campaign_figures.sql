-- One row per campaign and per (campaign, platform): every headline figure, computed once for
-- marts.campaign_summary (the rows of all platforms together) and marts.platform_summary (the
-- rows of each platform). The figures are defined in marts.campaign_summary's column docs; on
-- a platform's row they are over that platform's posts. Contributors and potential reach add
-- up across platforms: an account is on one platform.
--
-- campaign: campaign name from the config
-- platform: the platform; null on the row of all platforms together
-- all_platforms: true on the row of all platforms together
-- posts: campaign posts (marts.campaign_summary)
-- contributors: distinct accounts with a post (null when no post's account is known)
-- author_known_posts: posts whose author is known
-- author_known_share: author_known_posts / posts
-- followers_known_posts: posts whose author's follower count is known
-- followers_known_share: followers_known_posts / posts
-- potential_reach: sum of followers over distinct contributors (null when none known)
-- potential_impressions: sum of followers at posting over the posts (null when none known)
-- impressions_known_posts: posts whose platform reported actual impressions for them
-- impressions_known_share: impressions_known_posts / posts
-- actual_impressions: sum of reported impressions (null when reported for none)
-- frequency: potential_impressions / potential_reach
-- engageable_posts: posts that can receive engagement (all but reposts)
-- engagement_known_posts: posts whose engagement is known (any of its counts observed)
-- engagement_known_share: engagement_known_posts / engageable_posts
-- likes: sum of likes (null when no post was observed)
-- reposts: sum of reposts received
-- replies: sum of replies received
-- quotes: sum of quotes received
-- engagement: likes + reposts + replies + quotes received
-- engagement_per_post: engagement / engagement_known_posts
-- first_post: time of the earliest post
-- last_post: time of the latest post
-- peak_hour: the UTC hour with the most posts (the earliest of equal hours; posts without a
--   known posting time are in no hour)
-- peak_hour_posts: posts in the peak hour
-- synthetic: true if any post comes from the simulated source
-- platforms: the platforms with posts, sorted and comma-separated
with
buckets as (
    select * from core.campaign_hourly
),
authors as (
    -- potential reach: null when no contributor's follower count is known
    select campaign, platform, sum(authors)::bigint as contributors,
           if(sum(followers_known) > 0, sum(followers), null)::bigint as potential_reach
    from core.campaign_author_days
    group by all
),
reach as (
    select campaign, platform, grouping(platform) = 1 as all_platforms,
           sum(contributors)::bigint as contributors,
           sum(potential_reach)::bigint as potential_reach
    from authors
    group by grouping sets ((campaign), (campaign, platform))
),
totals as (
    select campaign, platform, grouping(platform) = 1 as all_platforms,
           sum(posts)::bigint as posts,
           sum(author_known_posts)::bigint as author_known_posts,
           sum(followers_known_posts)::bigint as followers_known_posts,
           sum(potential_impressions)::bigint as potential_impressions,
           sum(impressions_known_posts)::bigint as impressions_known_posts,
           sum(actual_impressions)::bigint as actual_impressions,
           sum(engageable_posts)::bigint as engageable_posts,
           sum(engagement_known_posts)::bigint as engagement_known_posts,
           sum(likes)::bigint as likes, sum(reposts)::bigint as reposts,
           sum(replies)::bigint as replies, sum(quotes)::bigint as quotes,
           sum(engagement)::bigint as engagement,
           min(first_post) as first_post, max(last_post) as last_post,
           bool_or(synthetic) as synthetic,
           string_agg(distinct platform, ', ' order by platform) as platforms
    from buckets
    group by grouping sets ((campaign), (campaign, platform))
),
hours as (
    -- posts without a known posting time are in no hour
    select campaign, platform, grouping(platform) = 1 as all_platforms, hour,
           sum(posts)::bigint as posts
    from buckets
    where hour is not null
    group by grouping sets ((campaign, hour), (campaign, platform, hour))
),
peak as (
    select campaign, platform, all_platforms,
           arg_min(hour, (-posts, hour)) as peak_hour, max(posts) as peak_hour_posts
    from hours
    group by all
)
select
    t.campaign, t.platform, t.all_platforms, t.posts,
    r.contributors,
    t.author_known_posts,
    t.author_known_posts / nullif(t.posts, 0) as author_known_share,
    t.followers_known_posts,
    t.followers_known_posts / nullif(t.posts, 0) as followers_known_share,
    r.potential_reach,
    t.potential_impressions,
    t.impressions_known_posts,
    t.impressions_known_posts / nullif(t.posts, 0) as impressions_known_share,
    t.actual_impressions,
    t.potential_impressions / nullif(r.potential_reach, 0) as frequency,
    t.engageable_posts,
    t.engagement_known_posts,
    t.engagement_known_posts / nullif(t.engageable_posts, 0) as engagement_known_share,
    t.likes, t.reposts, t.replies, t.quotes, t.engagement,
    t.engagement / nullif(t.engagement_known_posts, 0) as engagement_per_post,
    t.first_post, t.last_post, k.peak_hour, k.peak_hour_posts,
    t.synthetic, t.platforms
from totals t
left join reach r
  on r.campaign = t.campaign and r.all_platforms = t.all_platforms
 and r.platform is not distinct from t.platform
left join peak k
  on k.campaign = t.campaign and k.all_platforms = t.all_platforms
 and k.platform is not distinct from t.platform
