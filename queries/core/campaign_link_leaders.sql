-- One row per (campaign, link) among the campaign's 25 leading links by posts or by
-- potential reach: the candidates of marts.top_links, with the link's row of
-- core.campaign_link_totals. Order per metric as in marts.top_links: value (largest first), then
-- url_norm; a link whose potential reach is not known is not ranked by it.
-- @incremental campaign, url_norm
-- @changes core.campaign_link_totals(campaign, url_norm)
-- @reapply
-- Kept incrementally: when new posts only added to the totals (core.campaign_link_totals was
-- merged), no other link can have passed a leader, so the leaders are chosen again from
-- the previous leaders and the changed links; otherwise from every link.
--
-- campaign: campaign name from the config
-- url_norm: the normalised link (core.campaign_links)
-- domain: its registered domain (null for a link that is not http or https)
-- posts: campaign posts carrying the link
-- authors: distinct known authors of those posts (null when no post's author is known)
-- potential_reach: the sum over the distinct authors of those posts of each one's largest
--   followers at posting among them (null when no author's followers are known)
-- potential_impressions: sum of followers at posting over those posts (null when unknown)
-- followers_known_posts: posts carrying it whose author's followers at posting are known
with
links as (
    select campaign, url_norm, domain, posts, authors, potential_reach, potential_impressions,
           followers_known_posts
    from core.campaign_link_totals
),
scores as (
    select campaign, url_norm, 'posts' as metric, posts as value from links
    union all
    select campaign, url_norm, 'potential_reach', potential_reach from links
    where potential_reach is not null
),
floors as (
    -- the 25th largest value per metric: nothing below it can rank (ties pass)
    select campaign, metric, list_min(max(value, 25)) as floor
    from scores
    group by all
),
leaders as (
    -- each metric's 25 smallest (-value, url_norm): a top-N heap, no sort of every row
    select distinct campaign, unnest(keys) as url_norm
    from (select s.campaign, arg_min(s.url_norm, (-s.value, s.url_norm), 25) as keys
          from scores s
          join floors f using (campaign, metric)
          where s.value >= f.floor
          group by s.campaign, s.metric)
)
select campaign, url_norm, domain, posts, authors, potential_reach, potential_impressions,
       followers_known_posts
from links
semi join leaders using (campaign, url_norm)
