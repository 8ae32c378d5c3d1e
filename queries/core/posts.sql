-- One row per post in the warehouse, on every platform norm.posts holds (X, Mastodon, Bluesky,
-- Facebook and any platform a CSV mapping names), in the columns every platform shares.
-- @materialized view
-- Identity is (platform, post_id). What differs between platforms (what the ids hold, whether
-- and since when impressions are reported, labels) is in core.platforms, written from the
-- registry tracker/platforms.py; a platform not listed there reports no impressions. Text and
-- links live here; the campaign tables keep only what the numbers need.
--
-- platform: the platform's name (x, mastodon, bluesky, facebook, or a CSV mapping's name)
-- post_id: the platform's identity of the post (core.platforms.post_identity)
-- url: link to the post
-- created_at: posting time (UTC)
-- author_id: the author's identity on the platform (core.platforms.author_identity)
-- text: the post text (plain text)
-- lang: language code ('und' when undetermined or missing)
-- kind: original, repost, reply or quote
-- parent_id: the post it reposts, quotes or replies to (the link its kind names)
-- reply_to_id: the post it replies to (also when it is a quote that replies)
-- quote_of_id: the post it quotes (also when it is a reply that quotes)
-- matched: true if a search, stream or archive returned it as a result; false if it was only
--   ever delivered as context for one (a retweeted or quoted post); null if stored before
--   schema version 3
-- edited_at: when the latest version (the text shown) was made; null if never edited
-- reports_impressions: whether the platform reported actual impressions for this post (X, for
--   posts made since core.platforms.impressions_since); false on other platforms
-- synthetic: true for data from the simulated source
-- norm_row: the post's row in norm.posts (its rowid; incremental builds read new posts by it)
with
posts as (
    select *, rowid as norm_row from norm.posts
),
platforms as (
    select platform, impressions_since from core.platforms
)
select p.platform, p.post_id, p.url, p.created_at, p.author_id, p.text,
       coalesce(p.lang, 'und') as lang, p.kind, p.parent_id, p.reply_to_id, p.quote_of_id,
       p.matched, p.edited_at,
       coalesce(p.created_at >= f.impressions_since, false) as reports_impressions,
       p.synthetic, p.norm_row
from posts p
left join platforms f on f.platform = p.platform
