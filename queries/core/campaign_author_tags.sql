-- One row per (campaign, author with a post carrying one of the campaign's own tags): which of
-- those tags the author used, as bits (core.campaign_tag_bits), kept incrementally (@merge:
-- new posts add their tags' bits) for the tag overlap. An author is (platform, author_id).
-- @incremental campaign, platform, author_id
-- @changes core.campaign_hashtags(campaign, platform, author_id)
-- @merge tags bit_or
--
-- campaign: campaign name from the config
-- platform: the platform (core.platforms; x, mastodon, bluesky, facebook, ...)
-- author_id: the author's identity on the platform
-- tags: the campaign tags the author used in any written form: bit b set for the tag whose
--   core.campaign_tag_bits.bit is b
with
tags as (
    select campaign, platform, author_id, tag from core.campaign_hashtags where is_campaign_tag
),
bits as (
    select campaign, tag, bit from core.campaign_tag_bits
)
select t.campaign, t.platform, t.author_id, bit_or(1::ubigint << b.bit::ubigint) as tags
from tags t
join bits b on b.campaign = t.campaign and b.tag = t.tag
group by all
