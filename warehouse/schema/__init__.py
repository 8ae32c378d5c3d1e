"""Warehouse schema migrations, shipped as `tracker.sql_schema`."""
