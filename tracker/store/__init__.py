"""The DuckDB warehouse: connection, schema migrations, raw storage and normalisation."""
