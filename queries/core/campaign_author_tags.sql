-- One row per (campaign, author with a post carrying one of the campaign's own tags): which of
-- those tags the author used (as bits, core.campaign_tag_bits), in which written forms, and
-- the author's largest follower count among those posts, kept incrementally (@merge: new
-- posts add their tags, forms and counts) for the tag variants and the tag overlap. An author
-- is (platform, author_id): posts whose author is not known are left out.
-- @incremental campaign, platform, author_id
-- @changes core.campaign_hashtags(campaign, platform, author_id)
-- @merge tags bit_or, forms union, followers max
--
-- campaign: campaign name from the config
-- platform: the platform (core.platforms; x, mastodon, bluesky, facebook, ...)
-- author_id: the author's identity on the platform
-- tags: the campaign tags the author used in any written form: bit b set for the tag whose
--   core.campaign_tag_bits.bit is b
-- forms: the written forms the author used (tag_text), sorted, distinct, separated by the
--   character U+001F (text, not a list: far cheaper to scan when the build looks up authors)
-- followers: largest follower count at posting among the author's posts carrying the
--   campaign's tags (null when unknown)
with
tags as (
    select campaign, platform, author_id, tag, tag_text, followers_at_post
    from core.campaign_hashtags
    where is_campaign_tag and author_id is not null
),
bits as (
    select campaign, tag, bit from core.campaign_tag_bits
)
select t.campaign, t.platform, t.author_id,
       bit_or(1::ubigint << b.bit::ubigint) as tags,
       array_to_string(list_sort(list_distinct(list(t.tag_text))), chr(31)) as forms,
       max(t.followers_at_post) as followers
from tags t
left join bits b on b.campaign = t.campaign and b.tag = t.tag
group by all
