-- One row per (campaign, account) in the campaign's interaction graph (marts.network_edges):
-- how many accounts and interactions reached it and came from it.
-- @materialized view
-- Degrees count distinct accounts over every kind of interaction; strengths count the
-- interactions (the sum of edge weights). A centrality (weighted PageRank) is not a column
-- here: `tracker export network` and the report compute it from these edges (docs/models.md).
--
-- campaign: campaign name from the config
-- platform: the platform (core.platforms; x, mastodon, bluesky, facebook, ...)
-- account_id: the account (author_id; '@' + handle for a mentioned account never stored as an
--   author)
-- handle: the latest handle seen (for an account never stored as an author, as mentioned)
-- posts: the account's campaign posts (0 when it only received interactions)
-- followers: followers in the latest observation of the account (null if never observed)
-- in_degree: distinct accounts that reposted, quoted, replied to or mentioned it
-- out_degree: distinct accounts it reposted, quoted, replied to or mentioned
-- in_strength: interactions it received (sum of the weights of the edges to it)
-- out_strength: interactions it made (sum of the weights of the edges from it)
-- reposts_received: times other accounts' campaign posts reposted its posts
-- quotes_received: times other accounts' campaign posts quoted its posts
-- replies_received: times other accounts' campaign posts replied to its posts
-- mentions_received: times other accounts' campaign posts @-mentioned it
-- amplification: reposts_received + quotes_received: how often others passed its posts on
with
edges as (
    select campaign, platform, source_id, target_id, kind, weight
    from marts.network_edges
),
incoming as (
    select campaign, platform, target_id as account_id,
           count(distinct source_id) as in_degree, sum(weight) as in_strength,
           sum(weight) filter (where kind = 'repost') as reposts_received,
           sum(weight) filter (where kind = 'quote') as quotes_received,
           sum(weight) filter (where kind = 'reply') as replies_received,
           sum(weight) filter (where kind = 'mention') as mentions_received
    from edges
    group by all
),
outgoing as (
    select campaign, platform, source_id as account_id,
           count(distinct target_id) as out_degree, sum(weight) as out_strength
    from edges
    group by all
),
nodes as (
    select campaign, platform, account_id from incoming
    union
    select campaign, platform, account_id from outgoing
),
handles as (
    select platform, author_id, handle
    from norm.authors
    where (platform, author_id) in (select platform, account_id from nodes)
),
followers as (
    select platform, author_id, arg_max(followers, observed_at) as followers
    from norm.author_observations
    where (platform, author_id) in (select platform, account_id from nodes)
    group by all
),
posts as (
    select campaign, platform, author_id, posts
    from core.campaign_authors
    where (campaign, platform, author_id) in (select campaign, platform, account_id from nodes)
)
select n.campaign, n.platform, n.account_id,
       coalesce(h.handle, if(n.account_id like '@%', n.account_id[2:], null)) as handle,
       coalesce(p.posts, 0)::bigint as posts, f.followers,
       coalesce(i.in_degree, 0)::bigint as in_degree,
       coalesce(o.out_degree, 0)::bigint as out_degree,
       coalesce(i.in_strength, 0)::bigint as in_strength,
       coalesce(o.out_strength, 0)::bigint as out_strength,
       coalesce(i.reposts_received, 0)::bigint as reposts_received,
       coalesce(i.quotes_received, 0)::bigint as quotes_received,
       coalesce(i.replies_received, 0)::bigint as replies_received,
       coalesce(i.mentions_received, 0)::bigint as mentions_received,
       (coalesce(i.reposts_received, 0) + coalesce(i.quotes_received, 0))::bigint
           as amplification
from nodes n
left join incoming i using (campaign, platform, account_id)
left join outgoing o using (campaign, platform, account_id)
left join handles h on h.platform = n.platform and h.author_id = n.account_id
left join followers f on f.platform = n.platform and f.author_id = n.account_id
left join posts p on p.campaign = n.campaign and p.platform = n.platform
                 and p.author_id = n.account_id
