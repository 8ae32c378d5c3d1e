-- One row per (campaign, media item) among the campaign's 25 leading items by posts or by
-- potential reach: the candidates of marts.top_media, with the item's row of
-- core.campaign_media_totals. Order per metric as in marts.top_media: value (largest first), then
-- url; an item whose potential reach is not known is not ranked by it.
-- @incremental campaign, url
-- @changes core.campaign_media_totals(campaign, url)
-- @reapply
-- Kept incrementally: when new posts only added to the totals (core.campaign_media_totals was
-- merged), no other media item can have passed a leader, so the leaders are chosen again from
-- the previous leaders and the changed items; otherwise from every item.
--
-- campaign: campaign name from the config
-- url: the item's file
-- media_type: photo, video, gif, audio or unknown (the smallest seen)
-- platform: the platform it was posted on (the smallest, were it on several)
-- preview_url: a still image of it (the smallest given)
-- alt_text: a description its authors gave (the smallest given; untrusted text)
-- posts: campaign posts carrying it
-- authors: distinct known authors of those posts (null when no post's author is known)
-- potential_reach: the sum over the distinct authors of those posts of each one's largest
--   followers at posting among them (null when no author's followers are known)
-- potential_impressions: sum of followers at posting over those posts (null when unknown)
-- followers_known_posts: posts carrying it whose author's followers at posting are known
with
items as (
    select campaign, url, media_type, platform, preview_url, alt_text, posts, authors,
           potential_reach, potential_impressions, followers_known_posts
    from core.campaign_media_totals
),
scores as (
    select campaign, url, 'posts' as metric, posts as value from items
    union all
    select campaign, url, 'potential_reach', potential_reach from items
    where potential_reach is not null
),
floors as (
    -- the 25th largest value per metric: nothing below it can rank (ties pass)
    select campaign, metric, list_min(max(value, 25)) as floor
    from scores
    group by all
),
leaders as (
    -- each metric's 25 smallest (-value, url): a top-N heap, no sort of every row
    select distinct campaign, unnest(keys) as url
    from (select s.campaign, arg_min(s.url, (-s.value, s.url), 25) as keys
          from scores s
          join floors f using (campaign, metric)
          where s.value >= f.floor
          group by s.campaign, s.metric)
)
select campaign, url, media_type, platform, preview_url, alt_text, posts, authors,
       potential_reach, potential_impressions, followers_known_posts
from items
semi join leaders using (campaign, url)
