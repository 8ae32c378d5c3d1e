-- Schema version 3: how each post arrived, both of a post's links, and edits.
--   norm.posts.matched      true when some delivery returned the post as a result (a twarc2
--                           `data` tweet, a v1.1 status line, a search hit, an imported row);
--                           false when it was only ever delivered as context (includes.tweets,
--                           retweeted_status / quoted_status, a reblogged or quoted status, an
--                           embedded record). Matched wins. Null for posts stored before
--                           schema 3, whose deliveries were not recorded.
--   norm.posts.reply_to_id  the post it replies to (also for a quote that is a reply)
--   norm.posts.quote_of_id  the post it quotes (also for a reply that quotes)
--   norm.posts.edited_at    when the stored (latest) version was made, null if never edited
--   norm.posts.version_id   the platform's id of the stored version (X: the tweet id of the
--                           latest edit; post_id stays the first id of the edit history)
--   norm.post_versions      every version of an edited post, earlier ones included
alter table norm.posts add column matched boolean;
alter table norm.posts add column reply_to_id varchar;
alter table norm.posts add column quote_of_id varchar;
alter table norm.posts add column edited_at timestamptz;
alter table norm.posts add column version_id varchar;

update norm.posts set reply_to_id = parent_id where kind = 'reply';
update norm.posts set quote_of_id = parent_id where kind = 'quote';

-- unique key (platform, post_id, version_at)
create table norm.post_versions (
    platform      varchar not null,
    post_id       varchar not null,
    version_at    timestamptz not null,  -- when this version was made (edit time, or posting)
    version_id    varchar,               -- X: the version's tweet id
    text          varchar,
    lang          varchar,
    first_page_id varchar not null,      -- the raw page it was first seen in
    first_seen_at timestamptz not null
);
