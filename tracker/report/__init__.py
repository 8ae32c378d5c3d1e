"""Reports: Altair charts over the marts, rendered into self-contained HTML pages."""
