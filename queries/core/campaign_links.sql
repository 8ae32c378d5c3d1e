-- One row per (campaign, post, normalised link): the links each campaign post carries, with
-- what the link marts need of the post. A post's links are those of its own payload, as for
-- hashtags: X entities.urls (a retweet's are the retweeted text's), links in a Mastodon
-- status's content and its preview card, Bluesky link facets and external embeds, a CSV
-- export's link column. A Mastodon reblog or a Bluesky repost carries none.
-- @incremental campaign, platform, post_id, url_norm
-- @changes core.campaign_posts(campaign, platform, post_id)
-- @changes norm.post_urls(platform, post_id)
-- @lookup norm.post_urls(platform, post_id)
--
-- campaign: campaign name from the config
-- platform: the platform (core.platforms; x, mastodon, bluesky, facebook, ...)
-- post_id: the platform's identity of the post
-- url_norm: the link, normalised (tracker/urls.py: tracking parameters, fragment and default
--   port dropped, scheme and host lowercased)
-- domain: registered domain of the link (null for a link that is not http or https)
-- expanded_url: the link as posted, expanded (X: expanded_url of the t.co link)
-- source: where the post carries it: entity, content, card, facet, embed or csv
-- author_id: the post's author
-- followers_at_post: the author's followers when posting (null if never observed)
-- hour: start of the UTC hour of posting
-- local_day: calendar date of posting in the campaign's time zone
with
posts as (
    select campaign, platform, post_id, author_id, followers_at_post, hour, local_day
    from core.campaign_posts
),
links as (
    select platform, post_id, url_norm, domain, expanded_url, source from norm.post_urls
)
select p.campaign, p.platform, p.post_id, l.url_norm, l.domain, l.expanded_url, l.source,
       p.author_id, p.followers_at_post, p.hour, p.local_day
from posts p
join links l on l.platform = p.platform and l.post_id = p.post_id
-- in time order, so that scans for recent days skip the older row groups
order by p.hour
