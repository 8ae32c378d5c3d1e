"""Sources: each yields raw pages for one (campaign, source) and knows nothing of storage."""

from __future__ import annotations

from ..config import Campaign, SourceConfig
from ..errors import ConfigError
from .base import RawPage, RunLog, Source

__all__ = ["RawPage", "RunLog", "Source", "build_source"]


def build_source(campaign: Campaign, cfg: SourceConfig) -> Source:
    """Instantiate the source configured as `cfg` for `campaign`."""
    if cfg.type == "simulated":
        from .simulated import SimulatedSource

        return SimulatedSource(campaign, cfg)
    raise ConfigError(f"source type '{cfg.type}' is not available in this version")
