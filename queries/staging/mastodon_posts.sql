-- One row per Mastodon status in the warehouse, in the columns every platform shares.
-- @materialized view
-- Mastodon specifics: a status is identified by its `uri`, the same on every instance, so the
-- same status fetched through two instances is one row; a reblog is kind 'repost' whose parent
-- is the reblogged status's uri; text is the HTML content reduced to plain text; the API
-- reports no impressions, so reports_impressions is false.
--
-- platform: always 'mastodon'
-- post_id: the status uri
-- url: link to the status on its home instance
-- created_at: posting time (UTC)
-- author_id: the account's profile url (unique across instances)
-- text: the status content as plain text
-- lang: language code as the status declares it ('und' when missing)
-- kind: original, repost, reply or quote
-- parent_id: the uri of the status it reblogs or quotes
-- reports_impressions: whether the platform reports actual impressions (false)
-- synthetic: true for data from the simulated source
-- norm_row: the post's row in norm.posts (its rowid; incremental builds read new posts by it)
with
posts as (
    select *, rowid as norm_row from norm.posts where platform = 'mastodon'
)
select platform, post_id, url, created_at, author_id, text, coalesce(lang, 'und') as lang,
       kind, parent_id, false as reports_impressions, synthetic, norm_row
from posts
