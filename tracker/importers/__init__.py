"""Archive import: twarc2 / X v1.1 / Mastodon / Bluesky JSON and Facebook or mapped CSV."""

from .formats import FORMAT_CHOICES
from .run import Importer, ImportSummary

__all__ = ["FORMAT_CHOICES", "ImportSummary", "Importer"]
