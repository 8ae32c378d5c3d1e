-- One row per (campaign, post, media item): the photos, videos, gifs and audio each campaign
-- post carries in its own payload (X attachments described in includes.media or v1.1
-- extended_entities, Mastodon media_attachments, Bluesky image and video embeds; as for
-- links, a Mastodon reblog or a Bluesky repost carries none).
-- @incremental campaign, platform, post_id, position
-- @changes core.campaign_posts(campaign, platform, post_id)
-- @changes norm.post_media(platform, post_id)
-- @lookup norm.post_media(platform, post_id)
--
-- campaign: campaign name from the config
-- platform: the platform (core.platforms; x, mastodon, bluesky, facebook, ...)
-- post_id: the platform's identity of the post
-- position: the item's place in the post (1, 2, ...)
-- media_type: photo, video, gif, audio or unknown (an X media key the page did not describe)
-- url: the file (X video: its mp4 with the highest bit rate; null when not given)
-- preview_url: a still image of it, when given
-- alt_text: the description its author gave (untrusted text; null when none)
-- author_id: the post's author
-- followers_at_post: the author's followers when posting (null if never observed)
-- hour: start of the UTC hour of posting
-- local_day: calendar date of posting in the campaign's time zone
with
posts as (
    select campaign, platform, post_id, author_id, followers_at_post, hour, local_day
    from core.campaign_posts
),
media as (
    select platform, post_id, position, media_type, url, preview_url, alt_text
    from norm.post_media
)
select p.campaign, p.platform, p.post_id, m.position, m.media_type, m.url, m.preview_url,
       m.alt_text, p.author_id, p.followers_at_post, p.hour, p.local_day
from posts p
join media m on m.platform = p.platform and m.post_id = p.post_id
-- in time order, so that scans for recent days skip the older row groups
order by p.hour
