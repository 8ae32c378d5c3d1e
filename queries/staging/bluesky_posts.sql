-- One row per Bluesky post in the warehouse, in the columns every platform shares.
-- @materialized view
-- Bluesky specifics: post_id is the at:// uri; search returns no reposts, so kinds are
-- original, reply and quote; the language is the first of the record's langs; follower counts
-- come from separate profile lookups; no impressions are reported.
--
-- platform: always 'bluesky'
-- post_id: the at:// uri of the post
-- url: link to the post on bsky.app
-- created_at: the record's createdAt (UTC), else indexedAt
-- author_id: the author's DID
-- text: the post text
-- lang: the first language the record declares ('und' when missing)
-- kind: original, reply or quote
-- parent_id: the uri of the post it quotes or replies to
-- reports_impressions: whether the platform reports actual impressions (false)
-- synthetic: true for data from the simulated source
-- norm_row: the post's row in norm.posts (its rowid; incremental builds read new posts by it)
with
posts as (
    select *, rowid as norm_row from norm.posts where platform = 'bluesky'
)
select platform, post_id, url, created_at, author_id, text, coalesce(lang, 'und') as lang,
       kind, parent_id, false as reports_impressions, synthetic, norm_row
from posts
