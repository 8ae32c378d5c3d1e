-- One row per (campaign, platform, source account, target account, kind): who reposted,
-- quoted, replied to and @-mentioned whom in the campaign's posts, how often, first and last.
-- @materialized view
-- The source is the author of a campaign post (core.campaign_interactions says which posts
-- and links count). The target of a repost, quote or reply is the author of the post it
-- points at, known only when that post is stored (a context post counts: its author is
-- stored with it); a mention's target is the account with that handle (norm.authors, compared
-- lowercased; Bluesky: the DID), or the handle itself when no such account is stored. An
-- account acting on itself (a thread, a self-repost) is no edge. A view: read when queried
-- (finding the targets' authors reads norm.posts), so the build does not pay for it.
--
-- campaign: campaign name from the config
-- platform: the platform (core.platforms; x, mastodon, bluesky, facebook, ...)
-- source_id: the acting account (author_id of the campaign posts)
-- target_id: the account acted on: its author_id; for a mentioned account never stored as an
--   author, '@' followed by the handle as mentioned (lowercased)
-- kind: 'repost', 'quote', 'reply' or 'mention'
-- weight: interactions: campaign posts by the source that did this to the target
-- first_at: the first of those posts (UTC)
-- last_at: the last of those posts (UTC)
with
interactions as (
    select campaign, platform, kind, target, author_id, created_at
    from core.campaign_interactions
),
posted as (
    select i.campaign, i.platform, i.kind, i.author_id as source_id,
           p.author_id as target_id, i.created_at
    from interactions i
    join norm.posts p on p.platform = i.platform and p.post_id = i.target
    where i.kind <> 'mention'
),
mentioned as (
    select distinct platform, target
    from interactions
    where kind = 'mention'
),
by_handle as (
    select a.platform, lower(a.handle) as target, a.author_id
    from norm.authors a
    where (a.platform, lower(a.handle)) in (select platform, target from mentioned)
),
by_did as (
    select a.platform, lower(a.author_id) as target, a.author_id
    from norm.authors a
    where a.platform = 'bluesky'
      and (a.platform, lower(a.author_id)) in (select platform, target from mentioned)
),
accounts as (
    -- a handle held by two stored accounts (renamed) names the smaller author_id
    select platform, target, min(author_id) as author_id
    from (select * from by_handle union all select * from by_did)
    group by all
),
mentions as (
    select i.campaign, i.platform, i.kind, i.author_id as source_id,
           coalesce(a.author_id, '@' || i.target) as target_id, i.created_at
    from interactions i
    left join accounts a on a.platform = i.platform and a.target = i.target
    where i.kind = 'mention'
),
edges as (
    select * from posted
    union all
    select * from mentions
)
select campaign, platform, source_id, target_id, kind, count(*) as weight,
       min(created_at) as first_at, max(created_at) as last_at
from edges
where source_id is not null and target_id is not null and source_id <> target_id
group by campaign, platform, source_id, target_id, kind
