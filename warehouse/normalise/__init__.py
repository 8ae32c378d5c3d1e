"""Normalisation SQL, one file per raw format, shipped as `tracker.sql_normalise`."""
