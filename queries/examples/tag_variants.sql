-- The campaign's own hashtag variants side by side (e.g. #AleppoIsBurning vs #حلب_تحترق),
-- with how many posts carry both.
with
own as (
    select campaign, tag, tag_text, posts from marts.hashtags where is_campaign_tag
),
both_tags as (
    select h.campaign, h.tag_a, h.tag_b, h.posts
    from marts.hashtag_cooccurrence h
    join own a on a.campaign = h.campaign and a.tag = h.tag_a
    join own b on b.campaign = h.campaign and b.tag = h.tag_b
)
select o.campaign, o.tag_text, o.posts,
       (select sum(posts) from both_tags b where b.campaign = o.campaign
            and o.tag in (b.tag_a, b.tag_b)) as posts_with_another_campaign_tag
from own o
order by o.campaign, o.posts desc
