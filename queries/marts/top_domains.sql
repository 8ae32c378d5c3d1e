-- One row per (campaign, metric, rank): the 25 leading registered domains of the links in
-- campaign posts, by posts and by potential reach. A post linking twice to one domain counts
-- once for it. Ties are broken by domain. A domain whose potential reach is not known is not
-- ranked by potential_reach. Links that are not http or https have no domain.
--
-- campaign: campaign name from the config
-- metric: 'posts' or 'potential_reach': the column ranked by
-- rank: 1 to 25 within (campaign, metric)
-- domain: the registered domain (e.g. bbc.co.uk)
-- posts: campaign posts linking to the domain
-- links: distinct normalised links to it
-- authors: distinct authors of those posts
-- potential_reach: the sum over the distinct authors of those posts of each one's largest
--   followers at posting among them (null when no author's followers are known)
-- potential_impressions: sum of followers at posting over those posts (null when unknown)
-- followers_known_posts: posts linking to it whose author's followers at posting are known
with
per_domain as (
    select campaign, domain, posts, authors, potential_reach, potential_impressions,
           followers_known_posts
    from core.campaign_domain_totals
),
distinct_links as (
    select campaign, domain, count(*) as links
    from core.campaign_link_totals
    where domain is not null
    group by all
),
scores as (
    select *, 'posts' as metric, posts as value from per_domain
    union all
    select *, 'potential_reach', potential_reach from per_domain
    where potential_reach is not null
),
ranked as (
    select *, row_number() over (partition by campaign, metric
                                 order by value desc, domain) as rank
    from scores
    qualify rank <= 25
)
select r.campaign, r.metric, r.rank, r.domain, r.posts, l.links, r.authors, r.potential_reach,
       r.potential_impressions, r.followers_known_posts
from ranked r
join distinct_links l using (campaign, domain)
order by r.campaign, r.metric, r.rank
