-- One row per (campaign, language): posts by the language the platform reports.
--
-- campaign: campaign name from the config
-- lang: language code as reported ('und' when undetermined or missing)
-- posts: campaign posts in that language
-- share: posts / all campaign posts (0 to 1)
with
counts as (
    select campaign, lang, sum(posts)::bigint as posts from core.campaign_hourly group by all
)
select campaign, lang, posts, posts / sum(posts) over (partition by campaign) as share
from counts
order by campaign, posts desc, lang
