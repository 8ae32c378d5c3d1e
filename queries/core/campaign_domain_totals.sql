-- One row per (campaign, registered domain): the campaign posts linking to it, their
-- distinct authors and potential reach, from core.campaign_domain_authors: when new posts
-- only added to the authors' rows (that model was merged), their new versions are added and
-- the replaced ones taken off (@merge); otherwise the changed domains are recomputed.
-- core.campaign_domain_leaders keeps the leading domains of marts.top_domains.
-- @incremental campaign, domain
-- @changes core.campaign_domain_authors(campaign, domain)
-- @merge posts sum, authors sum, author_rows count, potential_reach sum, potential_impressions sum, followers_known_posts sum
--
-- campaign: campaign name from the config
-- domain: the registered domain (e.g. bbc.co.uk)
-- posts: campaign posts linking to the domain
-- authors: distinct known authors of those posts (null when no post's author is known)
-- author_rows: its rows in core.campaign_domain_authors: the known authors, and one for its
--   posts whose author is not known (the count @merge keeps)
-- potential_reach: the sum over the distinct authors of those posts of each one's largest
--   followers at posting among them (null when no author's followers are known)
-- potential_impressions: sum of followers at posting over those posts (null when unknown)
-- followers_known_posts: posts linking to it whose author's followers at posting are known
with
authors as (
    select campaign, author_id, domain, posts, followers, potential_impressions, followers_known_posts
    from core.campaign_domain_authors
)
select campaign, domain, sum(posts)::bigint as posts, nullif(count(author_id), 0) as authors,
       count(*) as author_rows,
       sum(followers)::bigint as potential_reach,
       sum(potential_impressions)::bigint as potential_impressions,
       sum(followers_known_posts)::bigint as followers_known_posts
from authors
group by all
