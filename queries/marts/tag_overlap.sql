-- One row per (campaign, pair of the campaign's own tags): how many contributors used each
-- tag (in any written form) and how many used both: did the tags reach different people?
-- Every pair of the campaign's configured tags (normalised), with tag_a < tag_b; a campaign
-- with one tag has no row.
--
-- campaign: campaign name from the config
-- tag_a: the first normalised tag of the pair (NFKC + case folding, no '#')
-- tag_b: the second normalised tag (tag_a < tag_b)
-- contributors_a: distinct accounts (platform and account id) with a campaign post carrying
--   tag_a
-- contributors_b: distinct accounts with a campaign post carrying tag_b
-- contributors_both: accounts with posts carrying both tags (on one post or on different ones)
-- contributors_either: accounts with a post carrying either tag
-- jaccard: contributors_both / contributors_either (0 to 1; null when neither tag was used)
with
configured as (
    select distinct campaign, tag from core.campaign_tags
),
pairs as (
    select a.campaign, a.tag as tag_a, b.tag as tag_b
    from configured a
    join configured b on b.campaign = a.campaign and a.tag < b.tag
),
authors as (
    select distinct campaign, tag, platform, author_id from core.campaign_tag_authors
),
each_tag as (
    select campaign, tag, count(*) as contributors from authors group by all
),
both_tags as (
    select a.campaign, a.tag as tag_a, b.tag as tag_b, count(*) as contributors
    from authors a
    join authors b
      on b.campaign = a.campaign and b.platform = a.platform and b.author_id = a.author_id
     and a.tag < b.tag
    group by all
)
select p.campaign, p.tag_a, p.tag_b,
       coalesce(ea.contributors, 0) as contributors_a,
       coalesce(eb.contributors, 0) as contributors_b,
       coalesce(bt.contributors, 0) as contributors_both,
       coalesce(ea.contributors, 0) + coalesce(eb.contributors, 0)
           - coalesce(bt.contributors, 0) as contributors_either,
       coalesce(bt.contributors, 0)
           / nullif(coalesce(ea.contributors, 0) + coalesce(eb.contributors, 0)
                    - coalesce(bt.contributors, 0), 0) as jaccard
from pairs p
left join each_tag ea on ea.campaign = p.campaign and ea.tag = p.tag_a
left join each_tag eb on eb.campaign = p.campaign and eb.tag = p.tag_b
left join both_tags bt
  on bt.campaign = p.campaign and bt.tag_a = p.tag_a and bt.tag_b = p.tag_b
order by p.campaign, p.tag_a, p.tag_b
