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
posts as (
    select * from core.campaign_posts
),
authors as (
    select platform, author_id, handle from core.authors
),
by_author as (
    select campaign, platform, author_id, count(*) as posts,
           sum(coalesce(followers_at_post, 0))::bigint as potential_impressions,
           coalesce(sum(engagement), 0)::bigint as engagement
    from posts
    group by all
),
author_metrics as (
    unpivot by_author on posts, potential_impressions, engagement
    into name metric value value
),
mentions as (
    select p.campaign, m.platform, m.mentioned_handle, count(*) as value
    from posts p
    join norm.post_mentions m on m.platform = p.platform and m.post_id = p.post_id
    group by all
),
mentioned_accounts as (
    select distinct on (m.campaign, m.platform, m.mentioned_handle)
           m.campaign, 'mentions' as metric, m.platform, a.author_id,
           m.mentioned_handle as handle, m.value, m.mentioned_handle as tiebreak
    from mentions m
    left join authors a
        on a.platform = m.platform
       and (lower(a.handle) = m.mentioned_handle or lower(a.author_id) = m.mentioned_handle)
    order by m.campaign, m.platform, m.mentioned_handle, a.author_id
),
candidates as (
    select m.campaign, m.metric, m.platform, m.author_id, a.handle, m.value::bigint as value,
           m.author_id as tiebreak
    from author_metrics m
    left join authors a using (platform, author_id)
    union all
    select campaign, metric, platform, author_id, handle, value, tiebreak
    from mentioned_accounts
),
ranked as (
    select *, row_number() over (partition by campaign, metric
                                 order by value desc, platform, tiebreak) as rank
    from candidates
)
select campaign, metric, rank, platform, author_id, handle, value
from ranked
where rank <= 25
order by campaign, metric, rank
