-- One row per post on any platform: the staging views of every platform, unified.
-- @materialized view
-- Identity is (platform, post_id). Text and links live here; the campaign tables keep only
-- what the numbers need.
--
-- platform: x, mastodon or bluesky
-- post_id: the platform's identity of the post (tweet id, status uri, at:// uri)
-- url: link to the post
-- created_at: posting time (UTC)
-- author_id: the author's identity on the platform
-- text: the post text (plain text)
-- lang: language code ('und' when undetermined or missing)
-- kind: original, repost, reply or quote
-- parent_id: the post it reposts, quotes or replies to
-- reports_impressions: whether the platform reports actual impressions (only X)
-- synthetic: true for data from the simulated source
-- norm_row: the post's row in norm.posts (its rowid; incremental builds read new posts by it)
with
x as (select * from staging.x_posts),
mastodon as (select * from staging.mastodon_posts),
bluesky as (select * from staging.bluesky_posts)
select * from x
union all by name
select * from mastodon
union all by name
select * from bluesky
