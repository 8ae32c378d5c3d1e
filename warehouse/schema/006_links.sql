-- Schema version 6: the links and media items posts carry.
-- No primary keys (as norm.*, schema 002): _links.sql (run by _merge's caller and by the
-- backfill, tracker/store/backfill.py) adds only rows whose key is not stored yet.
-- URL rules (normalised form, registered domain) are in tracker/urls.py, once.

-- One row per (platform, post_id, url_norm): each distinct link of a post.
create table if not exists norm.post_urls (
    platform      varchar not null,
    post_id       varchar not null,
    position      integer not null,  -- order in the delivery that first carried it (1, 2, ...)
    url           varchar not null,  -- as posted (X: the t.co link; else the link itself)
    expanded_url  varchar,           -- the link it stands for (X expanded_url); else = url
    url_norm      varchar not null,  -- normalised (tracker/urls.py): the key of the link
    domain        varchar,           -- registered domain of url_norm; null for non-http links
    source        varchar not null   -- entity (X), content or card (Mastodon), facet or embed
                                     -- (Bluesky), csv (a link column)
);

-- One row per (platform, post_id, position): each media item attached to a post.
create table if not exists norm.post_media (
    platform      varchar not null,
    post_id       varchar not null,
    position      integer not null,  -- order in the post (1, 2, ...)
    media_id      varchar,           -- X media_key / id, Mastodon attachment id, Bluesky blob cid
    media_type    varchar not null,  -- photo, video, gif, audio or unknown
    url           varchar,           -- the file (X video: the best mp4); null if not given
    preview_url   varchar,           -- a still image of it, if given
    alt_text      varchar            -- the description the author gave, if any
);
