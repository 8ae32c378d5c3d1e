-- One row per (campaign, post, unordered pair of the post's normalised tags): the input of
-- marts.hashtag_cooccurrence, kept incrementally so the mart is a group-by, not a self-join.
-- @incremental campaign, platform, post_id, tag_a, tag_b
-- @changes core.campaign_hashtags(campaign, platform, post_id)
--
-- campaign: campaign name from the config
-- platform: the platform (core.platforms; x, mastodon, bluesky, facebook, ...)
-- post_id: the platform's identity of the post
-- tag_a: the smaller normalised tag of the pair (code-point order)
-- tag_b: the larger normalised tag of the pair
-- created_at: posting time (UTC; a report's --since/--until reads the pairs by it)
with
tags as (
    select campaign, platform, post_id, tag, created_at from core.campaign_hashtags
)
select a.campaign, a.platform, a.post_id, a.tag as tag_a, b.tag as tag_b, a.created_at
from tags a
join tags b
  on b.campaign = a.campaign and b.platform = a.platform and b.post_id = a.post_id
 and a.tag < b.tag
