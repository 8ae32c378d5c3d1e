-- Move one normalised batch (temp tables n_*) into norm.*. Runs once per batch.
-- Every insert is keyed, so a batch delivered twice (at-least-once) stores nothing new.
-- The (Python) tag UDF runs once per distinct spelling, not once per row.
create or replace temp table n_tag_forms as
select tag_text,
       case when regexp_full_match(tag_text, '[A-Za-z0-9_]*') then lower(tag_text)
            else tracker_tag_norm(tag_text) end as tag
from (select distinct tag_text from n_hashtags where tag_text is not null and tag_text <> '');

create or replace temp table n_tags as
select distinct h.platform, h.post_id, f.tag, h.tag_text
from n_hashtags h join n_tag_forms f using (tag_text);

create or replace temp table n_counts as
select count(*) filter (where p.post_id is null) as posts_new,
       count(*) filter (where p.post_id is not null) as duplicates
from (select distinct platform, post_id from n_posts) b
left join norm.posts p using (platform, post_id);

insert into norm.posts
select * from (select distinct on (platform, post_id) * from n_posts
               order by platform, post_id, first_seen_at)
on conflict do nothing;

insert into norm.authors
select * from (select distinct on (platform, author_id) * from n_authors
               order by platform, author_id, last_seen_at desc)
on conflict (platform, author_id) do update set
    handle = coalesce(excluded.handle, handle),
    name = coalesce(excluded.name, name),
    created_at = coalesce(excluded.created_at, created_at),
    verified = coalesce(excluded.verified, verified),
    last_seen_at = greatest(excluded.last_seen_at, last_seen_at);

-- An observation identical to the author's latest one adds nothing and is skipped.
insert into norm.author_observations
with
obs as (
    -- two observations at the same instant (an author in several statuses of one page):
    -- keep the largest count, so the choice does not depend on row order
    select distinct on (platform, author_id, observed_at) * from n_author_obs
    order by platform, author_id, observed_at, followers desc nulls last
),
latest as (
    select platform, author_id, max(observed_at) as at,
           arg_max(followers, observed_at) as followers,
           arg_max(following, observed_at) as following,
           arg_max(posts, observed_at) as posts
    from norm.author_observations
    where (platform, author_id) in (select platform, author_id from obs)
    group by all
)
select o.* from obs o left join latest l using (platform, author_id)
where l.at is null or o.observed_at < l.at
   or o.followers is distinct from l.followers
   or o.following is distinct from l.following
   or o.posts is distinct from l.posts
on conflict do nothing;

insert into norm.engagement_observations
with
obs as (
    select distinct on (platform, post_id, observed_at) * from n_engagement
    order by platform, post_id, observed_at, likes desc nulls last, reposts desc nulls last
),
latest as (
    select platform, post_id, max(observed_at) as at,
           arg_max(likes, observed_at) as likes, arg_max(reposts, observed_at) as reposts,
           arg_max(replies, observed_at) as replies, arg_max(quotes, observed_at) as quotes,
           arg_max(impressions, observed_at) as impressions
    from norm.engagement_observations
    where (platform, post_id) in (select platform, post_id from obs)
    group by all
)
select o.* from obs o left join latest l using (platform, post_id)
where l.at is null or o.observed_at < l.at
   or o.likes is distinct from l.likes or o.reposts is distinct from l.reposts
   or o.replies is distinct from l.replies or o.quotes is distinct from l.quotes
   or o.impressions is distinct from l.impressions
on conflict do nothing;

insert into norm.post_hashtags
select * from (select distinct on (platform, post_id, tag) platform, post_id, tag, tag_text
               from n_tags)
on conflict do nothing;

insert into norm.post_mentions
select distinct platform, post_id, mentioned_handle from n_mentions
where mentioned_handle is not null
on conflict do nothing;

insert into norm.campaign_posts
select distinct ct.campaign, t.platform, t.post_id
from n_tags t join campaign_tags ct on ct.tag = t.tag
union
select distinct a.campaign, p.platform, p.post_id from n_posts p, assign_campaign a
on conflict do nothing;

-- A repost belongs to the campaigns of the post it reposts (a Mastodon reblog carries no
-- tags of its own; an X retweet's text may be truncated before the tag).
insert into norm.campaign_posts
select distinct cp.campaign, p.platform, p.post_id
from n_posts p
join norm.campaign_posts cp on cp.platform = p.platform and cp.post_id = p.parent_id
where p.kind = 'repost'
on conflict do nothing;
