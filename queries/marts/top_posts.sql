-- One row per (campaign, rank): the 50 posts with the most engagement (latest observation).
-- Reposts carry no engagement of their own and are not ranked; ties go to the earlier post,
-- then platform and post_id.
--
-- campaign: campaign name from the config
-- rank: 1 to 50
-- platform: the platform (core.platforms; x, mastodon, bluesky, facebook, ...)
-- post_id: the platform's identity of the post
-- url: link to the post
-- handle: the author's handle
-- text: the post text (untrusted: escape before display)
-- created_at: posting time (UTC)
-- kind: original, reply or quote
-- likes: likes in the latest observation
-- reposts: reposts in the latest observation
-- replies: replies in the latest observation
-- quotes: quotes in the latest observation
-- engagement: likes + reposts + replies + quotes
-- impressions: actual impressions where reported (X)
with
leaders as (
    -- a campaign's 50 leading posts are among its hours' 50 leading posts: ~50 rows per hour
    select * from core.campaign_post_leaders
),
ordered as (
    select campaign, platform, post_id, author_id, url, text, created_at, kind, likes,
           reposts, replies, quotes, engagement, impressions,
           row_number() over (partition by campaign
                              order by engagement desc, created_at, platform, post_id) as rank
    from leaders
),
ranked as (
    select * from ordered
    where rank <= 50
    -- the limit only tells DuckDB's planner the ranked posts are few, so that the handle
    -- look-up hashes them, never norm.authors
    limit 1000000
),
handles as (
    -- the rows found by the authors' numeric keys (tracker/store/keys.py), reading only the
    -- key column; then only those rows' texts are read, by rowid (the build hands the few
    -- rowids to the scan, tracker/build/run.py); the join below compares the ids themselves
    select platform, author_id, handle from norm.authors
    where rowid in (select rowid from norm.authors
                    where author_key in (select author_key(platform, author_id) from ranked))
)
select r.campaign, r.rank, r.platform, r.post_id, r.url, a.handle, r.text, r.created_at,
       r.kind, r.likes, r.reposts, r.replies, r.quotes, r.engagement, r.impressions
from ranked r
left join handles a on a.platform = r.platform and a.author_id = r.author_id
order by r.campaign, r.rank
