-- One row per configured campaign: the headline numbers (zeros and nulls when it has no posts).
-- The report shows these column descriptions as its definitions (computed in
-- core.campaign_figures, which marts.platform_summary reads too). Definitions as in
-- marts.reach_daily, over the whole campaign; engagement as in core.campaign_posts (latest
-- observation; reposts carry none). A figure that is not known is null, never 0, and each
-- figure known for only some posts is a sum over those, with the share it is known for.
--
-- campaign: campaign name from the config
-- title: display title from the config
-- timezone: the campaign's time zone
-- posts: Posts that count for the campaign, on every platform and of every kind (originals,
--   reposts, replies, quotes), made inside the campaign's window (its start and end dates, in
--   its time zone, both included): every post carrying one of the campaign's hashtags (after
--   Unicode normalisation and case folding), whether it was delivered as a result (matched) or
--   only as context for another post (the post a result reposts, quotes or replies to); every
--   matched repost of such a post; and every post an import with --campaign delivered as a
--   result. Context posts without the campaign's tags do not count.
-- contributors: Distinct accounts (a platform and its account id) with at least one post that
--   counts. A post whose account is not in the data (a CSV export without account columns)
--   adds no account: the figure is then a lower bound, and null when no post's account is
--   known.
-- followers_known_posts: posts whose author's follower count is known (the author's latest
--   known count observed at or before the post, else the earliest known one)
-- followers_known_share: followers_known_posts / posts (0 to 1; null without posts)
-- potential_reach: Sum of followers over distinct contributors whose follower count is known,
--   each counted once with the largest count among their posts: an upper bound on the people
--   who could have seen a post (audiences overlap). Not known (null) when no contributor's
--   follower count is known; when known for only some posts it covers those, and
--   followers_known_share says for what share of posts.
-- potential_impressions: Sum over posts of the author's follower count at posting: how many
--   times a post could have appeared in a feed. Not known (null) when no follower count is
--   known; when known for only some posts it is the sum over those (followers_known_share).
-- impressions_known_posts: posts whose platform reported actual impressions for them
-- impressions_known_share: impressions_known_posts / posts (0 to 1; null without posts)
-- actual_impressions: Sum of the impressions the platform itself reported: only X does
--   (impression_count), for posts made since it counted views (mid-December 2022, the date in
--   core.platforms); reposts carry none of their own. Not known (null) when reported for no
--   post, e.g. on Mastodon, Bluesky and Facebook, and for older tweets (for them X reports 0,
--   which means not counted); otherwise the sum over the posts it was reported for
--   (impressions_known_share).
-- frequency: potential_impressions / potential_reach (null when either is not known)
-- engageable_posts: posts that can receive engagement (all but reposts)
-- engagement_known_posts: posts whose engagement is known (any of its counts observed; never
--   reposts)
-- engagement_known_share: engagement_known_posts / engageable_posts (0 to 1; null when no
--   post can receive engagement)
-- likes: sum of likes over posts (each post's latest observation; Mastodon: the largest seen,
--   core.platforms.counts); null when no post was observed
-- reposts: sum of reposts received; null when no post was observed
-- replies: sum of replies received; null when no post was observed
-- quotes: sum of quotes received; null when no post was observed
-- engagement: Likes + reposts + replies + quotes received (Facebook: reactions, shares and
--   comments), from each post's latest observation (Mastodon: each count the largest seen,
--   as instances count only what reached them). Reposts carry none of their own: the
--   original's count it. Not known (null) when no post's engagement is known; otherwise the
--   sum over the posts whose engagement is known (engagement_known_share).
-- engagement_per_post: Engagement divided by the posts it is known for (never reposts).
--   Null when not known.
-- first_post: Time of the earliest post that counts.
-- last_post: Time of the latest post that counts.
-- peak_hour: The UTC clock hour with the most posts (the earliest of equal hours), shown in
--   the campaign's time zone. Posts without a known posting time are in no hour.
-- peak_hour_posts: posts in the peak hour
-- synthetic: true if any post comes from the simulated source
-- platforms: the platforms with posts, sorted and comma-separated (e.g. 'mastodon, x')
-- author_known_posts: posts whose author is known (a CSV export's row may name no account)
-- author_known_share: author_known_posts / posts (0 to 1; null without posts): below 1,
--   contributors and potential reach count the known authors only (a lower bound)
with
campaigns as (
    select campaign, title, timezone from core.campaigns
),
figures as (
    select * from core.campaign_figures where all_platforms
)
select
    c.campaign, c.title, c.timezone,
    coalesce(f.posts, 0) as posts,
    -- no posts: no contributors; posts but no known account: not known
    if(f.campaign is null, 0, f.contributors) as contributors,
    coalesce(f.followers_known_posts, 0) as followers_known_posts,
    f.followers_known_share, f.potential_reach, f.potential_impressions,
    coalesce(f.impressions_known_posts, 0) as impressions_known_posts,
    f.impressions_known_share, f.actual_impressions, f.frequency,
    coalesce(f.engageable_posts, 0) as engageable_posts,
    coalesce(f.engagement_known_posts, 0) as engagement_known_posts,
    f.engagement_known_share,
    f.likes, f.reposts, f.replies, f.quotes, f.engagement, f.engagement_per_post,
    f.first_post, f.last_post, f.peak_hour, f.peak_hour_posts,
    coalesce(f.synthetic, false) as synthetic,
    coalesce(f.platforms, '') as platforms,
    coalesce(f.author_known_posts, 0) as author_known_posts, f.author_known_share
from campaigns c
left join figures f using (campaign)
order by c.campaign
