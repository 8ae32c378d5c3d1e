-- One row per (campaign, author): the author's campaign posts summed up, kept incrementally
-- (new posts are added to their authors' rows, @merge; authors of other changed posts are
-- recomputed) so the marts that need distinct authors read authors, not posts. An author is
-- (platform, author_id); a post whose author is not known (a CSV export without account
-- columns) belongs to no author and is left out. Sums and maxima are over the posts whose value is known (null when
-- known for none).
-- @incremental campaign, platform, author_id
-- @changes core.campaign_posts(campaign, platform, author_id)
-- @merge posts sum, potential_impressions sum, followers max, engagement sum, first_day min
--
-- campaign: campaign name from the config
-- platform: the platform (core.platforms; x, mastodon, bluesky, facebook, ...)
-- author_id: the author's identity on the platform
-- posts: the author's campaign posts
-- potential_impressions: sum of followers at posting over the posts (null when unknown)
-- followers: largest follower count at posting among the posts (null when unknown)
-- engagement: sum of engagement received (null when no post has an engagement observation)
-- first_day: local day of the first post (campaign's time zone)
with
posts as (
    select campaign, platform, author_id, followers_at_post, engagement, local_day
    from core.campaign_posts
    where author_id is not null
)
select campaign, platform, author_id, count(*) as posts,
       sum(followers_at_post)::bigint as potential_impressions,
       max(followers_at_post) as followers,
       sum(engagement)::bigint as engagement,
       min(local_day) as first_day
from posts
group by all
