-- Posts per local day and platform for every campaign.
select campaign, day, platform, sum(posts) as posts
from marts.volume_daily
group by all
order by campaign, day, platform
