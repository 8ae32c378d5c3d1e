-- One row per (UTC day, configured campaign) for every day on which any campaign has posts:
-- each campaign's share of all campaign posts that day. Days are UTC calendar days, so
-- campaigns with different time zones compare over the same 24 hours. A post carrying the
-- tags of two campaigns counts for both. A post without a known posting time (an X response
-- requested without created_at) is in no day.
--
-- day: UTC calendar date (DATE)
-- campaign: campaign name from the config
-- posts: the campaign's posts that day (0 if none)
-- share: posts / the sum of posts of all configured campaigns that day (0 to 1)
with
daily as (
    -- volume_hourly's hours are UTC hours, so each falls in one UTC day
    select campaign, cast(timezone('UTC', hour) as date) as day, sum(posts)::bigint as posts
    from marts.volume_hourly
    where hour is not null
    group by all
),
days as (
    select distinct day from daily
),
grid as (
    select d.day, c.campaign from days d cross join core.campaigns c
)
select g.day, g.campaign, coalesce(v.posts, 0) as posts,
       coalesce(v.posts, 0) / sum(coalesce(v.posts, 0)) over (partition by g.day) as share
from grid g
left join daily v using (day, campaign)
order by g.day, g.campaign
