-- One row per (campaign, post): every post of a configured campaign with the numbers the
-- marts need. A post carrying the tags of two campaigns is one row in each.
-- @incremental campaign, platform, post_id
-- @changes norm.campaign_posts(campaign, platform, post_id)
-- @changes norm.engagement_observations(platform, post_id)
-- @changes norm.post_versions(platform, post_id)
-- @changes norm.author_observations(platform, author_id) asof(observed_at, followers, followers_at_post)
-- @lookup core.posts(platform, post_id) rows norm.posts(norm_row)
-- @lookup norm.engagement_observations(platform, post_id)
-- Membership: which posts count is defined here, once. A post counts for a campaign when it
-- is linked in norm.campaign_posts (it carries one of the campaign's tags, after NFKC + case
-- folding; or it is a matched repost of a linked post; or an import with --campaign delivered
-- it as a result, never as context) and it was made inside the campaign's window (`start` to
-- `end`, calendar dates in the campaign's time zone, both included; open when not set).
-- Context posts (delivered only to explain a result) therefore count only through their own
-- tags, inside the window. Followers at posting: the author's latest known follower count
-- observed at or before the post (ASOF join), else the earliest known one (a post without a
-- posting time: the earliest known one). A count the platform hid is not known, and skipped.
-- Engagement: the post's observed counts, read as its platform's registry entry says
-- (core.platforms.counts: the latest observation; on Mastodon each count's largest).
-- Reposts carry no engagement of their own (X reports the original's counts on a retweet; a
-- Mastodon reblog is a wrapper), so their likes, reposts, replies, quotes, impressions and
-- engagement are null.
--
-- campaign: campaign name from the config
-- platform: the platform (core.platforms; x, mastodon, bluesky, facebook, ...)
-- post_id: the platform's identity of the post
-- created_at: posting time (UTC)
-- hour: start of the UTC hour of posting (TIMESTAMPTZ)
-- local_day: calendar date of posting in the campaign's time zone
-- local_hour: clock hour of posting (0-23) in the campaign's time zone
-- local_weekday: weekday of posting in the campaign's time zone (0 = Monday)
-- kind: original, repost, reply or quote
-- parent_id: the post it reposts, quotes or replies to
-- lang: language code ('und' when undetermined or missing)
-- author_id: the author's identity on the platform
-- followers_at_post: the author's followers when posting (see above; null if no count of
--   the author is known)
-- likes: likes / favourites observed (see Engagement; null for reposts and unobserved posts)
-- reposts: reposts / retweets / reblogs observed
-- replies: replies observed
-- quotes: quotes observed
-- impressions: actual impressions where the platform reported them for the post (X
--   impression_count, for posts made since X counted views: core.posts.reports_impressions)
-- engagement: likes + reposts + replies + quotes (a count the platform does not always give,
--   when missing, as 0); null when a count it always gives is not known
--   (core.platforms.engagement_counts: an X v1.1 status has no reply or quote count), when
--   none is, and for reposts
-- engagement_observed_at: time of the engagement observation used
-- synthetic: true for data from the simulated source
-- norm_row: the post's row in norm.posts (lets a mart fetch a post's text without a scan)
with
campaigns as (
    select campaign, timezone, start_date, end_date from core.campaigns
),
membership as (
    select m.campaign, m.platform, m.post_id
    from norm.campaign_posts m
    semi join campaigns c on c.campaign = m.campaign
),
posts as (
    select m.campaign, p.platform, p.post_id, p.created_at, p.kind, p.parent_id, p.lang,
           p.author_id, p.reports_impressions, p.synthetic, p.norm_row,
           timezone(c.timezone, p.created_at) as local_time
    from membership m
    join campaigns c on c.campaign = m.campaign
    join core.posts p on p.platform = m.platform and p.post_id = m.post_id
    where (c.start_date is null or cast(timezone(c.timezone, p.created_at) as date) >= c.start_date)
      and (c.end_date is null or cast(timezone(c.timezone, p.created_at) as date) <= c.end_date)
),
observations as (
    -- only the posts' authors (the ASOF join sorts its right side), and only known counts
    select o.platform, o.author_id, o.observed_at, o.followers
    from norm.author_observations o
    semi join (select distinct platform, author_id from posts) a using (platform, author_id)
    where o.followers is not null
),
followers_before as (
    -- only posts with a posting time: DuckDB's ASOF join does not treat a null time alike in
    -- every plan (with many rows it matched the latest observation)
    select p.campaign, p.platform, p.post_id, o.followers
    from (select * from posts where created_at is not null) p
    asof left join observations o
        on o.platform = p.platform and o.author_id = p.author_id
       and p.created_at >= o.observed_at
),
followers_first as (
    select platform, author_id, arg_min(followers, observed_at) as followers
    from observations
    group by all
),
engagement as (
    -- Per platform (core.platforms.counts): 'latest', the newest observation; 'largest', each
    -- count the largest among the post's observations (Mastodon: an instance counts only the
    -- interactions that reached it, so a status read through a remote instance shows fewer
    -- than on its home server, and the latest read is not the best one; docs/models.md).
    select o.platform, o.post_id, max(o.observed_at) as observed_at,
           if(any_value(r.counts) = 'largest', max(o.likes), arg_max(o.likes, o.observed_at))
               as likes,
           if(any_value(r.counts) = 'largest', max(o.reposts),
              arg_max(o.reposts, o.observed_at)) as reposts,
           if(any_value(r.counts) = 'largest', max(o.replies),
              arg_max(o.replies, o.observed_at)) as replies,
           if(any_value(r.counts) = 'largest', max(o.quotes), arg_max(o.quotes, o.observed_at))
               as quotes,
           arg_max(o.impressions, o.observed_at) as impressions,
           coalesce(any_value(r.engagement_counts), '') as required
    from norm.engagement_observations o
    left join core.platforms r on r.platform = o.platform
    where (o.platform, o.post_id) in (select platform, post_id from posts where kind <> 'repost')
    group by o.platform, o.post_id
)
select
    p.campaign, p.platform, p.post_id, p.created_at,
    date_trunc('hour', p.created_at) as hour,
    cast(p.local_time as date) as local_day,
    hour(p.local_time)::tinyint as local_hour,
    (isodow(p.local_time) - 1)::tinyint as local_weekday,
    p.kind, p.parent_id, p.lang, p.author_id,
    coalesce(b.followers, f.followers) as followers_at_post,
    e.likes, e.reposts, e.replies, e.quotes,
    case when p.reports_impressions then e.impressions end as impressions,
    -- known when every count the platform always gives is (core.platforms.engagement_counts;
    -- elsewhere any one: an observation of views alone says nothing of it)
    case when coalesce(e.likes, e.reposts, e.replies, e.quotes) is not null
              and (e.likes is not null or not contains(e.required, 'likes'))
              and (e.reposts is not null or not contains(e.required, 'reposts'))
              and (e.replies is not null or not contains(e.required, 'replies'))
              and (e.quotes is not null or not contains(e.required, 'quotes'))
         then coalesce(e.likes, 0) + coalesce(e.reposts, 0) + coalesce(e.replies, 0)
              + coalesce(e.quotes, 0) end as engagement,
    e.observed_at as engagement_observed_at,
    p.synthetic, p.norm_row
from posts p
left join followers_before b using (campaign, platform, post_id)
left join followers_first f on f.platform = p.platform and f.author_id = p.author_id
left join engagement e on e.platform = p.platform and e.post_id = p.post_id
-- in time order, so that scans for recent hours or days skip the older row groups
order by hour
