-- One row per (campaign, campaign tag, written form): its distinct contributors and their
-- potential reach, kept incrementally from core.campaign_author_tags (@merge: when new posts
-- only added to their authors' rows, each changed author's new row is counted and its
-- replaced row taken away), so that marts.tag_variants reads one row per written form.
-- @incremental campaign, tag, tag_text
-- @changes core.campaign_author_tags(campaign)
-- @merge contributors count, potential_reach sum
-- Driven by campaign: when an author's row was computed again rather than merged (an older
-- post changed), the campaign's written forms are counted again from every author.
--
-- campaign: campaign name from the config
-- tag: the normalised campaign tag (NFKC + case folding, no '#')
-- tag_text: the tag as written in the posts (without '#')
-- contributors: distinct accounts (platform and account id) with a post carrying the tag in
--   this written form
-- potential_reach: sum of followers over those contributors whose count is known, each once
--   with the largest count among their posts carrying the campaign's tags (null when known
--   for none)
with
authors as (
    select campaign, unnest(string_split(forms, chr(31))) as tag_text, followers
    from core.campaign_author_tags
),
forms as (
    -- a written form belongs to one normalised tag
    select distinct campaign, tag, tag_text from core.campaign_tag_forms
)
select a.campaign, f.tag, a.tag_text, count(*) as contributors,
       sum(a.followers)::bigint as potential_reach
from authors a
join forms f on f.campaign = a.campaign and f.tag_text = a.tag_text
group by all
