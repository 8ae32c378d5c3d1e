-- One row per author (platform, author_id): the latest profile and follower counts seen.
-- @materialized view
--
-- platform: the platform (core.platforms; x, mastodon, bluesky, facebook, ...)
-- author_id: the author's identity on the platform (X user id, Mastodon profile url, DID)
-- handle: the handle in the profile dated last (X username, Mastodon user@server, Bluesky
--   handle; dated as in docs/import.md, "Idempotency"): an older archive loaded later does not
--   replace it
-- name: the display name in the profile dated last
-- followers: followers in the latest observation (null if never observed)
-- observations: how many distinct follower observations are stored
-- first_observed_at: time of the first observation
-- last_observed_at: time of the latest observation
with
observations as (
    select platform, author_id, count(*) as observations,
           min(observed_at) as first_observed_at, max(observed_at) as last_observed_at,
           arg_max(followers, observed_at) as followers
    from norm.author_observations
    group by all
)
select a.platform, a.author_id, a.handle, a.name, o.followers,
       coalesce(o.observations, 0) as observations, o.first_observed_at, o.last_observed_at
from norm.authors a
left join observations o using (platform, author_id)
