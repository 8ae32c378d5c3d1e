-- One row per (campaign, day) with at least one post: who posted, and how many for the first
-- time. An author is (platform, author_id); days are in the campaign's time zone.
--
-- campaign: campaign name from the config
-- day: calendar date in the campaign's time zone (DATE)
-- authors: distinct authors who posted in the campaign that day (null when no post's author
--   that day is known: marts.reach_daily)
-- new_authors: authors whose first campaign post was that day (first-time adopters; null
--   when authors is)
-- returning_authors: authors who had posted in the campaign on an earlier day
-- cumulative_authors: distinct authors from the first day up to and including this one
with
days as (
    -- reach_daily counts distinct authors per platform; an author is on one platform
    select campaign, day, sum(contributors)::bigint as authors
    from marts.reach_daily
    group by all
),
first_days as (
    select campaign, first_day as day, sum(authors)::bigint as new_authors
    from core.campaign_author_days
    group by all
),
daily as (
    select d.campaign, d.day, d.authors,
           if(d.authors is null, null, coalesce(f.new_authors, 0)) as new_authors
    from days d
    left join first_days f using (campaign, day)
)
select campaign, day, authors, new_authors, authors - new_authors as returning_authors,
       sum(new_authors) over (partition by campaign order by day) as cumulative_authors
from daily
order by campaign, day
