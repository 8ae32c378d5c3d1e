"""Looking posts up by id: tweet-id hydration (`tracker hydrate`) and engagement re-polls as
posts age (`tracker repoll`, and the daemon). One lookup per platform; both commands use it."""
