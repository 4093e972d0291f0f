"""Reports as text: the CSV every face writes (header, rows, a totals row) and values as text."""

from __future__ import annotations

import csv
import datetime as dt
import json
from decimal import Decimal

TOTAL_LABEL = "Total"


def cell(value, kind: str = "text") -> str:
    """A value as CSV text: datetimes in ISO 8601 with the site's offset, money as decimal text,
    an unrated cost (None) empty."""
    if value is None:
        return ""
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def totals_row(result) -> dict | None:
    """The totals under the columns they sum (the first column says Total); None when the totals
    name no column. Costs in several currencies are written as "EUR 12.50 / USD 3.00"."""
    columns = [c.name for c in result.columns]
    shown = {}
    for name, value in result.totals.items():
        if name in columns:
            shown[name] = value
    if not shown:
        return None
    by_currency = result.totals.get("cost_by_currency") or {}
    if "cost" in columns and result.totals.get("cost") is None and len(by_currency) > 1:
        shown["cost"] = " / ".join(f"{c} {v}" for c, v in by_currency.items())
    if "currency" in columns:
        shown["currency"] = result.totals.get("currency", "")
    shown[columns[0]] = TOTAL_LABEL
    return shown


def write_csv(result, stream) -> int:
    """Header (the columns' names), one line per row, then the totals row; returns the rows written."""
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow([c.name for c in result.columns])
    count = 0
    for row in result.rows:
        writer.writerow([cell(row.get(c.name), c.type) for c in result.columns])
        count += 1
    total = totals_row(result)
    if total is not None:
        writer.writerow([cell(total.get(c.name), c.type) for c in result.columns])
    return count


def write_json(result, stream, indent: int = 2) -> int:
    """The object of ``result.as_json()``, written row by row: a million-call list is never held
    in memory as one list. Returns the rows written."""
    from .catalogue import json_row, json_totals

    pad = " " * indent

    def dump(value) -> str:
        return json.dumps(value, ensure_ascii=False)

    stream.write("{\n")
    stream.write(f'{pad}"report": {dump(result.report.name)},\n')
    stream.write(f'{pad}"options": {dump(result.options.to_dict())},\n')
    stream.write(f'{pad}"columns": {dump([c.as_dict() for c in result.columns])},\n')
    stream.write(f'{pad}"rows": [')
    count = 0
    for row in result.rows:
        stream.write(("\n" if count == 0 else ",\n") + pad * 2 + dump(json_row(row, result.columns)))
        count += 1
    stream.write(f"\n{pad}],\n" if count else "],\n")
    stream.write(f'{pad}"totals": {dump(json_totals(result.totals))}\n}}\n')
    return count
