-- One row per (campaign, day, platform, kind): how many posts were made.
-- day: UTC calendar day; posts: number of posts; authors: distinct authors posting.
with
posts as (
    select campaign, platform, kind, author_id, date_trunc('day', created_at) as day
    from core.campaign_posts
)
select campaign, day, platform, kind, count(*) as posts, count(distinct author_id) as authors
from posts
group by all
order by campaign, day, platform, kind
