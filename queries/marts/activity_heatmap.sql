-- One row per (campaign, weekday, hour of day): posts in the campaign's time zone, all 168
-- cells for every campaign with posts (0 where none).
--
-- campaign: campaign name from the config
-- weekday: 0 = Monday ... 6 = Sunday, in the campaign's time zone
-- weekday_name: Monday ... Sunday
-- hour_of_day: 0 to 23, local clock hour in the campaign's time zone
-- posts: campaign posts made in that local weekday and hour
with
counts as (
    select campaign, local_weekday as weekday, local_hour as hour_of_day,
           sum(posts)::bigint as posts
    from core.campaign_hourly
    group by all
),
grid as (
    select c.campaign, w.weekday, h.hour_of_day
    from (select distinct campaign from counts) c
    cross join (select unnest(range(7)) as weekday) w
    cross join (select unnest(range(24)) as hour_of_day) h
)
select g.campaign, g.weekday::integer as weekday,
       ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday',
        'Sunday'][g.weekday + 1] as weekday_name,
       g.hour_of_day::integer as hour_of_day, coalesce(v.posts, 0) as posts
from grid g
left join counts v using (campaign, weekday, hour_of_day)
order by g.campaign, g.weekday, g.hour_of_day
