-- app.bsky.actor.getProfiles responses {profiles: [...]}: author observations over time.
create or replace temp table b_profiles as
select retrieved_at, unnest(json_extract(payload, '$.profiles[*]')) as a from batch;

insert into n_authors
select 'bluesky', a->>'did', a->>'handle', a->>'displayName',
       try_cast(a->>'createdAt' as timestamptz), null, retrieved_at
from b_profiles where a->>'did' is not null;

insert into n_author_obs
select 'bluesky', a->>'did', retrieved_at, (a->>'followersCount')::bigint,
       (a->>'followsCount')::bigint, (a->>'postsCount')::bigint
from b_profiles where a->>'did' is not null;
