-- Schema version 1: the three layers of the warehouse.
--   raw.*     every API page or archive record exactly as received, with provenance
--   norm.*    posts, authors, observations, hashtags, campaign membership, built from raw
--   ledger.*  one row per collection/import run, cursors, gaps and quarantined records
create schema if not exists raw;
create schema if not exists norm;
create schema if not exists ledger;

-- One API page (or one archive record) as received. page_id is a content hash of
-- (format, payload), so loading the same payload twice changes nothing.
create table if not exists raw.pages (
    page_id       varchar primary key,
    format        varchar not null,      -- x_v2_page, x_v1_status, mastodon_statuses, bluesky_posts, ...
    platform      varchar not null,      -- x, mastodon, bluesky, facebook
    source        varchar not null,      -- source name from the config, or 'import'
    campaign      varchar,               -- campaign that collected it (null for imports without --campaign)
    request       varchar,               -- url + parameters, or file:line for archives
    retrieved_at  timestamptz not null,
    client        varchar,               -- client library and version that fetched it
    load_id       varchar not null,      -- ledger.runs.run_id
    batch_id      varchar not null,      -- the transaction that stored it
    synthetic     boolean not null default false,
    payload       json not null
);

create table if not exists norm.posts (
    platform        varchar not null,
    post_id         varchar not null,     -- X: tweet id; Mastodon: status uri; Bluesky: at:// uri
    url             varchar,
    created_at      timestamptz,
    author_id       varchar,
    text            varchar,
    lang            varchar,
    kind            varchar not null,     -- original, repost, reply, quote
    parent_id       varchar,              -- the post it reposts, replies to or quotes
    conversation_id varchar,
    place           varchar,
    country_code    varchar,
    synthetic       boolean not null default false,
    first_page_id   varchar not null,
    first_seen_at   timestamptz not null,
    primary key (platform, post_id)
);

create table if not exists norm.authors (
    platform     varchar not null,
    author_id    varchar not null,
    handle       varchar,
    name         varchar,
    created_at   timestamptz,
    verified     boolean,
    last_seen_at timestamptz,
    primary key (platform, author_id)
);

-- Follower/following/post counts as observed at a moment; reach uses the observation
-- nearest before the post (ASOF join).
create table if not exists norm.author_observations (
    platform    varchar not null,
    author_id   varchar not null,
    observed_at timestamptz not null,
    followers   bigint,
    following   bigint,
    posts       bigint,
    primary key (platform, author_id, observed_at)
);

create table if not exists norm.post_hashtags (
    platform  varchar not null,
    post_id   varchar not null,
    tag       varchar not null,           -- normalised: NFKC, casefolded, no '#'
    tag_text  varchar,                    -- as written
    primary key (platform, post_id, tag)
);

create table if not exists norm.post_mentions (
    platform          varchar not null,
    post_id           varchar not null,
    mentioned_handle  varchar not null,   -- lowercased handle / acct
    primary key (platform, post_id, mentioned_handle)
);

create table if not exists norm.campaign_posts (
    campaign  varchar not null,
    platform  varchar not null,
    post_id   varchar not null,
    primary key (campaign, platform, post_id)
);

create table if not exists norm.engagement_observations (
    platform     varchar not null,
    post_id      varchar not null,
    observed_at  timestamptz not null,
    likes        bigint,
    reposts      bigint,
    replies      bigint,
    quotes       bigint,
    impressions  bigint,
    primary key (platform, post_id, observed_at)
);

create table if not exists ledger.runs (
    run_id           varchar primary key,
    kind             varchar not null,   -- collect, import, demo
    campaign         varchar,
    source           varchar,
    started_at       timestamptz not null,
    ended_at         timestamptz,
    status           varchar not null,   -- running, ok, partial, failed, rate_limited, budget
    requests         integer default 0,
    pages            integer default 0,
    records          bigint default 0,
    posts_new        bigint default 0,
    duplicates       bigint default 0,
    errors           integer default 0,
    rate_limit_waits integer default 0,
    resume_after     timestamptz,
    message          varchar
);

create table if not exists ledger.cursors (
    campaign    varchar not null,
    source      varchar not null,
    cursor      json,
    updated_at  timestamptz not null,
    run_id      varchar,
    primary key (campaign, source)
);

-- Periods a source could not cover (endpoint limits, budget, ceilings).
create table if not exists ledger.gaps (
    run_id      varchar not null,
    campaign    varchar,
    source      varchar,
    gap_start   timestamptz,
    gap_end     timestamptz,
    reason      varchar not null
);

create table if not exists ledger.quarantine (
    run_id     varchar not null,
    origin     varchar not null,   -- file path or request url
    line       bigint,             -- line number in the file (1-based), when there is one
    reason     varchar not null,
    raw        varchar,            -- the raw text (truncated to 1 MB)
    quarantined_at timestamptz not null
);
