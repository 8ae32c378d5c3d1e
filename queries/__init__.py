"""The SQL models (staging/, core/, marts/) and examples/, shipped as `tracker.sql_queries`."""
