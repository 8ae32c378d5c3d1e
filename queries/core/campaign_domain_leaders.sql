-- One row per (campaign, registered domain) among the campaign's 25 leading domains by posts
-- or by potential reach: the candidates of marts.top_domains, with the domain's row of
-- core.campaign_domain_totals. Order per metric as in marts.top_domains: value (largest
-- first), then domain; a domain whose potential reach is not known is not ranked by it.
-- @incremental campaign, domain
-- @changes core.campaign_domain_totals(campaign, domain)
-- @reapply
-- Kept incrementally: when new posts only added to the totals (core.campaign_domain_totals
-- was merged), no other domain can have passed a leader, so the leaders are chosen again
-- from the previous leaders and the changed domains; otherwise from every domain.
--
-- campaign: campaign name from the config
-- domain: the registered domain (e.g. bbc.co.uk)
-- posts: campaign posts linking to the domain
-- authors: distinct known authors of those posts (null when no post's author is known)
-- potential_reach: the sum over the distinct authors of those posts of each one's largest
--   followers at posting among them (null when no author's followers are known)
-- potential_impressions: sum of followers at posting over those posts (null when unknown)
-- followers_known_posts: posts linking to it whose author's followers at posting are known
with
domains as (
    select campaign, domain, posts, authors, potential_reach, potential_impressions,
           followers_known_posts
    from core.campaign_domain_totals
),
scores as (
    select campaign, domain, 'posts' as metric, posts as value from domains
    union all
    select campaign, domain, 'potential_reach', potential_reach from domains
    where potential_reach is not null
),
floors as (
    -- the 25th largest value per metric: nothing below it can rank (ties pass)
    select campaign, metric, list_min(max(value, 25)) as floor
    from scores
    group by all
),
leaders as (
    -- each metric's 25 smallest (-value, domain): a top-N heap, no sort of every row
    select distinct campaign, unnest(keys) as domain
    from (select s.campaign, arg_min(s.domain, (-s.value, s.domain), 25) as keys
          from scores s
          join floors f using (campaign, metric)
          where s.value >= f.floor
          group by s.campaign, s.metric)
)
select campaign, domain, posts, authors, potential_reach, potential_impressions,
       followers_known_posts
from domains
semi join leaders using (campaign, domain)
