-- One row per (campaign, author) among the campaign's 25 leading authors by posts, by
-- potential impressions or by engagement received: the candidates of marts.top_contributors,
-- with the author's row of core.campaign_authors. Order per metric as in
-- marts.top_contributors: value, then platform, then author_id; an author whose value is not
-- known (null) is not ranked by that metric.
-- @incremental campaign, platform, author_id
-- @changes core.campaign_authors(campaign, platform, author_id)
-- @reapply
-- Kept incrementally: when new posts only added to their authors' sums (core.campaign_authors
-- was merged), no other author can have passed a leader, so the leaders are chosen again from
-- the previous leaders and the changed authors; otherwise from every author.
--
-- campaign: campaign name from the config
-- platform: the platform (core.platforms; x, mastodon, bluesky, facebook, ...)
-- author_id: the author's identity on the platform
-- posts: the author's campaign posts
-- potential_impressions: sum of followers at posting over the posts (null when unknown)
-- followers: largest follower count at posting among the posts (null when unknown)
-- engagement: sum of engagement received (null when no post has an engagement observation)
-- first_day: local day of the first post (campaign's time zone)
with
authors as (
    select campaign, platform, author_id, posts, potential_impressions, followers, engagement,
           first_day
    from core.campaign_authors
),
floors as (
    -- the 25th largest value of each metric: no author below all three can lead (ties pass)
    select campaign, list_min(max(posts, 25)) as posts,
           list_min(max(potential_impressions, 25)) as potential_impressions,
           list_min(max(engagement, 25)) as engagement
    from authors
    group by all
),
contenders as (
    select a.*
    from authors a
    join floors f
      on f.campaign = a.campaign
     and (a.posts >= f.posts or a.potential_impressions >= f.potential_impressions
          or a.engagement >= f.engagement)
),
ranked as (
    select *,
           row_number() over (partition by campaign
                              order by posts desc, platform, author_id) as by_posts,
           row_number() over (partition by campaign
                              order by potential_impressions desc nulls last, platform,
                                       author_id) as by_impressions,
           row_number() over (partition by campaign
                              order by engagement desc nulls last, platform, author_id)
               as by_engagement
    from contenders
)
select campaign, platform, author_id, posts, potential_impressions, followers, engagement,
       first_day
from ranked
where by_posts <= 25 or by_impressions <= 25 or by_engagement <= 25
