-- Mastodon statuses: a JSON array as the API returns it (or one status object).
-- A status is identified by its `uri`, the same on every instance. What is stored
-- (docs/models.md, "Mastodon"):
-- - the page's statuses are matched; a reblog wrapper is a repost whose parent is the
--   reblogged status's uri, and the reblogged status is kept as context (matched false);
-- - a quote post (a `quote` object, Mastodon 4.5+) is kind 'quote' whatever its `state`
--   (accepted, pending, revoked, deleted, ...): the author wrote a quote either way. The
--   quoted status's uri is known when the server shows it (`quote.quoted_status`, which it
--   does only in state accepted), else from a `quoted_status_id` (a shallow quote) found in
--   the batch; otherwise quote_of_id is null (not known). A shown quoted status is kept as
--   context, so its text stays available;
-- - `in_reply_to_id` (and `quoted_status_id`) are the reading instance's local ids, not
--   uris: they are resolved to a uri only when that status is in the same batch (same local
--   id, and for replies the same local account id); otherwise reply_to_id is null;
-- - handles are always `user@server`: a local account's `acct` has no server part, which is
--   then the host of the account's `url` (mentions: of the mention's `url`).
create or replace temp table m_statuses as
with
items as (
    select page_id, retrieved_at, synthetic,
           unnest(case json_type(payload)
                      when 'ARRAY' then json_extract(payload, '$[*]')
                      when 'OBJECT' then [payload::json]
                      else []::json[] end) as s
    from batch
),
shown as (
    select page_id, retrieved_at, synthetic, s, true as matched from items
    union all
    select page_id, retrieved_at, synthetic, s->'reblog', false from items
    where json_type(s, '$.reblog') = 'OBJECT'
)
select * from shown
union all
select page_id, retrieved_at, synthetic, s->'$.quote.quoted_status', false from shown
where json_type(s, '$.quote.quoted_status') = 'OBJECT';

create or replace temp table m_rows as
select page_id, retrieved_at, synthetic, matched, s,
       s->>'uri' as uri,
       coalesce(json_type(s, '$.reblog') = 'OBJECT', false) as is_reblog,
       coalesce(json_type(s, '$.quote') = 'OBJECT', false) as is_quote,
       s->>'$.quote.quoted_status.uri' as quote_uri,
       s->>'in_reply_to_id' as reply_local,
       -- acct with its server: `user@server` as given, else `user` @ the host of the url
       case when contains(s->>'$.account.acct', '@') then s->>'$.account.acct'
            else s->>'$.account.acct' || '@' || nullif(lower(regexp_extract(
                     coalesce(s->>'$.account.url', s->>'$.account.uri'),
                     '^[A-Za-z][A-Za-z0-9+.-]*://([^/?#]+)', 1)), '') end as handle
from m_statuses;

insert into n_posts
select
    'mastodon', uri, coalesce(s->>'url', uri),
    (s->>'created_at')::timestamptz,
    s->>'$.account.url',
    trim(replace(replace(replace(replace(replace(replace(
        regexp_replace(regexp_replace(s->>'content', '<br\s*/?>|</p><p>', ' ', 'g'), '<[^>]+>', '', 'g'),
        '&quot;', '"'), '&#39;', ''''), '&lt;', '<'), '&gt;', '>'), '&nbsp;', ' '), '&amp;', '&')),
    s->>'language',
    case when is_reblog then 'repost' when is_quote then 'quote'
         when reply_local is not null then 'reply' else 'original' end,
    case when is_reblog then s->>'$.reblog.uri' when is_quote then quote_uri end,
    null, null, null, synthetic, page_id, retrieved_at, matched,
    null,  -- in_reply_to_id is a local id: resolved below when the parent is in the batch
    case when is_quote and not is_reblog then quote_uri end,
    (s->>'edited_at')::timestamptz, null
from m_rows where uri is not null;

-- Local ids of this batch (n_local_ids) and the links still to resolve (n_local_links): both
-- grow over the batch's slices, so a parent read in another slice of the batch is found too.
insert into n_local_ids
select distinct 'mastodon', s->>'id', s->>'$.account.id', uri
from m_rows where uri is not null and (s->>'id') is not null;

insert into n_local_links
select 'mastodon', uri, 'reply', reply_local, s->>'in_reply_to_account_id'
from m_rows where uri is not null and reply_local is not null and not is_reblog
union all
select 'mastodon', uri, 'quote', s->>'$.quote.quoted_status_id', null
from m_rows where uri is not null and is_quote and not is_reblog and quote_uri is null
  and (s->>'$.quote.quoted_status_id') is not null;

-- A local id resolves when exactly one status of the batch has it (and, for a reply, the
-- same local account id): ids are per instance, so two instances may share one.
create or replace temp table m_resolved as
select l.post_id, l.link, min(i.post_id) as target
from n_local_links l
join n_local_ids i on i.platform = l.platform and i.local_id = l.local_id
                  and (l.account_local_id is null or i.account_local_id = l.account_local_id)
where l.platform = 'mastodon'
group by all
having count(distinct i.post_id) = 1;

delete from n_local_links l
using m_resolved r
where l.platform = 'mastodon' and l.post_id = r.post_id and l.link = r.link;

-- Every observation of a post in the batch gets the links known from any of them (a quote
-- read again after it was revoked shows no quoted status any more).
create or replace temp table m_links as
select post_id,
       coalesce(min(target) filter (where link = 'reply'), min(reply_to_id)) as reply_to_id,
       coalesce(min(target) filter (where link = 'quote'), min(quote_of_id)) as quote_of_id
from (select post_id, link, target, null as reply_to_id, null as quote_of_id from m_resolved
      union all
      select post_id, null, null, reply_to_id, quote_of_id from n_posts
      where platform = 'mastodon' and (reply_to_id is not null or quote_of_id is not null)
        and post_id in (select post_id from m_rows))
group by post_id;

update n_posts p set
    reply_to_id = coalesce(p.reply_to_id, k.reply_to_id),
    quote_of_id = coalesce(p.quote_of_id, k.quote_of_id),
    parent_id = case p.kind when 'reply' then coalesce(p.reply_to_id, k.reply_to_id)
                            when 'quote' then coalesce(p.quote_of_id, k.quote_of_id)
                            else p.parent_id end
from m_links k
where p.platform = 'mastodon' and p.post_id = k.post_id
  and ((p.reply_to_id is null and k.reply_to_id is not null)
       or (p.quote_of_id is null and k.quote_of_id is not null));

insert into n_hashtags
select 'mastodon', uri, unnest(json_extract_string(s, '$.tags[*].name'))
from m_rows where uri is not null;

insert into n_mentions
select 'mastodon', uri,
       lower(case when contains(m->>'acct', '@') then m->>'acct'
                  else m->>'acct' || '@' || nullif(regexp_extract(
                           m->>'url', '^[A-Za-z][A-Za-z0-9+.-]*://([^/?#]+)', 1), '') end)
from (select uri, unnest(json_extract(s, '$.mentions[*]')) as m
      from m_rows where uri is not null);

insert into n_engagement
select 'mastodon', uri, retrieved_at,
       (s->>'favourites_count')::bigint, (s->>'reblogs_count')::bigint,
       (s->>'replies_count')::bigint, (s->>'quotes_count')::bigint, null
from m_rows where uri is not null;

insert into n_authors
select 'mastodon', s->>'$.account.url', handle, s->>'$.account.display_name',
       (s->>'$.account.created_at')::timestamptz, null, retrieved_at
from m_rows where (s->>'$.account.url') is not null;

insert into n_author_obs
select 'mastodon', s->>'$.account.url', retrieved_at,
       (s->>'$.account.followers_count')::bigint, (s->>'$.account.following_count')::bigint,
       (s->>'$.account.statuses_count')::bigint
from m_rows where (s->>'$.account.url') is not null;

-- Links: the anchors of the content that are not mentions or hashtags (Mastodon marks those
-- with class "mention"), then the preview card's url. HTML entities in href are decoded.
insert into n_urls
select 'mastodon', uri, position, href, href, source from (
    select uri, position,
           replace(replace(replace(replace(replace(
               regexp_extract(a, 'href="([^"]*)"', 1),
               '&quot;', '"'), '&#39;', ''''), '&lt;', '<'), '&gt;', '>'), '&amp;', '&')
               as href,
           'content' as source
    from (select uri, unnest(anchors) as a, generate_subscripts(anchors, 1) as position
          from (select uri, regexp_extract_all(s->>'content', '<a\s[^>]*>') as anchors
                from m_rows where uri is not null and contains(s->>'content', '<a'))
          )
    where not regexp_matches(a, 'class="[^"]*\b(mention|hashtag)\b')
    union all
    select uri, 1, s->>'$.card.url', 'card' from m_rows
    where uri is not null and (s->>'$.card.url') is not null)
where href is not null and href <> '';

-- Media: media_attachments (image -> photo, gifv -> gif); url is the reading instance's copy
-- (else the original's remote_url).
insert into n_media
select 'mastodon', uri, position, m->>'id',
       case m->>'type' when 'image' then 'photo' when 'gifv' then 'gif'
                       when 'video' then 'video' when 'audio' then 'audio' else 'unknown' end,
       coalesce(m->>'url', m->>'remote_url'), coalesce(m->>'preview_url',
                                                       m->>'preview_remote_url'),
       m->>'description'
from (select uri, unnest(json_extract(s, '$.media_attachments[*]')) as m,
             generate_subscripts(json_extract(s, '$.media_attachments[*]'), 1) as position
      from m_rows
      where uri is not null and json_array_length(s, '$.media_attachments') > 0);
