-- One row per (campaign, platform): posts by platform.
--
-- campaign: campaign name from the config
-- platform: the platform (core.platforms; x, mastodon, bluesky, facebook, ...)
-- posts: campaign posts on that platform
-- share: posts / all campaign posts (0 to 1)
with
counts as (
    select campaign, platform, sum(posts)::bigint as posts from core.campaign_hourly
    group by all
)
select campaign, platform, posts, posts / sum(posts) over (partition by campaign) as share
from counts
order by campaign, posts desc, platform
