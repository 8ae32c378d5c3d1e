-- One row per (campaign, configured tag): the tag's bit in core.campaign_author_tags.tags.
-- @materialized view
-- Bits follow the campaign's normalised tags in code-point order, from 0; only the first 64
-- tags of a campaign get one (the tag overlap covers those).
--
-- campaign: campaign name from the config
-- tag: the normalised campaign tag (NFKC + case folding, no '#')
-- bit: the tag's bit (0 to 63)
with
tags as (
    select distinct campaign, tag from core.campaign_tags
),
numbered as (
    select campaign, tag, row_number() over (partition by campaign order by tag) - 1 as bit
    from tags
)
select campaign, tag, bit::tinyint as bit
from numbered
where bit < 64
