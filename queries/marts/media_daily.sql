-- One row per (campaign, day, media type) with campaign posts carrying media of that type:
-- how many posts carry it and how many items. Days are calendar days in the campaign's time
-- zone.
-- @incremental campaign, day, media_type
-- @changes core.campaign_media(campaign, local_day)
--
-- campaign: campaign name from the config
-- day: calendar date in the campaign's time zone (DATE)
-- media_type: photo, video, gif, audio or unknown
-- posts: campaign posts made that day carrying media of this type
-- items: media items of this type in them
with
media as (
    select campaign, local_day as day, media_type, platform, post_id
    from core.campaign_media
)
select campaign, day, media_type, count(distinct (platform, post_id)) as posts,
       count(*) as items
from media
group by all
order by campaign, day, media_type
