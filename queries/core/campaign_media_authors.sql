-- One row per (campaign, media item, author): the author's campaign posts carrying the item
-- (its file url; items without a url are left out), kept incrementally like
-- core.campaign_link_authors.
-- @incremental campaign, url, platform, author_id
-- @changes core.campaign_media(campaign, url, platform, author_id)
-- @merge posts sum, followers max, potential_impressions sum, followers_known_posts sum, media_type min, preview_url min, alt_text min
--
-- campaign: campaign name from the config
-- url: the item's file
-- platform: the platform (core.platforms; x, mastodon, bluesky, facebook, ...)
-- author_id: the author's identity on the platform
-- posts: the author's campaign posts carrying the item
-- followers: largest follower count at posting among those posts (null when unknown)
-- potential_impressions: sum of followers at posting over those posts (null when unknown)
-- followers_known_posts: those posts whose followers at posting are known
-- media_type: photo, video, gif, audio or unknown (the smallest seen)
-- preview_url: a still image of it (the smallest given)
-- alt_text: a description its author gave (the smallest given; untrusted text)
with
posts as (
    select campaign, url, platform, author_id, post_id,
           any_value(followers_at_post) as followers_at_post, min(media_type) as media_type,
           min(preview_url) as preview_url, min(alt_text) as alt_text
    from core.campaign_media
    where url is not null
    group by all
)
select campaign, url, platform, author_id, count(*) as posts,
       max(followers_at_post) as followers, sum(followers_at_post)::bigint as potential_impressions,
       count(followers_at_post) as followers_known_posts, min(media_type) as media_type,
       min(preview_url) as preview_url, min(alt_text) as alt_text
from posts
group by all
