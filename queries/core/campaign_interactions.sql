-- One row per (campaign, post, interaction): what each campaign post reposts, quotes, replies
-- to or @-mentions, as stored (the post it points at, or the handle it names), kept
-- incrementally for marts.network_edges, which finds the accounts behind them.
-- @incremental campaign, platform, post_id, kind, target
-- @changes core.campaign_posts(campaign, platform, post_id)
-- @changes norm.post_mentions(platform, post_id)
-- @lookup norm.post_mentions(platform, post_id)
-- What counts: the sources are the campaign's posts (core.campaign_posts: the posts every
-- figure counts). A repost, quote or reply points at the post its kind names (parent_id: a
-- quote that also replies counts once, as a quote); one whose parent is not known (a Mastodon
-- reply whose parent was not resolved) points nowhere and is left out. Every post except a
-- repost (whose mentions are the reposted text's) points at each account it @-mentions; an X
-- reply's text starts with the handles it replies to, so it mentions them too.
--
-- campaign: campaign name from the config
-- platform: the platform (core.platforms; x, mastodon, bluesky, facebook, ...)
-- post_id: the campaign post that interacts (the source)
-- kind: 'repost', 'quote', 'reply' or 'mention'
-- target: for a repost, quote or reply, the post_id of the post it points at; for a mention,
--   the handle as mentioned, lowercased (Bluesky: the DID)
-- author_id: the source post's author
-- created_at: when the source post was made (UTC)
-- local_day: calendar date of the source post in the campaign's time zone
with
posts as (
    select campaign, platform, post_id, kind, parent_id, author_id, created_at, local_day
    from core.campaign_posts
),
links as (
    select campaign, platform, post_id, kind, parent_id as target, author_id, created_at,
           local_day
    from posts
    where kind in ('repost', 'quote', 'reply') and parent_id is not null
),
mentions as (
    select p.campaign, p.platform, p.post_id, 'mention' as kind, m.mentioned_handle as target,
           p.author_id, p.created_at, p.local_day
    from posts p
    join norm.post_mentions m on m.platform = p.platform and m.post_id = p.post_id
    where p.kind <> 'repost'
)
select campaign, platform, post_id, kind, target, author_id, created_at, local_day
from links
union all
select campaign, platform, post_id, kind, target, author_id, created_at, local_day
from mentions
