-- One row per X post (tweet) in the warehouse, in the columns every platform shares.
-- @materialized view
-- X specifics: post_id is the tweet id; a retweet is kind 'repost' whose parent is the
-- retweeted tweet; X writes 'und' for an undetermined language; X is the only platform that
-- reports impressions (public_metrics.impression_count), so reports_impressions is true.
--
-- platform: always 'x'
-- post_id: the tweet id
-- url: link to the tweet
-- created_at: posting time (UTC)
-- author_id: the author's user id
-- text: the tweet text (long-form note text when present)
-- lang: language code as X reports it ('und' when undetermined or missing)
-- kind: original, repost, reply or quote
-- parent_id: the tweet it retweets, quotes or replies to
-- reports_impressions: whether the platform reports actual impressions (true)
-- synthetic: true for data from the simulated source
-- norm_row: the post's row in norm.posts (its rowid; incremental builds read new posts by it)
with
posts as (
    select *, rowid as norm_row from norm.posts where platform = 'x'
)
select platform, post_id, url, created_at, author_id, text, coalesce(lang, 'und') as lang,
       kind, parent_id, true as reports_impressions, synthetic, norm_row
from posts
