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
-- authors: distinct known authors of those posts (null when no post's author is known)
-- potential_reach: the sum over the distinct authors of those posts of each one's largest
--   followers at posting among them (null when no author's followers are known)
-- potential_impressions: sum of followers at posting over those posts (null when unknown)
-- followers_known_posts: posts linking to it whose author's followers at posting are known
with
per_domain as (
    select campaign, domain, posts, authors, potential_reach, potential_impressions,
           followers_known_posts
    from core.campaign_domain_leaders
),
scores as (
    select *, 'posts' as metric, posts as value from per_domain
    union all
    select *, 'potential_reach', potential_reach from per_domain
    where potential_reach is not null
),
floors as (
    -- the 25th largest value per metric: nothing below it can rank (ties pass)
    select campaign, metric, list_min(max(value, 25)) as floor
    from scores
    group by all
),
top as (
    -- the 25 smallest (-value, domain): a top-N heap, no sort of every row
    select s.campaign, s.metric,
           arg_min({'domain': s.domain, 'posts': s.posts, 'authors': s.authors,
                    'potential_reach': s.potential_reach,
                    'potential_impressions': s.potential_impressions,
                    'followers_known_posts': s.followers_known_posts},
                   (-s.value, s.domain), 25) as leaders
    from scores s
    join floors f using (campaign, metric)
    where s.value >= f.floor
    group by all
),
ranked as (
    select campaign, metric, unnest(leaders, recursive := true),
           unnest(range(1, len(leaders) + 1)) as rank
    from top
),
distinct_links as (
    -- distinct links of the ranked domains only
    select campaign, domain, count(*) as links
    from core.campaign_link_totals
    where (campaign, domain) in (select campaign, domain from ranked)
    group by all
)
select r.campaign, r.metric, r.rank, r.domain, r.posts, l.links, r.authors, r.potential_reach,
       r.potential_impressions, r.followers_known_posts
from ranked r
join distinct_links l using (campaign, domain)
order by r.campaign, r.metric, r.rank
