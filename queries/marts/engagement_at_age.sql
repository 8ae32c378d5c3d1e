-- One row per (campaign, platform, age): the engagement of the campaign's posts read again at
-- each configured age after posting (`[repoll] ages`: `tracker repoll` and the daemon).
-- A post's reading at an age is its engagement as of the re-poll at that age
-- (ledger.repolls.polled_at): the latest observation at or before it, since an unchanged
-- reading stores no new observation. Posts are the campaign's counted posts
-- (core.campaign_posts) other than reposts. A post the platform no longer showed at that age
-- (deleted, protected, suspended) is counted in `gone`, not in the medians. Posts first seen
-- after an age's window (age to 1.5 × age after posting) have no reading at that age. Totals
-- elsewhere use each post's latest reading (core.campaign_posts).
--
-- campaign: campaign name from the config
-- platform: the platform (core.platforms; x, mastodon, bluesky, facebook, ...)
-- age: the age after posting as configured, e.g. '1h', '24h', '7d'
-- age_seconds: the age in seconds (3600, 86400, 604800, ...)
-- posts: posts read at that age
-- gone: posts that could not be read any more at that age (not found, protected, suspended)
-- median_likes: median likes of the posts read at that age (null when none reported)
-- median_reposts: median reposts / retweets / reblogs
-- median_replies: median replies
-- median_quotes: median quotes
-- median_engagement: median of likes + reposts + replies + quotes (a missing count as 0)
-- mean_engagement: mean of likes + reposts + replies + quotes (a missing count as 0)
with
counted as (
    select campaign, platform, post_id from core.campaign_posts where kind <> 'repost'
),
repolls as (
    select r.campaign, r.platform, r.post_id, r.age_seconds, r.polled_at, r.status
    from ledger.repolls r
    -- an inner join (each counted post is one row): DuckDB builds on the few re-polls and
    -- filters the scan of the campaign's posts with them
    join counted c
      on c.campaign = r.campaign and c.platform = r.platform and c.post_id = r.post_id
),
readings as (
    select r.campaign, r.platform, r.age_seconds, e.likes, e.reposts, e.replies, e.quotes,
           coalesce(e.likes, 0) + coalesce(e.reposts, 0) + coalesce(e.replies, 0)
               + coalesce(e.quotes, 0) as engagement
    from (select * from repolls where status = 'read') r
    -- only the re-polled posts' observations: an ASOF join otherwise sorts them all
    asof join (select o.*
               from norm.engagement_observations o
               semi join repolls p on p.platform = o.platform and p.post_id = o.post_id) e
           on e.platform = r.platform and e.post_id = r.post_id and e.observed_at <= r.polled_at
),
read_stats as (
    select campaign, platform, age_seconds, count(*) as posts,
           median(likes) as median_likes, median(reposts) as median_reposts,
           median(replies) as median_replies, median(quotes) as median_quotes,
           median(engagement) as median_engagement, avg(engagement) as mean_engagement
    from readings
    group by all
),
gone as (
    select campaign, platform, age_seconds, count(*) as gone
    from repolls
    where status <> 'read'
    group by all
),
ages as (
    select campaign, platform, age_seconds from read_stats
    union
    select campaign, platform, age_seconds from gone
)
select a.campaign, a.platform,
       case when a.age_seconds % 86400 = 0 and a.age_seconds >= 172800
                then (a.age_seconds // 86400) || 'd'
            when a.age_seconds % 3600 = 0 then (a.age_seconds // 3600) || 'h'
            when a.age_seconds % 60 = 0 then (a.age_seconds // 60) || 'm'
            else a.age_seconds || 's' end as age,
       a.age_seconds, coalesce(s.posts, 0) as posts, coalesce(g.gone, 0) as gone,
       s.median_likes, s.median_reposts, s.median_replies, s.median_quotes,
       s.median_engagement, s.mean_engagement
from ages a
left join read_stats s using (campaign, platform, age_seconds)
left join gone g using (campaign, platform, age_seconds)
order by a.campaign, a.platform, a.age_seconds
