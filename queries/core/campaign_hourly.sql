-- One row per (campaign, UTC hour, local weekday and hour, language, platform): post counts and
-- sums, kept incrementally per (campaign, hour) for the marts that count or sum posts by time,
-- language or platform. A UTC hour can span two local hours (time zones offset by a half
-- hour), so the local clock is kept per row rather than derived from the UTC hour. Sums are
-- over the posts whose value is known (null when known for none); the *_known_posts columns
-- count those posts.
-- @incremental campaign, hour, local_weekday, local_hour, lang, platform
-- @changes core.campaign_posts(campaign, hour)
--
-- campaign: campaign name from the config
-- hour: start of the UTC hour of posting (TIMESTAMPTZ)
-- local_weekday: weekday of posting in the campaign's time zone (0 = Monday)
-- local_hour: clock hour of posting (0-23) in the campaign's time zone
-- lang: language code ('und' when undetermined or missing)
-- platform: the platform (core.platforms; x, mastodon, bluesky, facebook, ...)
-- posts: campaign posts
-- author_known_posts: posts whose author is known (a CSV row may have no account)
-- engageable_posts: posts that can receive engagement (all but reposts)
-- followers_known_posts: posts whose author's followers at posting are known
-- potential_impressions: sum of followers at posting over those posts (null when none)
-- impressions_known_posts: posts whose platform reported actual impressions for them
-- actual_impressions: sum of reported impressions (null when none reported)
-- engagement_known_posts: posts whose engagement is known (any of its counts observed;
--   reposts carry none)
-- likes: sum of likes (null when no post has an engagement observation)
-- reposts: sum of reposts
-- replies: sum of replies
-- quotes: sum of quotes
-- engagement: sum of engagement
-- first_post: time of the first post (UTC)
-- last_post: time of the last post (UTC)
-- synthetic: true when any post is from the simulated source
with
posts as (
    select * from core.campaign_posts
)
select campaign, hour, local_weekday, local_hour, lang, platform, count(*) as posts,
       count(author_id) as author_known_posts,
       count(*) filter (where kind <> 'repost') as engageable_posts,
       count(followers_at_post) as followers_known_posts,
       sum(followers_at_post)::bigint as potential_impressions,
       count(impressions) as impressions_known_posts,
       sum(impressions)::bigint as actual_impressions,
       count(engagement) as engagement_known_posts,
       sum(likes)::bigint as likes, sum(reposts)::bigint as reposts,
       sum(replies)::bigint as replies, sum(quotes)::bigint as quotes,
       sum(engagement)::bigint as engagement,
       min(created_at) as first_post, max(created_at) as last_post,
       bool_or(synthetic) as synthetic
from posts
group by all
