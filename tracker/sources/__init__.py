"""Sources: each yields raw pages for one (campaign, source) and knows nothing of storage."""

from __future__ import annotations

from pathlib import Path

from ..config import Campaign, SourceConfig
from ..errors import ConfigError
from ..pages import RawPage, RunLog
from .base import Source

__all__ = ["RawPage", "RunLog", "Source", "build_source"]


def build_source(campaign: Campaign, cfg: SourceConfig, state_dir: Path | None = None) -> Source:
    """Instantiate the source configured as `cfg` for `campaign`.

    `state_dir` (the warehouse folder) holds state that must not live in the database, such
    as the Bluesky session.
    """
    if cfg.type == "simulated":
        from .simulated import SimulatedSource

        return SimulatedSource(campaign, cfg)
    if cfg.type == "x":
        from .x import XSource

        return XSource(campaign, cfg)
    if cfg.type == "mastodon":
        from .mastodon import MastodonSource

        return MastodonSource(campaign, cfg)
    if cfg.type == "bluesky":
        from .bluesky import BlueskySource

        return BlueskySource(campaign, cfg, state_dir=state_dir or Path("warehouse"))
    raise ConfigError(f"source type '{cfg.type}' is not available in this version")
