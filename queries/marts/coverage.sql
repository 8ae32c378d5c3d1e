-- One row per (campaign, source, day): whether collection for that source covered that day,
-- from ledger.gaps and ledger.runs, so every chart can say where data is missing.
-- Days are calendar days in the campaign's time zone, from the campaign's configured start
-- (else its first post) to its configured end (else its last post), never past today.
-- Sources are those with a collection run, an import with --campaign (source 'import') or a
-- gap recorded for the campaign. An archive says nothing about what it left out, so an
-- imported source's coverage is not known: its days are neither complete nor incomplete.
-- A hydrated id list (`tracker hydrate`, source 'hydrate') is like an archive: what it left
-- out is not known. Engagement re-polls (kind 'repoll') collect no posts and are not sources.
--
-- campaign: campaign name from the config
-- source: the source name from the config ('import' for imports with --campaign)
-- day: calendar date in the campaign's time zone (DATE)
-- state: Coverage of the day by the source: 'complete' (collected live, no recorded gap
--   overlaps the day, and the source has a run that finished 'ok'), 'incomplete' (a gap was
--   recorded that overlaps the day, or no run finished 'ok': figures for the day are lower
--   bounds) or 'unknown' (imported from an archive: what the archive left out is not known).
-- complete: true when the state is 'complete', false when 'incomplete', null when 'unknown'
-- gaps: number of recorded gaps overlapping the day (a gap without start or end is open)
-- reasons: why the day is not complete, '; '-separated: the gaps' reasons, 'no successful
--   run', or 'imported: coverage unknown'; empty when complete
with
campaigns as (
    select campaign, timezone, start_date, end_date from core.campaigns
),
sources as (
    select campaign, source from ledger.runs
    where campaign is not null and source is not null and kind <> 'repoll'
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
runs as (
    select campaign, source, count(*) filter (where status = 'ok') as ok_runs,
           bool_and(kind in ('import', 'hydrate')) as imported
    from ledger.runs
    group by all
),
states as (
    select o.campaign, o.source, o.day, o.gaps, o.gap_reasons,
           coalesce(r.ok_runs, 0) > 0 as succeeded,
           case when coalesce(r.imported, false) and o.gaps = 0 then 'unknown'
                when o.gaps = 0 and coalesce(r.ok_runs, 0) > 0 then 'complete'
                else 'incomplete' end as state
    from day_gaps o
    left join runs r using (campaign, source)
)
select campaign, source, day, state,
       case state when 'complete' then true when 'incomplete' then false end as complete,
       gaps,
       case when state = 'unknown' then 'imported: coverage unknown'
            else concat_ws('; ', case when not succeeded then 'no successful run' end,
                           gap_reasons) end as reasons
from states
order by campaign, source, day
