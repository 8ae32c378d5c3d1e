-- Which accounts posted in the first hour of each burst (who started it?).
select b.campaign, b.burst, b.start_hour, a.handle, count(*) as posts
from marts.bursts b
join core.campaign_posts p
  on p.campaign = b.campaign
 and p.created_at >= b.start_hour and p.created_at < b.start_hour + interval 1 hour
left join core.authors a on a.platform = p.platform and a.author_id = p.author_id
group by all
order by b.campaign, b.burst, posts desc
limit 50
