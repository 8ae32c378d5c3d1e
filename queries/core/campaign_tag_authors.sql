-- One row per (campaign, campaign tag, written form, author): the author's campaign posts
-- carrying one of the campaign's own tags in that written form, kept incrementally (new posts
-- are added to their authors' rows, @merge) so that marts.tag_variants and marts.tag_overlap
-- count distinct contributors from authors, not posts. An author is (platform, author_id).
-- @incremental campaign, tag, tag_text, platform, author_id
-- @changes core.campaign_hashtags(campaign, tag, tag_text, platform, author_id)
-- @merge posts sum, followers max, first_post min
--
-- campaign: campaign name from the config
-- tag: the normalised campaign tag (NFKC + case folding, no '#')
-- tag_text: the tag as written in the posts (without '#')
-- platform: the platform (core.platforms; x, mastodon, bluesky, facebook, ...)
-- author_id: the author's identity on the platform
-- posts: the author's campaign posts carrying the tag in that written form
-- followers: largest follower count at posting among those posts (null when unknown)
-- first_post: time of the author's first such post (UTC)
with
tags as (
    select campaign, tag, tag_text, platform, author_id, followers_at_post, created_at
    from core.campaign_hashtags
    where is_campaign_tag
)
select campaign, tag, tag_text, platform, author_id, count(*) as posts,
       max(followers_at_post) as followers, min(created_at) as first_post
from tags
group by all
