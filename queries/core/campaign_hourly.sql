-- One row per (campaign, UTC hour, local weekday and hour, language): post counts, kept
-- incrementally per (campaign, hour) for the marts that count posts by time of day or
-- language. A UTC hour can span two local hours (time zones offset by a half hour), so the
-- local clock is kept per row rather than derived from the UTC hour.
-- @incremental campaign, hour, local_weekday, local_hour, lang
-- @changes core.campaign_posts(campaign, hour)
--
-- campaign: campaign name from the config
-- hour: start of the UTC hour of posting (TIMESTAMPTZ)
-- local_weekday: weekday of posting in the campaign's time zone (0 = Monday)
-- local_hour: clock hour of posting (0-23) in the campaign's time zone
-- lang: language code ('und' when undetermined or missing)
-- posts: campaign posts
with
posts as (
    select campaign, hour, local_weekday, local_hour, lang from core.campaign_posts
)
select campaign, hour, local_weekday, local_hour, lang, count(*) as posts
from posts
group by all
