-- One row per (campaign, day) with campaign posts: how many of the day's posts carry links,
-- and how many different links and domains they share. Days are calendar days in the
-- campaign's time zone.
-- @incremental campaign, day
-- @changes core.campaign_posts(campaign, local_day)
-- @changes core.campaign_links(campaign, local_day)
--
-- campaign: campaign name from the config
-- day: calendar date in the campaign's time zone (DATE)
-- posts: campaign posts made that day
-- posts_with_links: those carrying at least one link
-- link_shares: links carried, summed over the posts (a post with two links counts two)
-- links: distinct normalised links
-- domains: distinct registered domains
with
posts as (
    select campaign, local_day as day, count(*) as posts
    from core.campaign_posts
    group by all
),
link_posts as (
    select campaign, local_day as day, platform, post_id, count(*) as n
    from core.campaign_links
    group by all
),
links as (
    select campaign, local_day as day, count(distinct url_norm) as links,
           count(distinct domain) as domains
    from core.campaign_links
    group by all
),
per_day as (
    select campaign, day, count(*) as posts_with_links, sum(n)::bigint as link_shares
    from link_posts
    group by all
)
select p.campaign, p.day, p.posts, coalesce(d.posts_with_links, 0) as posts_with_links,
       coalesce(d.link_shares, 0) as link_shares, coalesce(l.links, 0) as links,
       coalesce(l.domains, 0) as domains
from posts p
left join per_day d using (campaign, day)
left join links l using (campaign, day)
order by p.campaign, p.day
