-- One row per (campaign, metric, rank): the 25 leading media items by posts and by potential
-- reach. A media item is its file url (the same file attached to several posts is one item;
-- an item without a url is not ranked). Ties are broken by url. An item whose potential
-- reach is not known is not ranked by potential_reach.
--
-- campaign: campaign name from the config
-- metric: 'posts' or 'potential_reach': the column ranked by
-- rank: 1 to 25 within (campaign, metric)
-- url: the file
-- media_type: photo, video, gif, audio or unknown
-- platform: the platform it was posted on
-- preview_url: a still image of it, when given
-- alt_text: a description its authors gave (the smallest among those given; untrusted text)
-- posts: campaign posts carrying it
-- authors: distinct known authors of those posts (null when no post's author is known)
-- potential_reach: the sum over the distinct authors of those posts of each one's largest
--   followers at posting among them (null when no author's followers are known)
-- potential_impressions: sum of followers at posting over those posts (null when unknown)
-- followers_known_posts: posts carrying it whose author's followers at posting are known
with
per_item as (
    select campaign, url, media_type, platform, preview_url, alt_text, posts, authors,
           potential_reach, potential_impressions, followers_known_posts
    from core.campaign_media_leaders
),
scores as (
    select *, 'posts' as metric, posts as value from per_item
    union all
    select *, 'potential_reach', potential_reach from per_item where potential_reach is not null
),
floors as (
    -- the 25th largest value per metric: nothing below it can rank (ties pass)
    select campaign, metric, list_min(max(value, 25)) as floor
    from scores
    group by all
),
top as (
    -- the 25 smallest (-value, url): a top-N heap, no sort of every row
    select s.campaign, s.metric,
           arg_min({'url': s.url, 'media_type': s.media_type, 'platform': s.platform,
                    'preview_url': s.preview_url, 'alt_text': s.alt_text, 'posts': s.posts,
                    'authors': s.authors, 'potential_reach': s.potential_reach,
                    'potential_impressions': s.potential_impressions,
                    'followers_known_posts': s.followers_known_posts},
                   (-s.value, s.url), 25) as leaders
    from scores s
    join floors f using (campaign, metric)
    where s.value >= f.floor
    group by all
),
ranked as (
    select campaign, metric, unnest(leaders, recursive := true),
           unnest(range(1, len(leaders) + 1)) as rank
    from top
)
select campaign, metric, rank, url, media_type, platform, preview_url, alt_text, posts,
       authors, potential_reach, potential_impressions, followers_known_posts
from ranked
order by campaign, metric, rank
