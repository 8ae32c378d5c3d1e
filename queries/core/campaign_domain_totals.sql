-- One row per (campaign, registered domain): the campaign posts linking to it, their
-- distinct authors and potential reach, recomputed for the domains whose authors' rows
-- changed (from core.campaign_domain_authors). marts.top_domains ranks these rows.
-- @incremental campaign, domain
-- @changes core.campaign_domain_authors(campaign, domain)
--
-- campaign: campaign name from the config
-- domain: the registered domain (e.g. bbc.co.uk)
-- posts: campaign posts linking to the domain
-- authors: distinct authors of those posts
-- potential_reach: the sum over the distinct authors of those posts of each one's largest
--   followers at posting among them (null when no author's followers are known)
-- potential_impressions: sum of followers at posting over those posts (null when unknown)
-- followers_known_posts: posts linking to it whose author's followers at posting are known
with
authors as (
    select campaign, domain, posts, followers, potential_impressions, followers_known_posts
    from core.campaign_domain_authors
)
select campaign, domain, sum(posts)::bigint as posts, count(*) as authors,
       sum(followers)::bigint as potential_reach,
       sum(potential_impressions)::bigint as potential_impressions,
       sum(followers_known_posts)::bigint as followers_known_posts
from authors
group by all
