-- One row per (campaign, campaign tag, written form): each of the campaign's own tags as
-- written in the posts (#AleppoIsBurning, #aleppoisburning, #ALEPPOISBURNING are one
-- normalised tag in three written forms; #حلب_تحترق is another tag), with who used it and
-- where. A post carries a normalised tag once, in one written form, so the written forms of a
-- tag split its posts. Reach as in marts.campaign_summary, over the form's contributors.
--
-- campaign: campaign name from the config
-- tag: the normalised campaign tag (NFKC + case folding, no '#')
-- tag_text: the tag as written in the posts (without '#')
-- posts: campaign posts carrying the tag in this written form
-- tag_share: posts / campaign posts carrying the tag in any written form (0 to 1)
-- contributors: distinct accounts (platform and account id) with a post carrying the tag in
--   this written form (null when no such post's account is known)
-- followers_known_posts: those posts whose author's followers at posting are known
-- potential_reach: sum of followers over the contributors whose count is known, each once
--   with the largest count among their posts carrying the campaign's tags (null when known
--   for none)
-- potential_impressions: sum of followers at posting over the posts (null when known for none)
-- languages: how many languages the posts are in ('und' counts as one)
-- top_languages: the languages by posts, most first (equal counts by code): their codes as
--   reported, comma-separated (the report and its CSV add the names)
-- platforms: the platforms with posts, sorted and comma-separated (e.g. 'mastodon, x')
-- first_post: time of the first post carrying the tag in this written form: its first use
-- last_post: time of the last such post
with
forms as (
    select campaign, tag, tag_text, platform, lang, posts, followers_known_posts,
           potential_impressions, first_post, last_post
    from core.campaign_tag_forms
),
authors as (
    select campaign, tag, tag_text, contributors, potential_reach from core.campaign_tag_reach
),
by_lang as (
    select campaign, tag, tag_text, lang, sum(posts) as posts
    from forms
    group by all
),
langs as (
    select campaign, tag, tag_text, count(*) as languages,
           string_agg(lang, ', ' order by posts desc, lang) as top_languages
    from by_lang
    group by all
),
variants as (
    select campaign, tag, tag_text, sum(posts)::bigint as posts,
           sum(followers_known_posts)::bigint as followers_known_posts,
           sum(potential_impressions)::bigint as potential_impressions,
           string_agg(distinct platform, ', ' order by platform) as platforms,
           min(first_post) as first_post, max(last_post) as last_post
    from forms
    group by all
)
select v.campaign, v.tag, v.tag_text, v.posts,
       v.posts / sum(v.posts) over (partition by v.campaign, v.tag) as tag_share,
       a.contributors, v.followers_known_posts, a.potential_reach, v.potential_impressions,
       l.languages, l.top_languages, v.platforms, v.first_post, v.last_post
from variants v
-- a form used only in posts whose author is not known has no contributors row: not known
left join authors a using (campaign, tag, tag_text)
join langs l using (campaign, tag, tag_text)
order by v.campaign, v.tag, v.posts desc, v.tag_text
