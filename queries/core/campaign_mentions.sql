-- One row per (campaign, post, mentioned account): the @-mentions in campaign posts, kept
-- incrementally for marts.top_contributors. Reposts are left out, as in the network: an X
-- retweet's entities name the retweeted author ("RT @author") and repeat the mentions of the
-- retweeted text, which count once, on the original.
-- @incremental campaign, platform, post_id, mentioned_handle
-- @changes core.campaign_posts(campaign, platform, post_id)
-- @changes norm.post_mentions(platform, post_id)
-- @lookup norm.post_mentions(platform, post_id)
--
-- campaign: campaign name from the config
-- platform: the platform (core.platforms; x, mastodon, bluesky, facebook, ...)
-- post_id: the platform's identity of the post
-- mentioned_handle: the mentioned handle, lowercased (Bluesky: handle or DID)
-- created_at: posting time (UTC; a report's --since/--until reads the mentions by it)
with
posts as (
    select campaign, platform, post_id, created_at from core.campaign_posts
    where kind <> 'repost'
)
select p.campaign, m.platform, m.post_id, m.mentioned_handle, p.created_at
from posts p
join norm.post_mentions m on m.platform = p.platform and m.post_id = p.post_id
