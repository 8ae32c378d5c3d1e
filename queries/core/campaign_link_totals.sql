-- One row per (campaign, normalised link): the campaign posts carrying it, their distinct
-- authors and potential reach, from core.campaign_link_authors (not from posts): when new
-- posts only added to the authors' rows (that model was merged), their new versions are
-- added and the replaced ones taken off (@merge); otherwise the changed links are recomputed.
-- core.campaign_link_leaders keeps the leading links of marts.top_links.
-- @incremental campaign, url_norm
-- @changes core.campaign_link_authors(campaign, url_norm)
-- @merge posts sum, authors sum, author_rows count, potential_reach sum, potential_impressions sum, followers_known_posts sum, domain max
--
-- campaign: campaign name from the config
-- url_norm: the normalised link (core.campaign_links)
-- domain: its registered domain (null for a link that is not http or https)
-- posts: campaign posts carrying the link
-- authors: distinct known authors of those posts (null when no post's author is known)
-- author_rows: its rows in core.campaign_link_authors: the known authors, and one for its
--   posts whose author is not known (the count @merge keeps)
-- potential_reach: the sum over the distinct authors of those posts of each one's largest
--   followers at posting among them (null when no author's followers are known)
-- potential_impressions: sum of followers at posting over those posts (null when unknown)
-- followers_known_posts: posts carrying it whose author's followers at posting are known
with
authors as (
    select campaign, author_id, url_norm, domain, posts, followers, potential_impressions,
           followers_known_posts
    from core.campaign_link_authors
)
select campaign, url_norm, max(domain) as domain, sum(posts)::bigint as posts,
       nullif(count(author_id), 0) as authors,
       count(*) as author_rows, sum(followers)::bigint as potential_reach,
       sum(potential_impressions)::bigint as potential_impressions,
       sum(followers_known_posts)::bigint as followers_known_posts
from authors
group by all
