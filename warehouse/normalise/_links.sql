-- Move the batch's links and media items (temp tables n_urls, n_media) into norm.post_urls
-- and norm.post_media. Runs after _merge.sql (and in the backfill of schema 6,
-- tracker/store/backfill.py), only for posts of the batch that are kept (n_posts, after
-- _forgotten.sql). The URL rules are Python (tracker/urls.py): tracker/store/forms.py makes
-- n_url_forms (expanded, url_norm), the form of each distinct link of n_urls, and
-- n_url_domains (url_norm, domain) before this file runs.

-- One row per (post, normalised link): links in the text (entities, content, facets, csv)
-- come before cards and embeds, each in its order; a link both in the text and in a card is
-- one row, from the text.
insert into norm.post_urls
with
kept as (
    select distinct platform, post_id from n_posts
),
links as (
    select u.platform, u.post_id, u.position, u.url, coalesce(u.expanded_url, u.url) as expanded_url,
           f.url_norm, u.source,
           case when u.source in ('card', 'embed') then 2 else 1 end as source_rank
    from n_urls u
    join n_url_forms f on f.expanded = coalesce(u.expanded_url, u.url)
    semi join kept k on k.platform = u.platform and k.post_id = u.post_id
    where f.url_norm is not null
),
firsts as (
    select distinct on (platform, post_id, url_norm) *
    from links
    order by platform, post_id, url_norm, source_rank, position, url
),
numbered as (
    select platform, post_id,
           row_number() over (partition by platform, post_id
                              order by source_rank, position, url_norm)::integer as position,
           url, expanded_url, url_norm, source
    from firsts
)
select n.platform, n.post_id, n.position, coalesce(n.url, n.expanded_url), n.expanded_url,
       n.url_norm, d.domain, n.source
from numbered n
left join n_url_domains d on d.url_norm = n.url_norm
anti join norm.post_urls s
       on s.platform = n.platform and s.post_id = n.post_id and s.url_norm = n.url_norm;

insert into norm.post_media
with
kept as (
    select distinct platform, post_id from n_posts
)
select n.* from (
    select distinct on (platform, post_id, position) m.*
    from n_media m
    semi join kept k on k.platform = m.platform and k.post_id = m.post_id
    order by platform, post_id, position, url nulls last, media_id, media_type) n
anti join norm.post_media s
       on s.platform = n.platform and s.post_id = n.post_id and s.position = n.position;
