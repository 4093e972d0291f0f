"""Reports: the catalogue (call list, summaries, top N, traffic, inbound performance…), their options,
and their output as tables, charts, CSV, XLSX, PDF and JSON — the same on the web, the CLI and the API."""
