-- Schema version 2: the large norm.* tables lose their primary keys.
-- DuckDB keeps a primary key as an in-memory index (ART) that grows with the table: with
-- millions of posts and observations it took most of an import's memory and time. The
-- keys are still unique: the only writer, warehouse/normalise/_merge.sql (and
-- store.normalise.relink_campaigns), inserts only rows whose key is not stored yet
-- (anti-joins, done with hash joins and no resident index). The warehouse has one writer
-- at a time (DuckDB's file lock), so two inserts of the same key cannot race.
-- DuckDB cannot drop a constraint: each table is rebuilt with the same columns.

-- unique key (platform, post_id)
create table norm.posts__v2 (
    platform        varchar not null,
    post_id         varchar not null,
    url             varchar,
    created_at      timestamptz,
    author_id       varchar,
    text            varchar,
    lang            varchar,
    kind            varchar not null,
    parent_id       varchar,
    conversation_id varchar,
    place           varchar,
    country_code    varchar,
    synthetic       boolean not null default false,
    first_page_id   varchar not null,
    first_seen_at   timestamptz not null
);
insert into norm.posts__v2 select * from norm.posts;
drop table norm.posts;
alter table norm.posts__v2 rename to posts;

-- unique key (platform, author_id)
create table norm.authors__v2 (
    platform     varchar not null,
    author_id    varchar not null,
    handle       varchar,
    name         varchar,
    created_at   timestamptz,
    verified     boolean,
    last_seen_at timestamptz
);
insert into norm.authors__v2 select * from norm.authors;
drop table norm.authors;
alter table norm.authors__v2 rename to authors;

-- unique key (platform, author_id, observed_at)
create table norm.author_observations__v2 (
    platform    varchar not null,
    author_id   varchar not null,
    observed_at timestamptz not null,
    followers   bigint,
    following   bigint,
    posts       bigint
);
insert into norm.author_observations__v2 select * from norm.author_observations;
drop table norm.author_observations;
alter table norm.author_observations__v2 rename to author_observations;

-- unique key (platform, post_id, tag)
create table norm.post_hashtags__v2 (
    platform  varchar not null,
    post_id   varchar not null,
    tag       varchar not null,
    tag_text  varchar
);
insert into norm.post_hashtags__v2 select * from norm.post_hashtags;
drop table norm.post_hashtags;
alter table norm.post_hashtags__v2 rename to post_hashtags;

-- unique key (platform, post_id, mentioned_handle)
create table norm.post_mentions__v2 (
    platform          varchar not null,
    post_id           varchar not null,
    mentioned_handle  varchar not null
);
insert into norm.post_mentions__v2 select * from norm.post_mentions;
drop table norm.post_mentions;
alter table norm.post_mentions__v2 rename to post_mentions;

-- unique key (campaign, platform, post_id)
create table norm.campaign_posts__v2 (
    campaign  varchar not null,
    platform  varchar not null,
    post_id   varchar not null
);
insert into norm.campaign_posts__v2 select * from norm.campaign_posts;
drop table norm.campaign_posts;
alter table norm.campaign_posts__v2 rename to campaign_posts;

-- unique key (platform, post_id, observed_at)
create table norm.engagement_observations__v2 (
    platform     varchar not null,
    post_id      varchar not null,
    observed_at  timestamptz not null,
    likes        bigint,
    reposts      bigint,
    replies      bigint,
    quotes       bigint,
    impressions  bigint
);
insert into norm.engagement_observations__v2 select * from norm.engagement_observations;
drop table norm.engagement_observations;
alter table norm.engagement_observations__v2 rename to engagement_observations;

-- The tables above are new: the models' high-water marks (row numbers in norm.*) no longer
-- apply, so the next `tracker build` is a full one.
drop table if exists core.build_state;
