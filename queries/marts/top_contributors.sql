-- One row per (campaign, metric, rank): the 25 leading accounts by each metric.
-- Ties are broken by platform, then author_id (handle for mentions), so ranks are stable.
--
-- campaign: campaign name from the config
-- metric: 'posts' (posts made), 'potential_impressions' (sum of followers at posting),
--   'engagement' (engagement received on their posts) or 'mentions' (times the account was
--   @-mentioned in campaign posts)
-- rank: 1 to 25 within (campaign, metric)
-- platform: x, mastodon or bluesky
-- author_id: the account's identity (null for a mentioned account never seen as an author)
-- handle: the account's handle (for mentions, as mentioned, lowercased)
-- value: the metric's value
with
author_floors as (
    -- the 25th largest value of each metric: no author below all three can rank (ties pass)
    select campaign, list_min(max(posts, 25)) as posts,
           list_min(max(potential_impressions, 25)) as potential_impressions,
           list_min(max(coalesce(engagement, 0), 25)) as engagement
    from core.campaign_authors
    group by all
),
by_author as (
    select a.campaign, a.platform, a.author_id, a.posts, a.potential_impressions,
           coalesce(a.engagement, 0) as engagement
    from core.campaign_authors a
    join author_floors f
      on f.campaign = a.campaign
     and (a.posts >= f.posts or a.potential_impressions >= f.potential_impressions
          or coalesce(a.engagement, 0) >= f.engagement)
),
author_metrics as (
    unpivot by_author on posts, potential_impressions, engagement
    into name metric value value
),
mentions as (
    select campaign, 'mentions' as metric, platform, mentioned_handle, count(*) as value
    from core.campaign_mentions
    group by all
),
scores as (
    select campaign, metric, platform, author_id, null::varchar as handle,
           value::bigint as value, author_id as tiebreak
    from author_metrics
    union all
    select campaign, metric, platform, null, mentioned_handle, value::bigint, mentioned_handle
    from mentions
),
floors as (
    -- the 25th largest value per metric: no account below it can rank (ties pass)
    select campaign, metric, list_min(max(value, 25)) as floor
    from scores
    group by all
),
contenders as (
    select s.* from scores s join floors f using (campaign, metric) where s.value >= f.floor
),
mentioned_handles as (
    select distinct platform, handle from contenders where metric = 'mentions'
),
mentioned as (
    -- an account can be mentioned by handle (X, Mastodon) or by DID (Bluesky)
    select platform, handle, min(author_id) as author_id
    from (
        select h.platform, h.handle, a.author_id
        from norm.authors a
        join mentioned_handles h on h.platform = a.platform and h.handle = lower(a.handle)
        union all
        select h.platform, h.handle, a.author_id
        from norm.authors a
        join mentioned_handles h on h.platform = a.platform and h.handle = lower(a.author_id)
        where a.platform = 'bluesky'
    )
    group by all
),
candidates as (
    select c.campaign, c.metric, c.platform, coalesce(c.author_id, m.author_id) as author_id,
           c.handle, c.value, c.tiebreak
    from contenders c
    left join mentioned m
      on c.metric = 'mentions' and m.platform = c.platform and m.handle = c.handle
),
top as (
    -- the 25 smallest (-value, platform, tiebreak): a top-N heap, no full sort
    select campaign, metric,
           arg_min({'platform': platform, 'author_id': author_id, 'handle': handle,
                    'value': value}, (-value, platform, tiebreak), 25) as leaders
    from candidates
    group by all
),
ranked as (
    select campaign, metric, unnest(leaders) as leader,
           unnest(range(1, len(leaders) + 1)) as rank
    from top
)
select r.campaign, r.metric, r.rank, r.leader.platform as platform,
       r.leader.author_id as author_id, coalesce(r.leader.handle, a.handle) as handle,
       r.leader.value as value
from ranked r
left join norm.authors a on a.platform = r.leader.platform and a.author_id = r.leader.author_id
order by r.campaign, r.metric, r.rank
