-- Apply a batch's changes to stored posts (temp table n_post_changes, made by _merge.sql).
-- Runs after _merge.sql, only when the batch changes any stored post: it reads norm.posts.
-- Before a post's text is replaced by a newer version, the stored version is kept in
-- norm.post_versions; each new version appends a row there, which is how incremental builds
-- see an edit.
insert into norm.post_versions
select n.* from (
    select p.platform, p.post_id, coalesce(p.edited_at, p.created_at) as version_at,
           p.version_id, p.text, p.lang, p.first_page_id, p.first_seen_at
    from norm.posts p
    semi join (select platform, post_id from n_post_changes where is_edit) c
           on c.platform = p.platform and c.post_id = p.post_id
    where coalesce(p.edited_at, p.created_at) is not null) n
anti join norm.post_versions v
       on v.platform = n.platform and v.post_id = n.post_id and v.version_at = n.version_at;

insert into norm.post_versions
select n.* from (
    select platform, post_id, edited_at as version_at, version_id, text, lang, first_page_id,
           first_seen_at
    from n_post_changes where is_edit) n
anti join norm.post_versions v
       on v.platform = n.platform and v.post_id = n.post_id and v.version_at = n.version_at;

update norm.posts p set
    matched = case when c.matched then true else p.matched end,
    created_at = c.created_at,
    text = case when c.is_edit then c.text else p.text end,
    lang = case when c.is_edit then coalesce(c.lang, p.lang) else p.lang end,
    edited_at = case when c.is_edit then c.edited_at else p.edited_at end,
    version_id = case when c.is_edit then c.version_id else p.version_id end
from n_post_changes c
where p.platform = c.platform and p.post_id = c.post_id;
