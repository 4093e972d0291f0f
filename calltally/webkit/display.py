"""How the web pages show instants, durations and money.

Kept apart from the views so tables, templates, exports and tests share one
spelling: an instant in its site's time zone with the offset, money with its
currency's symbol and the currency's own decimals (babel).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import UnknownCurrencyError, format_currency, get_currency_precision
from django.utils.html import format_html

EMPTY = "—"
# The locale money is written in (the project's language; a per-account choice may follow).
LOCALE = "en"


def offset_text(moment: dt.datetime) -> str:
    """The UTC offset of an aware instant as ``+01:00`` (``%:z`` needs Python 3.12)."""
    offset = moment.utcoffset() or dt.timedelta(0)
    sign = "-" if offset < dt.timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def local_time(moment: dt.datetime | None, zone: zoneinfo.ZoneInfo | str | None) -> str:
    """``2026-03-02 09:15:00 +01:00``: an instant in a site's time zone, with its offset."""
    if moment is None:
        return EMPTY
    if isinstance(zone, str):
        zone = zoneinfo.ZoneInfo(zone)
    local = moment.astimezone(zone or dt.UTC)
    return f"{local:%Y-%m-%d %H:%M:%S} {offset_text(local)}"


def duration(seconds: int | None) -> str:
    """Seconds as ``h:mm:ss``."""
    if seconds is None:
        return EMPTY
    seconds = max(int(seconds), 0)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def amount(value: Decimal | None) -> str:
    """A cost with at least two decimals and no trailing zeros beyond them."""
    if value is None:
        return EMPTY
    text = f"{Decimal(value):.4f}"
    whole, _, decimals = text.partition(".")
    decimals = decimals.rstrip("0").ljust(2, "0")
    return f"{whole}.{decimals}"


def money(value: Decimal | None, currency: str = "", exact: bool = False) -> str:
    """``€1,234.50``: an amount with its currency's symbol and its currency's decimals (``1,234.50 XYZ``
    for a code babel does not know); without a currency, the bare amount.

    On screen every amount of a currency has the same decimals, rounded half up (a tariff
    pricing to the tenth of a cent gives €0.125, shown €0.13); :func:`exact_money` is the
    stored figure, for exports and for the title of a cell. ``exact`` keeps every decimal
    of the amount with the symbol (``€0.125``): where the figure is being explained (the
    cost simulator), not summed.
    """
    if value is None:
        return EMPTY
    value = Decimal(value)
    if not currency:
        return amount(value)
    try:
        digits = get_currency_precision(currency)
        if exact:
            pattern = "¤#,##0." + "0" * digits + "#" * 8
            return format_currency(value, currency, format=pattern, locale=LOCALE, currency_digits=False)
        rounded = value.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
        return format_currency(rounded, currency, locale=LOCALE)
    except (UnknownCurrencyError, ValueError):
        return f"{amount(value)} {currency}"


def exact_money(value: Decimal | None, currency: str = "") -> str:
    """The stored amount with every decimal it has (at least two) and the currency code: ``0.125 EUR``."""
    if value is None:
        return EMPTY
    return f"{amount(value)} {currency}".strip()


def call_cost(call) -> str:
    """A call's cost, or *unrated* for an outbound call no tariff rate matched (its stored
    zero is not a price, and must not read as one)."""
    if getattr(call, "unrated", False):
        return badge("unrated", "unrated")
    return money(call.cost, getattr(call, "currency", ""))


def badge(value: str | None, label: str | None = None) -> str:
    """A coloured label; the CSS colours ``badge-<value>`` (inbound, answered, stale…)."""
    if value in (None, ""):
        return EMPTY
    return format_html('<span class="badge badge-{}">{}</span>', value, label or value)


def yes_no(value: bool) -> str:
    return badge("yes", "yes") if value else badge("no", "no")
