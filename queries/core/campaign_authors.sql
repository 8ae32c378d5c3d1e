-- One row per (campaign, author): the author's campaign posts summed up, kept incrementally
-- (only authors of changed posts are recomputed) so the whole-campaign marts read authors,
-- not posts. An author is (platform, author_id). Sums as in core.campaign_posts: followers
-- at posting count as 0 when unknown; engagement and impressions are null when no post has
-- any.
-- @incremental campaign, platform, author_id
-- @changes core.campaign_posts(campaign, platform, author_id)
--
-- campaign: campaign name from the config
-- platform: x, mastodon or bluesky
-- author_id: the author's identity on the platform
-- posts: the author's campaign posts
-- potential_impressions: sum of followers at posting over the posts
-- followers: largest follower count at posting among the posts (0 when unknown)
-- actual_impressions: sum of reported impressions (null when none reported)
-- likes: sum of likes (null when no post has an engagement observation)
-- reposts: sum of reposts
-- replies: sum of replies
-- quotes: sum of quotes
-- engagement: sum of engagement (likes + reposts + replies + quotes)
-- engageable_posts: posts that can receive engagement (all but reposts)
-- first_post: time of the first post (UTC)
-- last_post: time of the last post (UTC)
-- first_day: local day of the first post (campaign's time zone)
-- synthetic: true when any post is from the simulated source
with
posts as (
    select * from core.campaign_posts
)
select campaign, platform, author_id, count(*) as posts,
       sum(coalesce(followers_at_post, 0))::bigint as potential_impressions,
       max(coalesce(followers_at_post, 0)) as followers,
       sum(impressions)::bigint as actual_impressions,
       sum(likes)::bigint as likes, sum(reposts)::bigint as reposts,
       sum(replies)::bigint as replies, sum(quotes)::bigint as quotes,
       sum(engagement)::bigint as engagement,
       count(*) filter (where kind <> 'repost') as engageable_posts,
       min(created_at) as first_post, max(created_at) as last_post,
       min(local_day) as first_day,
       bool_or(synthetic) as synthetic
from posts
group by all
