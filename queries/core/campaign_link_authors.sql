-- One row per (campaign, normalised link, author): the author's campaign posts carrying the
-- link, kept incrementally (new posts are added to their rows, @merge; other changed rows are
-- recomputed), so the link marts count distinct authors and potential reach from authors,
-- not posts. Sums and maxima are over the posts whose followers are known (null when none).
-- @incremental campaign, url_norm, platform, author_id
-- @changes core.campaign_links(campaign, url_norm, platform, author_id)
-- @merge posts sum, followers max, potential_impressions sum, followers_known_posts sum, domain max
--
-- campaign: campaign name from the config
-- url_norm: the normalised link (core.campaign_links)
-- platform: the platform (core.platforms; x, mastodon, bluesky, facebook, ...)
-- author_id: the author's identity on the platform
-- posts: the author's campaign posts carrying the link
-- followers: largest follower count at posting among those posts (null when unknown)
-- potential_impressions: sum of followers at posting over those posts (null when unknown)
-- followers_known_posts: those posts whose followers at posting are known
-- domain: the link's registered domain (null for a link that is not http or https)
with
links as (
    select campaign, url_norm, platform, author_id, followers_at_post, domain
    from core.campaign_links
)
select campaign, url_norm, platform, author_id, count(*) as posts,
       max(followers_at_post) as followers, sum(followers_at_post)::bigint as potential_impressions,
       count(followers_at_post) as followers_known_posts, max(domain) as domain
from links
group by all
