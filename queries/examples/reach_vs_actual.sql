-- Potential impressions next to the impressions X actually reports, per day (X only). Each is
-- a sum over the posts it is known for (followers_known_posts, impressions_known_posts).
select campaign, day, followers_known_posts, potential_impressions, impressions_known_posts,
       actual_impressions,
       round(actual_impressions / nullif(potential_impressions, 0), 3) as seen_ratio
from marts.reach_daily
where platform = 'x'
order by campaign, day
