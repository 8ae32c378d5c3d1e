-- One row per (campaign, source, day): whether collection for that source covered that day,
-- from ledger.gaps and ledger.runs, so every chart can say where data is missing.
-- Days are calendar days in the campaign's time zone, from the campaign's configured start
-- (else its first post) to its configured end (else its last post), never past today.
-- Sources are those with a collection run or a gap recorded for the campaign.
--
-- campaign: campaign name from the config
-- source: the source name from the config
-- day: calendar date in the campaign's time zone (DATE)
-- complete: true when no recorded gap overlaps the day and the source has at least one run
--   that finished 'ok'
-- gaps: number of recorded gaps overlapping the day (a gap without start or end is open)
-- reasons: the distinct reasons, '; '-separated ('no successful run' when no run finished
--   'ok'); empty when complete
with
campaigns as (
    select campaign, timezone, start_date, end_date from core.campaigns
),
sources as (
    select campaign, source from ledger.runs where campaign is not null and source is not null
    union
    select campaign, source from ledger.gaps where campaign is not null and source is not null
),
post_days as (
    select campaign, min(day) as first_day, max(day) as last_day
    from marts.reach_daily
    group by all
),
spans as (
    select c.campaign, c.timezone, coalesce(c.start_date, d.first_day) as first_day,
           least(coalesce(c.end_date, d.last_day),
                 cast(timezone(c.timezone, now()) as date)) as last_day
    from campaigns c
    left join post_days d using (campaign)
),
days as (
    select campaign, timezone,
           cast(unnest(generate_series(first_day, last_day, interval 1 day)) as date) as day
    from spans
    where first_day is not null and last_day is not null and first_day <= last_day
),
grid as (
    select d.campaign, s.source, d.day,
           timezone(d.timezone, cast(d.day as timestamp)) as day_start,
           timezone(d.timezone, cast(d.day + 1 as timestamp)) as day_end
    from days d
    join sources s using (campaign)
),
day_gaps as (
    select g.campaign, g.source, g.day, count(x.reason) as gaps,
           string_agg(distinct x.reason, '; ' order by x.reason) as gap_reasons
    from grid g
    left join ledger.gaps x
        on x.campaign = g.campaign and x.source = g.source
       and coalesce(x.gap_start, '-infinity'::timestamptz) < g.day_end
       and coalesce(x.gap_end, 'infinity'::timestamptz) > g.day_start
    group by all
),
ok_runs as (
    select campaign, source, count(*) filter (where status = 'ok') as ok_runs
    from ledger.runs
    group by all
)
select o.campaign, o.source, o.day,
       o.gaps = 0 and coalesce(r.ok_runs, 0) > 0 as complete,
       o.gaps,
       concat_ws('; ', case when coalesce(r.ok_runs, 0) = 0 then 'no successful run' end,
                 o.gap_reasons) as reasons
from day_gaps o
left join ok_runs r using (campaign, source)
order by o.campaign, o.source, o.day
