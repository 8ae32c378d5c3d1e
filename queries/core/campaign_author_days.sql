-- One row per (campaign, platform, local day of a first post): the authors whose first
-- campaign post was that day, and their follower counts summed, kept incrementally from
-- core.campaign_authors (@merge: an author's new row is counted and the replaced one taken
-- away, so an author whose earlier post arrived late moves to that day) so that the headline
-- figures and the daily adoption read a few hundred rows, not every author. An author is
-- (platform, author_id).
-- @incremental campaign, platform, first_day
-- @changes core.campaign_authors(campaign, platform)
-- @merge authors count, followers sum, followers_known sum
-- Driven by (campaign, platform): when an author's row was computed again rather than merged
-- (an older post changed), the platform's days are counted again from every author.
--
-- campaign: campaign name from the config
-- platform: the platform (core.platforms; x, mastodon, bluesky, facebook, ...)
-- first_day: local day of the authors' first campaign post (campaign's time zone)
-- authors: authors whose first campaign post was that day
-- followers: sum of the follower counts known among those authors (each the largest at
--   posting; 0 when known for none: see followers_known)
-- followers_known: those authors whose follower count is known
with
authors as (
    select campaign, platform, first_day, followers from core.campaign_authors
)
select campaign, platform, first_day, count(*) as authors,
       coalesce(sum(followers), 0)::bigint as followers, count(followers) as followers_known
from authors
group by all
