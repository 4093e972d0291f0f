"""The report pages (calltally.webkit views)."""
