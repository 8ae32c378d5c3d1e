-- Days on which some source's collection was incomplete, with the reasons.
select campaign, day, list(source order by source) as sources, string_agg(reasons, ' | ') as reasons
from marts.coverage
where not complete
group by all
order by campaign, day
