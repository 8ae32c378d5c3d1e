-- One row per (campaign, registered domain, author): the author's campaign posts linking to
-- the domain (a post with two links to it counts once), kept incrementally like
-- core.campaign_link_authors. Links that are not http or https have no domain.
-- @incremental campaign, domain, platform, author_id
-- @changes core.campaign_links(campaign, domain, platform, author_id)
-- @merge posts sum, followers max, potential_impressions sum, followers_known_posts sum
--
-- campaign: campaign name from the config
-- domain: the registered domain (e.g. bbc.co.uk)
-- platform: the platform (core.platforms; x, mastodon, bluesky, facebook, ...)
-- author_id: the author's identity on the platform
-- posts: the author's campaign posts linking to the domain
-- followers: largest follower count at posting among those posts (null when unknown)
-- potential_impressions: sum of followers at posting over those posts (null when unknown)
-- followers_known_posts: those posts whose followers at posting are known
with
posts as (
    select campaign, domain, platform, author_id, post_id,
           any_value(followers_at_post) as followers_at_post
    from core.campaign_links
    where domain is not null
    group by all
)
select campaign, domain, platform, author_id, count(*) as posts,
       max(followers_at_post) as followers, sum(followers_at_post)::bigint as potential_impressions,
       count(followers_at_post) as followers_known_posts
from posts
group by all
