-- One row per (campaign, unordered tag pair): how many campaign posts carry both tags.
-- Tags are normalised (NFKC + case folding, no '#'); tag_a < tag_b in code-point order; the
-- campaign's own tags take part like any other. Kept incrementally: new posts' pairs are
-- added to the counts (@merge); pairs of other changed posts are counted again.
-- @incremental campaign, tag_a, tag_b
-- @changes core.campaign_tag_pairs(campaign, tag_a, tag_b)
-- @merge posts sum
--
-- campaign: campaign name from the config
-- tag_a: the first tag of the pair (normalised)
-- tag_b: the second tag of the pair (normalised)
-- posts: campaign posts carrying both tags
with
pairs as (
    select campaign, tag_a, tag_b from core.campaign_tag_pairs
)
select campaign, tag_a, tag_b, count(*) as posts
from pairs
group by all
