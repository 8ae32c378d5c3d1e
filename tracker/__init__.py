"""Hashtag campaign tracker: collect posts, keep them in DuckDB, model and report them."""

__version__ = "0.1.0"
