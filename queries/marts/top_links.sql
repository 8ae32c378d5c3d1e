-- One row per (campaign, metric, rank): the 25 leading links by posts and by potential reach.
-- A link is its normalised form (core.campaign_links.url_norm), counted over the campaign's
-- posts that carry it (see core.campaign_links for which posts carry a link). Ties are broken
-- by url_norm, so ranks are stable. A link whose potential reach is not known (no follower
-- count for any of its authors) is not ranked by potential_reach.
--
-- campaign: campaign name from the config
-- metric: 'posts' or 'potential_reach': the column ranked by
-- rank: 1 to 25 within (campaign, metric)
-- url_norm: the normalised link
-- domain: its registered domain (null for a link that is not http or https)
-- posts: campaign posts carrying the link
-- authors: distinct known authors of those posts (null when no post's author is known)
-- potential_reach: the sum over the distinct authors of those posts of each one's largest
--   followers at posting among them (null when no author's followers are known)
-- potential_impressions: sum of followers at posting over those posts (null when unknown)
-- followers_known_posts: posts carrying it whose author's followers at posting are known
with
per_link as (
    select campaign, url_norm, domain, posts, authors, potential_reach, potential_impressions,
           followers_known_posts
    from core.campaign_link_leaders
),
scores as (
    select *, 'posts' as metric, posts as value from per_link
    union all
    select *, 'potential_reach', potential_reach from per_link where potential_reach is not null
),
floors as (
    -- the 25th largest value per metric: nothing below it can rank (ties pass)
    select campaign, metric, list_min(max(value, 25)) as floor
    from scores
    group by all
),
top as (
    -- the 25 smallest (-value, url_norm): a top-N heap, no sort of every row
    select s.campaign, s.metric,
           arg_min({'url_norm': s.url_norm, 'domain': s.domain, 'posts': s.posts,
                    'authors': s.authors, 'potential_reach': s.potential_reach,
                    'potential_impressions': s.potential_impressions,
                    'followers_known_posts': s.followers_known_posts},
                   (-s.value, s.url_norm), 25) as leaders
    from scores s
    join floors f using (campaign, metric)
    where s.value >= f.floor
    group by all
),
ranked as (
    select campaign, metric, unnest(leaders, recursive := true),
           unnest(range(1, len(leaders) + 1)) as rank
    from top
)
select campaign, metric, rank, url_norm, domain, posts, authors, potential_reach,
       potential_impressions, followers_known_posts
from ranked
order by campaign, metric, rank
