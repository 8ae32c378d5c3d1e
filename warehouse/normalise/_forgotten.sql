-- Posts and authors removed on request (`tracker forget`, ledger.forgotten) are not stored
-- again: their rows leave this batch's n_* tables here, before _merge.sql moves the batch into
-- norm.*. Run by store.normalise.normalise_batch only while ledger.forgotten has rows not
-- restored, and not for `tracker import --allow-forgotten`. This file is the only filter: every
-- loader (import, collect, the daemon) stores through normalise_batch.
-- A post is skipped when it was forgotten, when its author was, or when it reposts a forgotten
-- post (a repost carries the reposted text). Replies and quotes by others are kept.
-- n_forgotten_hits lists what was skipped (post ids, X version ids, author ids) so that the
-- loader can redact the batch's raw pages too (store.redact).
create or replace temp table n_forgotten as
select platform, post_id, author_id from ledger.forgotten where restored_by is null;

create or replace temp table n_forgotten_posts as
select n.platform, n.post_id, n.version_id, n.author_id from n_posts n
join n_forgotten f on f.platform = n.platform and f.post_id = n.post_id
union
select n.platform, n.post_id, n.version_id, n.author_id from n_posts n
join n_forgotten f on f.platform = n.platform and f.author_id = n.author_id
union
select n.platform, n.post_id, n.version_id, n.author_id from n_posts n
join n_forgotten f on f.platform = n.platform and f.post_id = n.parent_id
where n.kind = 'repost'
union
-- observations of a forgotten post delivered without the post
select e.platform, e.post_id, null, null from n_engagement e
join n_forgotten f on f.platform = e.platform and f.post_id = e.post_id;

create or replace temp table n_forgotten_authors as
select distinct a.platform, a.author_id
from (select platform, author_id from n_authors
      union all select platform, author_id from n_author_obs) a
join n_forgotten f on f.platform = a.platform and f.author_id = a.author_id;

insert into n_forgotten_hits
select distinct platform, post_id, null, 'post' from n_forgotten_posts
union
select platform, version_id, null, 'version' from n_forgotten_posts
where version_id is not null and version_id <> post_id
union
select platform, null, author_id, 'author' from n_forgotten_authors;

delete from n_posts where (platform, post_id) in (select platform, post_id from n_forgotten_posts);
delete from n_hashtags
where (platform, post_id) in (select platform, post_id from n_forgotten_posts);
delete from n_mentions
where (platform, post_id) in (select platform, post_id from n_forgotten_posts);
delete from n_urls where (platform, post_id) in (select platform, post_id from n_forgotten_posts);
delete from n_media where (platform, post_id) in (select platform, post_id from n_forgotten_posts);
delete from n_engagement
where (platform, post_id) in (select platform, post_id from n_forgotten_posts);
delete from n_authors
where (platform, author_id) in (select platform, author_id from n_forgotten_authors);
delete from n_author_obs
where (platform, author_id) in (select platform, author_id from n_forgotten_authors);
