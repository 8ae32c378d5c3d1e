-- One row per (campaign, UTC hour, normalised tag, written form): how many campaign posts of
-- that hour carry the tag in that form, kept incrementally per (campaign, hour) for
-- marts.hashtags.
-- @incremental campaign, hour, tag, tag_text
-- @changes core.campaign_hashtags(campaign, hour)
--
-- campaign: campaign name from the config
-- hour: start of the UTC hour of posting (TIMESTAMPTZ)
-- tag: the normalised tag
-- tag_text: the tag as written in the posts (without '#')
-- is_campaign_tag: true when the tag is one of the campaign's own configured hashtags
-- posts: campaign posts of that hour carrying the tag in that form
with
tags as (
    select campaign, hour, tag, tag_text, is_campaign_tag from core.campaign_hashtags
)
select campaign, hour, tag, tag_text, is_campaign_tag, count(*) as posts
from tags
group by all
