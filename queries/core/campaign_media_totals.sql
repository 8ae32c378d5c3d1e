-- One row per (campaign, media item): the campaign posts carrying it, their distinct authors
-- and potential reach, from core.campaign_media_authors: when new posts only added to the
-- authors' rows (that model was merged), their new versions are added and the replaced ones
-- taken off (@merge); otherwise the changed items are recomputed.
-- core.campaign_media_leaders keeps the leading items of marts.top_media.
-- @incremental campaign, url
-- @changes core.campaign_media_authors(campaign, url)
-- @merge posts sum, authors sum, author_rows count, potential_reach sum, potential_impressions sum, followers_known_posts sum, media_type min, platform min, preview_url min, alt_text min
--
-- campaign: campaign name from the config
-- url: the item's file
-- media_type: photo, video, gif, audio or unknown (the smallest seen)
-- platform: the platform it was posted on (the smallest, were it on several)
-- preview_url: a still image of it (the smallest given)
-- alt_text: a description its authors gave (the smallest given; untrusted text)
-- posts: campaign posts carrying it
-- authors: distinct known authors of those posts (null when no post's author is known)
-- author_rows: its rows in core.campaign_media_authors: the known authors, and one for its
--   posts whose author is not known (the count @merge keeps)
-- potential_reach: the sum over the distinct authors of those posts of each one's largest
--   followers at posting among them (null when no author's followers are known)
-- potential_impressions: sum of followers at posting over those posts (null when unknown)
-- followers_known_posts: posts carrying it whose author's followers at posting are known
with
authors as (
    select campaign, author_id, url, platform, media_type, preview_url, alt_text, posts, followers,
           potential_impressions, followers_known_posts
    from core.campaign_media_authors
)
select campaign, url, min(media_type) as media_type, min(platform) as platform,
       min(preview_url) as preview_url, min(alt_text) as alt_text, sum(posts)::bigint as posts,
       nullif(count(author_id), 0) as authors,
       count(*) as author_rows, sum(followers)::bigint as potential_reach,
       sum(potential_impressions)::bigint as potential_impressions,
       sum(followers_known_posts)::bigint as followers_known_posts
from authors
group by all
