-- One row per (campaign, burst): a run of consecutive UTC hours whose volume rises well above
-- the campaign's baseline. The rule (documented in docs/models.md, simpler than Kleinberg's
-- automaton and reproducible by hand):
--   1. count posts per UTC hour, all platforms, filling hours without posts with 0, from the
--      campaign's first post hour to its last;
--   2. baseline = the median of those hourly counts;
--   3. an hour is hot when posts >= 3 x baseline and posts >= baseline + 5;
--   4. a burst is a maximal run of consecutive hot hours.
--
-- campaign: campaign name from the config
-- burst: 1, 2, ... in time order within the campaign
-- start_hour: first hot hour of the burst (start of the UTC hour)
-- peak_hour: the hour with the most posts in the burst (the earliest of equal hours)
-- end_hour: last hot hour of the burst (start of that hour; the burst ends one hour later)
-- peak_posts: posts in the peak hour
-- baseline_posts: the campaign's baseline (median posts per hour)
-- posts: posts in the burst
-- hours: length of the burst in hours
with
counts as (
    select campaign, hour, sum(posts)::bigint as posts
    from marts.volume_hourly
    group by all
),
spans as (
    select campaign, min(hour) as first_hour, max(hour) as last_hour from counts group by all
),
hours as (
    select campaign, unnest(generate_series(first_hour, last_hour, interval 1 hour)) as hour
    from spans
),
filled as (
    select h.campaign, h.hour, coalesce(c.posts, 0) as posts
    from hours h
    left join counts c using (campaign, hour)
),
baselines as (
    select campaign, median(posts) as baseline_posts from filled group by all
),
hot as (
    select f.campaign, f.hour, f.posts, b.baseline_posts,
           f.hour - to_hours(row_number() over (partition by f.campaign order by f.hour))
               as island
    from filled f
    join baselines b using (campaign)
    where f.posts >= 3 * b.baseline_posts and f.posts >= b.baseline_posts + 5
),
islands as (
    select campaign, island, min(hour) as start_hour, max(hour) as end_hour,
           arg_min(hour, (-posts, hour)) as peak_hour, max(posts) as peak_posts,
           any_value(baseline_posts) as baseline_posts, sum(posts)::bigint as posts,
           count(*) as hours
    from hot
    group by all
)
select campaign, row_number() over (partition by campaign order by start_hour) as burst,
       start_hour, peak_hour, end_hour, peak_posts, baseline_posts, posts, hours
from islands
order by campaign, burst
