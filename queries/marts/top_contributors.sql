-- One row per (campaign, metric, rank): the 25 leading accounts by each metric.
-- Ties are broken by platform, then author_id (handle for mentions), so ranks are stable.
-- An account whose value is not known (no follower count for potential impressions; no
-- engagement observation, or only reposts, for engagement) is not ranked by that metric.
--
-- campaign: campaign name from the config
-- metric: 'posts' (posts made), 'potential_impressions' (sum of followers at posting),
--   'engagement' (engagement received on their posts) or 'mentions' (times the account was
--   @-mentioned in campaign posts other than reposts)
-- rank: 1 to 25 within (campaign, metric)
-- platform: the platform (core.platforms; x, mastodon, bluesky, facebook, ...)
-- author_id: the account's identity (null for a mentioned account never seen as an author)
-- handle: the account's handle (for mentions, as mentioned, lowercased)
-- value: the metric's value
with
author_metrics as (
    -- each metric's 25 leading authors and their other metrics (ranked below)
    -- (unpivot leaves out null values: unknown is not ranked as 0)
    unpivot (select campaign, platform, author_id, posts, potential_impressions, engagement
             from core.campaign_author_leaders)
    on posts, potential_impressions, engagement
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
top as (
    -- the 25 smallest (-value, platform, tiebreak): a top-N heap, no full sort
    select s.campaign, s.metric,
           arg_min({'platform': s.platform, 'author_id': s.author_id, 'handle': s.handle,
                    'value': s.value}, (-s.value, s.platform, s.tiebreak), 25) as leaders
    from scores s
    join floors f using (campaign, metric)
    where s.value >= f.floor
    group by all
),
ranked as (
    -- at most 25 per (campaign, metric); the limit only tells DuckDB's planner they are few,
    -- so that the look-ups below hash the leaders, never norm.authors
    select campaign, metric, unnest(leaders, recursive := true),
           unnest(range(1, len(leaders) + 1)) as rank
    from top
    limit 1000000
),
keys as (
    -- the numeric keys (tracker/store/keys.py) of the leaders' ids and of the mentioned
    -- handles (a Bluesky mention may be a DID: an id)
    select author_key(platform, author_id) as k from ranked where author_id is not null
    union
    select author_key(platform, handle) from ranked where metric = 'mentions'
),
accounts as (
    -- the leaders' accounts: their rows found in norm.authors comparing numbers (the key
    -- columns only), then only those rows' texts read, by rowid (the build hands the few
    -- rowids to the scan, tracker/build/run.py); the joins below compare the texts (authors
    -- by id; mentioned accounts by handle on X and Mastodon, or by DID on Bluesky,
    -- lowercased), so two texts sharing a key do not mix
    select platform, author_id, handle, lower(handle) as lower_handle,
           lower(author_id) as lower_id
    from norm.authors
    where rowid in (select rowid from norm.authors
                    where author_key in (select k from keys) or handle_key in (select k from keys))
),
mentioned as (
    select r.campaign, r.metric, r.rank, min(a.author_id) as author_id
    from ranked r
    join accounts a
      on a.platform = r.platform
     and (a.lower_handle = r.handle or (a.platform = 'bluesky' and a.lower_id = r.handle))
    where r.metric = 'mentions'
    group by all
)
select r.campaign, r.metric, r.rank, r.platform,
       coalesce(r.author_id, m.author_id) as author_id, coalesce(r.handle, a.handle) as handle,
       r.value
from ranked r
left join mentioned m using (campaign, metric, rank)
left join accounts a on a.platform = r.platform and a.author_id = r.author_id
order by r.campaign, r.metric, r.rank
