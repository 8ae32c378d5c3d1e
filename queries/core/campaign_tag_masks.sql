-- One row per (campaign, combination of the campaign's own tags): how many contributors used
-- exactly those tags (core.campaign_author_tags.tags), kept incrementally (@merge: an author
-- whose tags changed leaves the old combination and joins the new one) for marts.tag_overlap.
-- @incremental campaign, tags
-- @changes core.campaign_author_tags(campaign)
-- @merge contributors count
-- Driven by campaign: when an author's row was computed again rather than merged (an older
-- post changed), the campaign's combinations are counted again from every author.
--
-- campaign: campaign name from the config
-- tags: the combination, as bits (core.campaign_tag_bits)
-- contributors: distinct accounts (platform and account id) that used exactly these tags
with
authors as (
    select campaign, tags from core.campaign_author_tags
)
select campaign, tags, count(*) as contributors
from authors
group by all
