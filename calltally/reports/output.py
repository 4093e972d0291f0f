"""Reports as text: the CSV every face writes (header, rows, a totals row) and values as text."""

from __future__ import annotations

import csv
import datetime as dt
import functools
import json
from decimal import ROUND_HALF_UP, Decimal

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


# --- values as a person reads them (PDF tables, chart labels) ------------------------------------
# The same spelling as the web pages' (calltally.webkit.display), written here because the reports
# are a domain layer that the web faces build on, never the other way round.

LOCALE = "en"
EMPTY = "—"


def hms(seconds) -> str:
    """Seconds as ``h:mm:ss``."""
    if seconds is None:
        return EMPTY
    hours, rest = divmod(max(int(seconds), 0), 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


@functools.lru_cache(maxsize=64)
def _currency(currency: str) -> tuple[str, int] | None:
    """(symbol, decimals) of a currency in the locale; None for a code babel does not know."""
    from babel.numbers import get_currency_precision, get_currency_symbol

    try:
        return get_currency_symbol(currency, locale=LOCALE), get_currency_precision(currency)
    except (ValueError, LookupError):
        return None


def money_text(value, currency: str = "") -> str:
    """``€1,234.50``: the currency's symbol and decimals (rounded half up), ``XYZ1,234.50`` for a
    code babel does not know, the bare amount with two decimals without a currency.

    The English pattern of babel's format_currency (symbol, then the grouped amount; the minus
    sign first), written directly: a PDF of a hundred thousand calls formats as many amounts."""
    if value is None:
        return EMPTY
    value = value if isinstance(value, Decimal) else Decimal(str(value))
    known = _currency(currency) if currency and "/" not in currency else None
    symbol, digits = known if known else ("", 2)
    rounded = value.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    sign = "-" if rounded < 0 else ""
    return f"{sign}{symbol}{abs(rounded):,.{digits}f}"


def display(value, kind: str = "text", currency: str = "") -> str:
    """A value as the report tables show it: counts with thousands separators, seconds as h:mm:ss,
    money with its currency, datetimes with the site's offset, percentages with a % sign."""
    if value is None:
        return EMPTY if kind in ("money", "seconds", "datetime") else ""
    if kind == "money" and not isinstance(value, str):
        return money_text(value, currency)
    if kind == "seconds":
        return hms(value)
    if kind == "datetime" and isinstance(value, dt.datetime):
        offset = value.utcoffset() or dt.timedelta(0)
        minutes = int(offset.total_seconds()) // 60
        sign = "-" if minutes < 0 else "+"
        return f"{value:%Y-%m-%d %H:%M:%S} {sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    if kind == "percent" and isinstance(value, (int, float, Decimal)):
        return f"{value:,.1f} %"
    if kind in ("int", "number") and isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        if isinstance(value, int) or value == int(value):
            return f"{int(value):,}"
        return f"{value:,.3f}".rstrip("0")
    return cell(value, kind)
