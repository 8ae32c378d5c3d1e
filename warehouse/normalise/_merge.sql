-- Move one normalised batch (temp tables n_*) into norm.*. Runs once per batch.
-- norm.* has no primary keys (schema 002): every insert here adds only the rows whose key is
-- not stored yet (an anti-join, which DuckDB runs as a hash join without a resident index),
-- so a batch delivered twice (at-least-once) stores nothing new and each key stays unique.
-- This file and store.normalise.relink_campaigns are the only writers of norm.*.
-- n_tag_forms (tag_text, tag): the form of each distinct spelling in n_hashtags, made in
-- Python (tracker/hashtags.py) by tracker/store/forms.py before this file runs.
create or replace temp table n_tags as
select distinct h.platform, h.post_id, f.tag, h.tag_text
from n_hashtags h join n_tag_forms f using (tag_text);

-- An X edit has a tweet id of its own: a link to any version of a post points at the post.
create or replace temp table n_version_map as
select distinct platform, version_id, post_id from n_posts
where version_id is not null and version_id <> post_id
union
select platform, version_id, post_id from norm.post_versions
where version_id is not null and version_id <> post_id;

-- The batch's posts, one row per key, and whether the key is new. The row holds the latest
-- version's content (an edit wins over what it edited), the first sighting, the earliest
-- creation time (an X edit carries its own), and `matched` if any delivery matched it.
-- Ties are broken on content, so two runs over the same input store the same row.
create or replace temp table n_post_rows as
with
mapped as (
    select n.* replace (
               coalesce(mp.post_id, n.parent_id) as parent_id,
               coalesce(mr.post_id, n.reply_to_id) as reply_to_id,
               coalesce(mq.post_id, n.quote_of_id) as quote_of_id)
    from n_posts n
    left join n_version_map mp on mp.platform = n.platform and mp.version_id = n.parent_id
    left join n_version_map mr on mr.platform = n.platform and mr.version_id = n.reply_to_id
    left join n_version_map mq on mq.platform = n.platform and mq.version_id = n.quote_of_id
),
batch_rows as (
    select * replace (
               bool_or(matched) over (partition by platform, post_id) as matched,
               min(created_at) over (partition by platform, post_id) as created_at,
               min(first_seen_at) over (partition by platform, post_id) as first_seen_at,
               first_value(first_page_id) over (partition by platform, post_id
                                                order by first_seen_at, first_page_id)
                   as first_page_id)
    from mapped
    qualify row_number() over (partition by platform, post_id
                               order by edited_at desc nulls last, first_seen_at, first_page_id,
                                        text, kind, parent_id) = 1
)
select n.*, s.post_id is null as is_new, s.matched as s_matched, s.edited_at as s_edited_at,
       s.created_at as s_created_at, s.version_id as s_version_id
from batch_rows n
left join (select platform, post_id, matched, edited_at, created_at, version_id
           from norm.posts) s
       on s.platform = n.platform and s.post_id = n.post_id;

create or replace temp table n_counts as
select count(*) filter (where is_new) as posts_new,
       count(*) filter (where not is_new) as duplicates
from n_post_rows;

insert into norm.posts
select * exclude (is_new, s_matched, s_edited_at, s_created_at, s_version_id)
from n_post_rows where is_new;

-- Stored posts this batch changes: now matched, a newer version, or an earlier creation time
-- (only when an X post was stored from an edit, whose tweet has its own time, and the
-- original arrives later). Applied by _edits.sql, which runs only when there are any (it
-- reads norm.posts).
create or replace temp table n_post_changes as
select * exclude (is_new, created_at),
       coalesce(edited_at > coalesce(s_edited_at, '-infinity'::timestamptz), false) as is_edit,
       case when s_version_id <> post_id and created_at < s_created_at then created_at
            else s_created_at end as created_at,
       s_version_id <> post_id and created_at < s_created_at as moves_in_time
from n_post_rows
where not is_new
  and ((matched and s_matched is distinct from true)
       or edited_at > coalesce(s_edited_at, '-infinity'::timestamptz)
       or (s_version_id <> post_id and created_at < s_created_at));

-- Every version of an edited post seen in this batch (earlier versions of stored posts are
-- kept by _edits.sql before they are replaced).
insert into norm.post_versions
select n.* from (
    select distinct on (platform, post_id, version_at) *
    from (select platform, post_id, coalesce(edited_at, created_at) as version_at, version_id,
                 text, lang, first_page_id, first_seen_at
          from n_posts
          where (platform, post_id) in (select platform, post_id from n_posts
                                        where edited_at is not null)
            and coalesce(edited_at, created_at) is not null)
    order by platform, post_id, version_at, first_seen_at, first_page_id, text) n
anti join norm.post_versions v
       on v.platform = n.platform and v.post_id = n.post_id and v.version_at = n.version_at;

-- Authors: the latest row of the batch per author; stored authors get what is new in it.
-- The profile dated last wins (last_seen_at: its page's retrieval time; a v1 status's or CSV
-- row's own time; an archive page without one, its file's modification time): a batch
-- dated before the stored row (an older archive imported after live collection) only fills
-- in what the stored row lacks. On equal dates the batch loaded last wins.
create or replace temp table n_author_rows as
select * from n_authors
qualify row_number() over (partition by platform, author_id
                           order by last_seen_at desc, handle, name, created_at, verified) = 1;

-- a profile column's value after a batch: the batch's if it was seen at or after the stored
-- row (when it has one), else the stored one
create or replace temp macro n_author_value(seen_at, stored_at, seen, stored) as
    case when seen_at >= stored_at or stored_at is null then coalesce(seen, stored)
         else coalesce(stored, seen) end;

update norm.authors a set
    handle = n_author_value(n.last_seen_at, a.last_seen_at, n.handle, a.handle),
    handle_key = author_key(a.platform,
                            n_author_value(n.last_seen_at, a.last_seen_at, n.handle, a.handle)),
    name = n_author_value(n.last_seen_at, a.last_seen_at, n.name, a.name),
    created_at = n_author_value(n.last_seen_at, a.last_seen_at, n.created_at, a.created_at),
    verified = n_author_value(n.last_seen_at, a.last_seen_at, n.verified, a.verified),
    last_seen_at = greatest(n.last_seen_at, a.last_seen_at)
from n_author_rows n
where a.platform = n.platform and a.author_id = n.author_id
  and (a.handle, a.name, a.created_at, a.verified, a.last_seen_at) is distinct from (
       n_author_value(n.last_seen_at, a.last_seen_at, n.handle, a.handle),
       n_author_value(n.last_seen_at, a.last_seen_at, n.name, a.name),
       n_author_value(n.last_seen_at, a.last_seen_at, n.created_at, a.created_at),
       n_author_value(n.last_seen_at, a.last_seen_at, n.verified, a.verified),
       greatest(n.last_seen_at, a.last_seen_at));

-- with the numeric keys of the id and handle (tracker/store/keys.py)
insert into norm.authors by name
select n.*, author_key(n.platform, n.author_id) as author_key,
       author_key(n.platform, n.handle) as handle_key
from n_author_rows n
anti join norm.authors a on a.platform = n.platform and a.author_id = n.author_id;

-- A negative count is no count: glitch-soc servers (e.g. infosec.exchange) report
-- followers_count -1 for an account that hides it. Every platform's counts pass here, so a
-- negative one of any platform is stored as not known (null), never summed.
update n_author_obs
set followers = if(followers < 0, null, followers), following = if(following < 0, null, following),
    posts = if(posts < 0, null, posts)
where followers < 0 or following < 0 or posts < 0;

update n_engagement
set likes = if(likes < 0, null, likes), reposts = if(reposts < 0, null, reposts),
    replies = if(replies < 0, null, replies), quotes = if(quotes < 0, null, quotes),
    impressions = if(impressions < 0, null, impressions)
where likes < 0 or reposts < 0 or replies < 0 or quotes < 0 or impressions < 0;

-- Observations. Two observations at the same instant (an author in several statuses of one
-- page; a post captured at its creation and again inside a later status's retweeted_status,
-- all stamped with the file's time) keep the largest counts, so the choice does not depend
-- on row order; and the same rule holds when that instant was stored by an earlier batch:
-- the stored row is updated to the larger counts (rows compared in the order below), so
-- the counts kept for an instant do not depend on where the batches were cut. Such an
-- update is not an appended row, so it makes the next build a full one (normalise.merge_batch).
-- An observation identical to the latest one stored adds nothing and is skipped.
create or replace temp table n_author_obs_rows as
select distinct on (platform, author_id, observed_at) * from n_author_obs
order by platform, author_id, observed_at, followers desc nulls last,
         following desc nulls last, posts desc nulls last;

create or replace temp table n_author_obs_stored as
select x.* from norm.author_observations x
semi join (select distinct platform, author_id from n_author_obs_rows) k
       on x.platform = k.platform and x.author_id = k.author_id;

-- the stored observations at an instant of the batch that the batch's row outranks
create or replace temp table n_author_obs_ties as
select o.* from n_author_obs_rows o
join n_author_obs_stored s
  on s.platform = o.platform and s.author_id = o.author_id and s.observed_at = o.observed_at
where [coalesce(o.followers, -1), coalesce(o.following, -1), coalesce(o.posts, -1)]
    > [coalesce(s.followers, -1), coalesce(s.following, -1), coalesce(s.posts, -1)];

update norm.author_observations x set
    followers = t.followers, following = t.following, posts = t.posts
from n_author_obs_ties t
where x.platform = t.platform and x.author_id = t.author_id and x.observed_at = t.observed_at;

update n_author_obs_stored x set
    followers = t.followers, following = t.following, posts = t.posts
from n_author_obs_ties t
where x.platform = t.platform and x.author_id = t.author_id and x.observed_at = t.observed_at;

insert into norm.author_observations
with
latest as (
    -- the latest row as a whole (arg_max of one column passes over its nulls: after 100
    -- then a hidden count, 100 again would look like no news)
    select platform, author_id, max(observed_at) as at,
           arg_max({'followers': followers, 'following': following, 'posts': posts},
                   observed_at) as v
    from n_author_obs_stored
    group by all
)
select o.* from n_author_obs_rows o
left join latest l on l.platform = o.platform and l.author_id = o.author_id
anti join n_author_obs_stored s
       on s.platform = o.platform and s.author_id = o.author_id and s.observed_at = o.observed_at
where l.at is null or o.observed_at < l.at
   or o.followers is distinct from l.v.followers
   or o.following is distinct from l.v.following
   or o.posts is distinct from l.v.posts;

create or replace temp table n_engagement_rows as
select distinct on (platform, post_id, observed_at) * from n_engagement
order by platform, post_id, observed_at, likes desc nulls last, reposts desc nulls last,
         replies desc nulls last, quotes desc nulls last, impressions desc nulls last;

create or replace temp table n_engagement_stored as
select x.* from norm.engagement_observations x
semi join (select distinct platform, post_id from n_engagement_rows) k
       on x.platform = k.platform and x.post_id = k.post_id;

create or replace temp table n_engagement_ties as
select o.* from n_engagement_rows o
join n_engagement_stored s
  on s.platform = o.platform and s.post_id = o.post_id and s.observed_at = o.observed_at
where [coalesce(o.likes, -1), coalesce(o.reposts, -1), coalesce(o.replies, -1),
       coalesce(o.quotes, -1), coalesce(o.impressions, -1)]
    > [coalesce(s.likes, -1), coalesce(s.reposts, -1), coalesce(s.replies, -1),
       coalesce(s.quotes, -1), coalesce(s.impressions, -1)];

update norm.engagement_observations x set
    likes = t.likes, reposts = t.reposts, replies = t.replies, quotes = t.quotes,
    impressions = t.impressions
from n_engagement_ties t
where x.platform = t.platform and x.post_id = t.post_id and x.observed_at = t.observed_at;

update n_engagement_stored x set
    likes = t.likes, reposts = t.reposts, replies = t.replies, quotes = t.quotes,
    impressions = t.impressions
from n_engagement_ties t
where x.platform = t.platform and x.post_id = t.post_id and x.observed_at = t.observed_at;

insert into norm.engagement_observations
with
latest as (
    -- the latest row as a whole, unknown counts included (as for authors above)
    select platform, post_id, max(observed_at) as at,
           arg_max({'likes': likes, 'reposts': reposts, 'replies': replies, 'quotes': quotes,
                    'impressions': impressions}, observed_at) as v
    from n_engagement_stored
    group by all
)
select o.* from n_engagement_rows o
left join latest l on l.platform = o.platform and l.post_id = o.post_id
anti join n_engagement_stored s
       on s.platform = o.platform and s.post_id = o.post_id and s.observed_at = o.observed_at
where l.at is null or o.observed_at < l.at
   or o.likes is distinct from l.v.likes or o.reposts is distinct from l.v.reposts
   or o.replies is distinct from l.v.replies or o.quotes is distinct from l.v.quotes
   or o.impressions is distinct from l.v.impressions;

insert into norm.post_hashtags
select n.* from (select distinct on (platform, post_id, tag) platform, post_id, tag, tag_text
                 from n_tags order by platform, post_id, tag, tag_text) n
anti join norm.post_hashtags h
       on h.platform = n.platform and h.post_id = n.post_id and h.tag = n.tag;

insert into norm.post_mentions
select n.* from (select distinct platform, post_id, mentioned_handle from n_mentions
                 where mentioned_handle is not null) n
anti join norm.post_mentions m
       on m.platform = n.platform and m.post_id = n.post_id
      and m.mentioned_handle = n.mentioned_handle;

insert into norm.campaign_posts
select n.* from (
    select ct.campaign, t.platform, t.post_id
    from n_tags t join campaign_tags ct on ct.tag = t.tag
    union
    -- `--campaign`: the posts the archive delivered as results, never their context, nor
    -- those of a page stored without the campaign (assign_skip: a status the campaign filter
    -- kept only for the status it quotes, which joins campaigns by its own tags)
    select a.campaign, p.platform, p.post_id from n_posts p, assign_campaign a
    where p.matched and p.first_page_id not in (select page_id from assign_skip)) n
anti join norm.campaign_posts c
       on c.campaign = n.campaign and c.platform = n.platform and c.post_id = n.post_id;

-- A matched repost belongs to the campaigns of the post it reposts (a Mastodon reblog carries
-- no tags of its own; an X retweet's text may be truncated before the tag). A context post
-- joins a campaign only through its own tags.
insert into norm.campaign_posts
select n.* from (
    select distinct cp.campaign, p.platform, p.post_id
    from n_post_rows p
    join norm.campaign_posts cp on cp.platform = p.platform and cp.post_id = p.parent_id
    where p.kind = 'repost' and p.matched) n
anti join norm.campaign_posts c
       on c.campaign = n.campaign and c.platform = n.platform and c.post_id = n.post_id;
