-- One row per (campaign, pair of the campaign's own tags): how many contributors used each
-- tag (in any written form) and how many used both: did the tags reach different people?
-- Every pair of the campaign's configured tags (normalised), with tag_a < tag_b; a campaign
-- with one tag has no row (nor do tags after a campaign's 64th, core.campaign_tag_bits).
-- Counted from core.campaign_tag_masks: contributors per combination of tags used.
--
-- campaign: campaign name from the config
-- tag_a: the first normalised tag of the pair (NFKC + case folding, no '#')
-- tag_b: the second normalised tag (tag_a < tag_b)
-- contributors_a: distinct known accounts (platform and account id) with a campaign post
--   carrying tag_a (0 when no campaign post carries it; null when none of those posts has a
--   known author)
-- contributors_b: distinct known accounts with a campaign post carrying tag_b (as for tag_a)
-- contributors_both: accounts with posts carrying both tags (on one post or on different
--   ones; null when either tag's is)
-- contributors_either: accounts with a post carrying either tag (null when either tag's is)
-- jaccard: contributors_both / contributors_either (0 to 1; null when neither tag was used or
--   either tag's contributors are not known)
with
bits as (
    select campaign, tag, bit from core.campaign_tag_bits
),
pairs as (
    select a.campaign, a.tag as tag_a, a.bit as bit_a, b.tag as tag_b, b.bit as bit_b
    from bits a
    join bits b on b.campaign = a.campaign and a.tag < b.tag
),
masks as (
    select campaign, tags, contributors from core.campaign_tag_masks
),
counts as (
    select p.campaign, p.tag_a, p.tag_b,
           sum(m.contributors) filter (where (m.tags >> p.bit_a) & 1 = 1) as contributors_a,
           sum(m.contributors) filter (where (m.tags >> p.bit_b) & 1 = 1) as contributors_b,
           sum(m.contributors) filter (where (m.tags >> p.bit_a) & 1 = 1
                                         and (m.tags >> p.bit_b) & 1 = 1) as contributors_both
    from pairs p
    left join masks m on m.campaign = p.campaign
    group by all
),
used as (
    -- the tags carried by campaign posts, whether or not any of their authors is known
    select distinct campaign, tag from core.campaign_tag_forms
),
filled as (
    -- a tag no post carries has 0 contributors; one whose posts have no known author, an
    -- unknown number (null), and then so have the pair's both and either
    select c.campaign, c.tag_a, c.tag_b,
           if(ua.tag is null, 0, c.contributors_a)::bigint as contributors_a,
           if(ub.tag is null, 0, c.contributors_b)::bigint as contributors_b,
           coalesce(c.contributors_both, 0)::bigint as contributors_both
    from counts c
    left join used ua on ua.campaign = c.campaign and ua.tag = c.tag_a
    left join used ub on ub.campaign = c.campaign and ub.tag = c.tag_b
)
select campaign, tag_a, tag_b, contributors_a, contributors_b,
       if(contributors_a is null or contributors_b is null, null, contributors_both)
           as contributors_both,
       contributors_a + contributors_b - contributors_both as contributors_either,
       contributors_both / nullif(contributors_a + contributors_b - contributors_both, 0)
           as jaccard
from filled
order by campaign, tag_a, tag_b
