-- One row per (campaign, campaign tag, written form, platform, language): how many campaign
-- posts carry one of the campaign's own tags in that written form, kept incrementally (new
-- posts are added, @merge) for marts.tag_variants and the report's languages per variant.
-- @incremental campaign, tag, tag_text, platform, lang
-- @changes core.campaign_hashtags(campaign, tag, tag_text, platform, lang)
-- @merge posts sum, followers_known_posts sum, potential_impressions sum, first_post min, last_post max
--
-- campaign: campaign name from the config
-- tag: the normalised campaign tag (NFKC + case folding, no '#')
-- tag_text: the tag as written in the posts (without '#')
-- platform: the platform (core.platforms; x, mastodon, bluesky, facebook, ...)
-- lang: language code of the posts ('und' when undetermined or missing)
-- posts: campaign posts carrying the tag in that written form
-- followers_known_posts: those posts whose author's followers at posting are known
-- potential_impressions: sum of followers at posting over those posts (null when none)
-- first_post: time of the first such post (UTC)
-- last_post: time of the last such post (UTC)
with
tags as (
    select campaign, tag, tag_text, platform, lang, followers_at_post, created_at
    from core.campaign_hashtags
    where is_campaign_tag
)
select campaign, tag, tag_text, platform, lang, count(*) as posts,
       count(followers_at_post) as followers_known_posts,
       sum(followers_at_post)::bigint as potential_impressions,
       min(created_at) as first_post, max(created_at) as last_post
from tags
group by all
