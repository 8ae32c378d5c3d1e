-- One row per (campaign, day) with campaign posts carrying links: how many posts carry links,
-- and how many different links and domains they share. Days are calendar days in the
-- campaign's time zone (the day's posts, with or without links: marts.volume_daily).
-- @incremental campaign, day
-- @changes core.campaign_links(campaign, local_day)
--
-- campaign: campaign name from the config
-- day: calendar date in the campaign's time zone (DATE)
-- posts_with_links: campaign posts made that day carrying at least one link
-- link_shares: links carried, summed over those posts (a post with two links counts two)
-- links: distinct normalised links
-- domains: distinct registered domains
with
link_posts as (
    select campaign, local_day as day, platform, post_id, count(*) as n
    from core.campaign_links
    group by all
),
per_day as (
    select campaign, day, count(*) as posts_with_links, sum(n)::bigint as link_shares
    from link_posts
    group by all
),
links as (
    select campaign, local_day as day, count(distinct url_norm) as links,
           count(distinct domain) as domains
    from core.campaign_links
    group by all
)
select d.campaign, d.day, d.posts_with_links, d.link_shares, l.links, l.domains
from per_day d
join links l using (campaign, day)
order by d.campaign, d.day
