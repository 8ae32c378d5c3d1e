-- Potential impressions next to the impressions X actually reports, per day (X only).
select campaign, day, potential_impressions, actual_impressions,
       round(actual_impressions / nullif(potential_impressions, 0), 3) as seen_ratio
from marts.reach_daily
where platform = 'x'
order by campaign, day
