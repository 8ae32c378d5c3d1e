-- One row per (campaign, day) with at least one post: who posted, and how many for the first
-- time. An author is (platform, author_id); days are in the campaign's time zone.
--
-- campaign: campaign name from the config
-- day: calendar date in the campaign's time zone (DATE)
-- authors: distinct authors who posted in the campaign that day
-- new_authors: authors whose first campaign post was that day (first-time adopters)
-- returning_authors: authors who had posted in the campaign on an earlier day
-- cumulative_authors: distinct authors from the first day up to and including this one
with
posts as (
    select p.campaign, p.platform, p.author_id,
           p.local_day as day
    from core.campaign_posts p
),
author_days as (
    select distinct campaign, platform, author_id, day from posts
),
first_days as (
    select campaign, platform, author_id, min(day) as first_day
    from author_days
    group by all
),
daily as (
    select d.campaign, d.day, count(*) as authors,
           count(*) filter (where d.day = f.first_day) as new_authors
    from author_days d
    join first_days f using (campaign, platform, author_id)
    group by all
)
select campaign, day, authors, new_authors, authors - new_authors as returning_authors,
       sum(new_authors) over (partition by campaign order by day) as cumulative_authors
from daily
order by campaign, day
