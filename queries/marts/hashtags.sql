-- One row per (campaign, normalised tag): how many campaign posts carry it. The campaign's
-- own tags (e.g. #AleppoIsBurning and #حلب_تحترق) are flagged, so their variants can be
-- compared side by side.
--
-- campaign: campaign name from the config
-- tag: the normalised tag (NFKC + case folding, no '#')
-- tag_text: the most common written form (the smallest in code-point order among equals)
-- posts: campaign posts carrying the tag (in any written form)
-- written_forms: how many different written forms were seen
-- is_campaign_tag: true for the campaign's own configured hashtags
-- share: posts / all campaign posts
with
tags as (
    select campaign, tag, tag_text, is_campaign_tag, posts from core.campaign_tag_hourly
),
forms as (
    select campaign, tag, tag_text, sum(posts) as n
    from tags
    group by all
),
best_form as (
    select campaign, tag, arg_min(tag_text, (-n, tag_text)) as tag_text,
           count(*) as written_forms
    from forms
    group by all
),
counts as (
    select campaign, tag, sum(posts)::bigint as posts, bool_or(is_campaign_tag) as is_campaign_tag
    from tags
    group by all
),
totals as (
    select campaign, sum(posts)::bigint as total from core.campaign_hourly group by all
)
select c.campaign, c.tag, f.tag_text, c.posts, f.written_forms, c.is_campaign_tag,
       c.posts / t.total as share
from counts c
join best_form f using (campaign, tag)
join totals t using (campaign)
order by c.campaign, c.posts desc, c.tag
