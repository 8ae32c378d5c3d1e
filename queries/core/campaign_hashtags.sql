-- One row per (campaign, post, normalised hashtag): the tags carried by each campaign post.
-- @incremental campaign, platform, post_id, tag
-- @changes core.campaign_posts(campaign, platform, post_id)
-- @changes norm.post_hashtags(platform, post_id)
-- @lookup norm.post_hashtags(platform, post_id)
-- A tag is normalised by NFKC + case folding without '#', so #AleppoIsBurning and
-- #aleppoisburning on one post are one row. A Mastodon reblog carries no tags of its own.
--
-- campaign: campaign name from the config
-- platform: the platform (core.platforms; x, mastodon, bluesky, facebook, ...)
-- post_id: the platform's identity of the post
-- tag: the normalised tag
-- tag_text: the tag as written in the post (without '#')
-- is_campaign_tag: true when the tag is one of the campaign's own configured hashtags
-- hour: start of the UTC hour of posting (as in core.campaign_posts)
-- created_at: posting time (UTC)
-- author_id: the author's identity on the platform
-- lang: the post's language code ('und' when undetermined or missing)
-- followers_at_post: the author's followers when posting (as in core.campaign_posts; null if
--   never observed)
with
posts as (
    select campaign, platform, post_id, hour, created_at, author_id, lang, followers_at_post
    from core.campaign_posts
),
tags as (
    select platform, post_id, tag, tag_text from norm.post_hashtags
)
select p.campaign, p.platform, p.post_id, t.tag, t.tag_text,
       ct.tag is not null as is_campaign_tag, p.hour, p.created_at, p.author_id, p.lang,
       p.followers_at_post
from posts p
join tags t on t.platform = p.platform and t.post_id = p.post_id
left join core.campaign_tags ct on ct.campaign = p.campaign and ct.tag = t.tag
