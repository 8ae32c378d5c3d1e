-- One row per (campaign, post): every post in a campaign with its author and the author's
-- follower count at posting time.
-- campaign: campaign name from the config; platform, post_id: the post's identity;
-- created_at: posting time (UTC); kind: original, repost, reply or quote;
-- author_id, handle: the author; followers_at_post: the author's followers in the
-- observation nearest before the post (else the earliest after it);
-- synthetic: true for data from the simulated source.
with
membership as (
    select campaign, platform, post_id from norm.campaign_posts
),
posts as (
    select m.campaign, p.*
    from membership m join norm.posts p using (platform, post_id)
),
before_post as (
    select p.campaign, p.platform, p.post_id, o.followers
    from posts p asof left join norm.author_observations o
        on o.platform = p.platform and o.author_id = p.author_id
       and p.created_at >= o.observed_at
),
first_seen as (
    select platform, author_id, arg_min(followers, observed_at) as followers
    from norm.author_observations group by all
)
select
    p.campaign, p.platform, p.post_id, p.created_at, p.kind, p.parent_id, p.lang,
    p.author_id, a.handle, p.text, p.url, p.place, p.country_code,
    coalesce(b.followers, f.followers) as followers_at_post,
    p.synthetic
from posts p
left join before_post b using (campaign, platform, post_id)
left join first_seen f on f.platform = p.platform and f.author_id = p.author_id
left join norm.authors a on a.platform = p.platform and a.author_id = p.author_id
