-- One row per (campaign, platform with posts): the campaign's headline figures on each
-- platform, side by side (how do the platforms compare?). Every figure is defined as in
-- marts.campaign_summary (both read core.campaign_figures), over the platform's posts;
-- first_post is the campaign's first appearance on the platform. Contributors and potential
-- reach add up to the campaign's (an account is on one platform); the peak hours need not
-- match.
--
-- campaign: campaign name from the config
-- platform: the platform (core.platforms; x, mastodon, bluesky, facebook, ...)
-- posts: campaign posts on the platform
-- post_share: posts / all campaign posts (0 to 1)
-- contributors: distinct accounts with a post on the platform (null when no post's account
--   is known)
-- followers_known_posts: posts whose author's follower count is known
-- followers_known_share: followers_known_posts / posts (0 to 1)
-- potential_reach: sum of followers over the platform's contributors (null when none known)
-- potential_impressions: sum of followers at posting over the posts (null when none known)
-- impressions_known_posts: posts whose platform reported actual impressions for them
-- impressions_known_share: impressions_known_posts / posts (0 to 1)
-- actual_impressions: sum of the impressions the platform reported (null when none)
-- frequency: potential_impressions / potential_reach (null when either is not known)
-- engageable_posts: posts that can receive engagement (all but reposts)
-- engagement_known_posts: posts whose engagement is known (any of its counts observed)
-- engagement_known_share: engagement_known_posts / engageable_posts (null when none)
-- likes: sum of likes (null when no post was observed)
-- reposts: sum of reposts received (null when no post was observed)
-- replies: sum of replies received (null when no post was observed)
-- quotes: sum of quotes received (null when no post was observed)
-- engagement: likes + reposts + replies + quotes received (null when no post was observed)
-- engagement_per_post: engagement / engagement_known_posts (null when not known)
-- first_post: time of the campaign's first post on the platform: its first appearance there
-- last_post: time of the campaign's last post on the platform
-- peak_hour: the UTC hour with the most posts on the platform (the earliest of equal hours;
--   posts without a known posting time are in no hour)
-- peak_hour_posts: posts in that hour on the platform
-- synthetic: true if any of the platform's posts comes from the simulated source
-- author_known_posts: the platform's posts whose author is known
-- author_known_share: author_known_posts / posts (below 1: contributors count the known
--   authors only)
with
figures as (
    select * from core.campaign_figures where not all_platforms
)
select
    campaign, platform, posts,
    posts / sum(posts) over (partition by campaign) as post_share,
    contributors, followers_known_posts, followers_known_share, potential_reach,
    potential_impressions, impressions_known_posts, impressions_known_share,
    actual_impressions, frequency, engageable_posts, engagement_known_posts,
    engagement_known_share, likes, reposts, replies, quotes, engagement,
    engagement_per_post, first_post, last_post, peak_hour, peak_hour_posts, synthetic,
    author_known_posts, author_known_share
from figures
order by campaign, first_post, platform
