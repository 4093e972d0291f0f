"""Plan files (TOML) and rate decks (CSV): reading with errors people can act
on, and writing them back in one canonical form. Plain Python, no Django.

Nothing here touches the database: a file is read and checked completely
into a :class:`PlanSpec` (or a list of :class:`RateRow`), and only a file
without a single problem is handed to ``services`` to store. The formats are
described in docs/rating.md.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import json
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from calltally.vocabulary import CATEGORIES, DIRECTIONS, OUTBOUND
from calltally.vocabulary import WEEKDAYS as DAYS

from .engine import CTX, QUANTA, ZERO, Window, hhmm, overlapping

MONEY_FIELDS = ("rate_per_minute", "connection_fee", "minimum_charge", "maximum_charge")
VALUE_FIELDS = ("rate_per_minute", "connection_fee", "first_increment", "next_increment", "minimum_duration",
                "minimum_charge", "maximum_charge")
DEFAULTS = {"connection_fee": ZERO, "first_increment": 1, "next_increment": 1, "minimum_duration": 0,
            "minimum_charge": ZERO, "maximum_charge": None}
CSV_COLUMNS = ("prefix", "destination", "category", "band") + VALUE_FIELDS
TOP_KEYS = ("name", "carrier", "currency", "valid_from", "valid_to", "rounding_decimals", "markup_percent",
            "directions", "public_holidays", "default_band", "holiday_band", "bands", "rates")
BAND_KEYS = ("name", "days", "start", "end")
RATE_KEYS = ("prefix", "destination", "category") + VALUE_FIELDS
NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,32}")
MAX_MONEY = Decimal("99999999")
MONEY_PLACES = 6
MAX_SECONDS = 86400
MAX_PROBLEMS = 20


class PlanFileError(ValueError):
    """A plan file or rate deck cannot be used; the message lists every problem with its line."""


class RateRow(NamedTuple):
    """One rate in one band ("" = every band), in the column order of the CSV deck and the database."""

    prefix: str
    destination: str
    category: str
    band: str
    rate_per_minute: Decimal
    connection_fee: Decimal
    first_increment: int
    next_increment: int
    minimum_duration: int
    minimum_charge: Decimal
    maximum_charge: Decimal | None


@dataclass
class PlanSpec:
    """A plan version as a file describes it, checked."""

    name: str
    carrier: str
    currency: str
    valid_from: dt.date
    valid_to: dt.date | None = None
    rounding_decimals: int = 4
    markup_percent: Decimal = ZERO
    directions: tuple[str, ...] = (OUTBOUND,)
    public_holidays: bool = True
    default_band: str = ""
    holiday_band: str = ""
    windows: list[Window] = field(default_factory=list)
    rates: list[RateRow] = field(default_factory=list)

    @property
    def band_names(self) -> list[str]:
        return band_names(self.windows, self.default_band, self.holiday_band)


def band_names(windows: Iterable[Window], default_band: str, holiday_band: str = "") -> list[str]:
    """Every band of a version, in the order files list them: windows first, then default and holiday."""
    names: list[str] = []
    for name in [w.name for w in windows] + [default_band, holiday_band]:
        if name and name not in names:
            names.append(name)
    return names


# --- problems with their line -------------------------------------------------------------------


class _Bad(Exception):
    """A value is wrong; the message says how (raised by the value readers)."""


class _Lines:
    """Where keys and [[tables]] are in a TOML text, to name the line of a problem."""

    def __init__(self, text: str):
        self.top: dict[str, int] = {}
        self.tables: dict[tuple[str, int], int] = {}
        self.keys: dict[tuple[str, int, str], int] = {}
        counts: dict[str, int] = {}
        current: tuple[str, int] | None = None
        for number, line in enumerate(text.splitlines(), 1):
            header = re.match(r"\s*\[\[\s*([A-Za-z0-9_-]+)\s*\]\]", line)
            if header:
                name = header.group(1)
                current = (name, counts.get(name, 0))
                counts[name] = current[1] + 1
                self.tables[current] = number
                continue
            if re.match(r"\s*\[", line):
                current = ("", 0)
                continue
            key = re.match(r"\s*\"?([A-Za-z0-9_-]+)\"?\s*=", line)
            if key:
                if current is None:
                    self.top.setdefault(key.group(1), number)
                else:
                    self.keys.setdefault((*current, key.group(1)), number)

    def line(self, table: str | None, index: int | None, key: str | None) -> int | None:
        if table is None:
            return self.top.get(key or "")
        found = self.keys.get((table, index, key)) if key else None
        return found or self.tables.get((table, index))


class _Problems:
    def __init__(self, source: str, lines: _Lines | None = None):
        self.source = source
        self.lines = lines
        self.found: list[str] = []

    def add(self, message: str, table: str | None = None, index: int | None = None, key: str | None = None,
            line: int | None = None, where: str = "") -> None:
        if line is None and self.lines is not None:
            line = self.lines.line(table, index, key)
        place = f"line {line}: " if line else ""
        if table is not None and not where:
            where = f"[[{table}]] #{index + 1}" if index is not None else f"[{table}]"
        if where:
            place += f"{where}: "
        if key:
            place += f"{key}: "
        self.found.append(place + message)

    @property
    def full(self) -> bool:
        return len(self.found) >= MAX_PROBLEMS

    def raise_if_any(self, what: str = "") -> None:
        if self.found:
            more = f" (the first {MAX_PROBLEMS}; fix them and try again)" if self.full else ""
            count = len(self.found)
            head = f"{self.source}: {count} problem{'s' if count > 1 else ''}{more}{what}:"
            raise PlanFileError("\n  ".join([head, *self.found]))


def _unknown(key: str, allowed: Iterable[str]) -> str:
    close = difflib.get_close_matches(key, list(allowed), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown key {key!r}{hint}; the keys are {', '.join(allowed)}"


# --- values ----------------------------------------------------------------------------------------


def read_money(value, *, blank_ok: bool = False) -> Decimal | None:
    if isinstance(value, bool):
        raise _Bad(f"{value!r} is not an amount; write it as a string such as \"0.0300\"")
    if isinstance(value, int):
        value = str(value)
    elif isinstance(value, float):
        value = repr(value)
    if not isinstance(value, str):
        raise _Bad(f"{value!r} is not an amount; write it as a string such as \"0.0300\"")
    text = value.strip()
    if not text:
        if blank_ok:
            return None
        raise _Bad("is empty; write an amount such as \"0.0300\"" + (" (or \"\" for no cap)" if blank_ok else ""))
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise _Bad(f"{value!r} is not an amount such as \"0.0300\"") from None
    if not amount.is_finite():
        raise _Bad(f"{value!r} is not an amount such as \"0.0300\"")
    if amount < 0:
        raise _Bad(f"{value!r} is negative")
    if amount > MAX_MONEY:
        raise _Bad(f"{value!r} is too large")
    if amount != amount.quantize(QUANTA[MONEY_PLACES], context=CTX):
        raise _Bad(f"{value!r} has more than {MONEY_PLACES} decimal places")
    return amount


def read_seconds(value, name: str) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Bad(f"{value!r} is not a whole number of seconds")
    low = 1 if name == "next_increment" else 0
    if not low <= value <= MAX_SECONDS:
        raise _Bad(f"{value} must be between {low} and {MAX_SECONDS} seconds")
    return value


def read_value(name: str, value):
    if name in MONEY_FIELDS:
        return read_money(value, blank_ok=name == "maximum_charge")
    return read_seconds(value, name)


def read_prefix(value) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise _Bad(f"{value!r} is not a prefix; write E.164 digits without + such as \"39\", or \"*\"")
    text = value.strip()
    if text == "*":
        return ""
    if text.startswith("+"):
        text = text[1:]
    if not text:
        raise _Bad("is empty; write E.164 digits such as \"39\", or \"*\" for every number no other prefix matches")
    if not text.isdigit() or not text.isascii():
        raise _Bad(f"{value!r} is not a prefix; use E.164 digits without + such as \"39\"")
    if len(text) > 20:
        raise _Bad(f"{value!r} is longer than 20 digits")
    return text


def read_text(value, limit: int) -> str:
    if not isinstance(value, str):
        raise _Bad(f"{value!r} is not text; write it in quotes")
    text = value.strip()
    if len(text) > limit:
        raise _Bad(f"is longer than {limit} characters")
    return text


def read_category(value) -> str:
    text = read_text(value, 16)
    if text and text not in CATEGORIES:
        raise _Bad(f"{text!r} is not a category; use one of {', '.join(CATEGORIES)} (or leave it out)")
    return text


def read_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        raise _Bad(f"{value} is a date and time; give the date alone, e.g. \"2026-01-01\"")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise _Bad(f"{value!r} is not a date; write YYYY-MM-DD, e.g. \"2026-01-01\"")


def read_minute(value, end: bool) -> int:
    if isinstance(value, dt.time):
        value = value.strftime("%H:%M") if not value.second else value.isoformat()
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", value) if isinstance(value, str) else None
    if not match:
        raise _Bad(f"{value!r} is not a time; write HH:MM, e.g. \"08:00\"")
    hours, minutes = int(match.group(1)), int(match.group(2))
    minute = hours * 60 + minutes
    if minutes > 59 or minute > 1440 or (minute == 1440 and not end):
        raise _Bad(f"{value!r} is not a time of day" + (" (24:00 is only an end)" if minute == 1440 else ""))
    return minute


def read_band_name(value) -> str:
    if not isinstance(value, str) or not NAME_RE.fullmatch(value.strip()):
        raise _Bad(f"{value!r} is not a band name; use 1 to 32 letters, digits, '-' or '_'")
    return value.strip()


# --- TOML plan files ---------------------------------------------------------------------------------


def parse_plan(text: str, source: str = "plan file") -> PlanSpec:
    """Read a TOML plan file; raises :class:`PlanFileError` listing every problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PlanFileError(f"{source}: not valid TOML: {exc}") from None
    return plan_from_data(data, source, _Lines(text))


def plan_from_data(data: dict, source: str = "plan file", lines: _Lines | None = None) -> PlanSpec:
    problems = _Problems(source, lines)
    for key in data:
        if key not in TOP_KEYS:
            problems.add(_unknown(key, TOP_KEYS), key=key)

    def top(key: str, reader, default=None, required: bool = False):
        if key not in data:
            if required:
                problems.add("is missing", key=key, line=0)
            return default
        try:
            return reader(data[key])
        except _Bad as exc:
            problems.add(str(exc), key=key)
            return default

    spec = PlanSpec(
        name=top("name", lambda v: _nonempty(read_text(v, 100)), "", required=True),
        carrier=top("carrier", lambda v: _nonempty(read_text(v, 100)), "", required=True),
        currency=top("currency", _currency, "", required=True),
        valid_from=top("valid_from", read_date, dt.date.min, required=True),
        valid_to=top("valid_to", lambda v: None if v == "" else read_date(v)),
        rounding_decimals=top("rounding_decimals", _decimals, 4),
        markup_percent=top("markup_percent", _markup, ZERO),
        directions=top("directions", _directions, (OUTBOUND,)),
        public_holidays=top("public_holidays", _boolean, True),
        default_band=top("default_band", read_band_name, "", required=True),
        holiday_band=top("holiday_band", lambda v: "" if v == "" else read_band_name(v), ""),
    )
    if spec.valid_to and spec.valid_from and spec.valid_to < spec.valid_from:
        problems.add(f"{spec.valid_to} is before valid_from {spec.valid_from}", key="valid_to")

    bands = data.get("bands", [])
    if not isinstance(bands, list) or not all(isinstance(b, dict) for b in bands):
        problems.add("must be a list of [[bands]] tables", key="bands")
        bands = []
    for index, band in enumerate(bands):
        window = _window(band, index, problems)
        if window is not None:
            spec.windows.append(window)
    clash = overlapping(spec.windows)
    if clash:
        one, other = clash
        problems.add(f"band windows {one.name} ({one.describe()}) and {other.name} ({other.describe()}) overlap",
                     key="bands")

    rates = data.get("rates", [])
    if not isinstance(rates, list) or not all(isinstance(r, dict) for r in rates):
        problems.add("must be a list of [[rates]] tables", key="rates")
        rates = []
    names = spec.band_names if spec.default_band else []
    seen: dict[str, int] = {}
    for index, rate in enumerate(rates):
        if problems.full:
            break
        rows = _rate_rows(rate, index, names, problems)
        if rows:
            prefix = rows[0].prefix
            if prefix in seen:
                problems.add(f"prefix {prefix or '*'} is also rates #{seen[prefix] + 1}; give each prefix once",
                             table="rates", index=index, key="prefix")
                continue
            seen[prefix] = index
            spec.rates.extend(rows)
    problems.raise_if_any()
    return spec


def _nonempty(text: str) -> str:
    if not text:
        raise _Bad("is empty")
    return text


def _currency(value) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z]{3}", value.strip()):
        raise _Bad(f"{value!r} is not a currency; use a three-letter ISO 4217 code such as \"EUR\"")
    return value.strip().upper()


def _decimals(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 4:
        raise _Bad(f"{value!r} must be a whole number from 0 to 4 (costs are stored with 4 decimals)")
    return value


def _markup(value) -> Decimal:
    if isinstance(value, bool):
        raise _Bad(f"{value!r} is not a percentage")
    try:
        amount = Decimal(repr(value) if isinstance(value, float) else str(value).strip())
    except InvalidOperation:
        raise _Bad(f"{value!r} is not a percentage such as 5 or \"2.5\"") from None
    if not amount.is_finite() or not Decimal(-100) <= amount <= Decimal(1000):
        raise _Bad(f"{value!r} must be between -100 and 1000")
    if amount != amount.quantize(QUANTA[4], context=CTX):
        raise _Bad(f"{value!r} has more than 4 decimal places")
    return amount


def _directions(value) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise _Bad(f"{value!r} must be a list such as [\"outbound\"]")
    found = []
    for item in value:
        if item not in DIRECTIONS:
            raise _Bad(f"{item!r} is not a direction; use {', '.join(DIRECTIONS)}")
        if item not in found:
            found.append(item)
    return tuple(d for d in DIRECTIONS if d in found)


def _boolean(value) -> bool:
    if not isinstance(value, bool):
        raise _Bad(f"{value!r} must be true or false")
    return value


def _window(band: dict, index: int, problems: _Problems) -> Window | None:
    ok = True
    for key in band:
        if key not in BAND_KEYS:
            problems.add(_unknown(key, BAND_KEYS), table="bands", index=index, key=key)
            ok = False
    values = {}
    for key in BAND_KEYS:
        if key not in band:
            problems.add("is missing", table="bands", index=index, key=key)
            ok = False
            continue
        try:
            if key == "name":
                values[key] = read_band_name(band[key])
            elif key == "days":
                values[key] = _days(band[key])
            else:
                values[key] = read_minute(band[key], end=key == "end")
        except _Bad as exc:
            problems.add(str(exc), table="bands", index=index, key=key)
            ok = False
    if ok and values["end"] <= values["start"]:
        problems.add(f"{hhmm(values['end'])} is not after start {hhmm(values['start'])} (end is excluded; "
                     "split a window that crosses midnight in two: until \"24:00\" and from \"00:00\")",
                     table="bands", index=index, key="end")
        ok = False
    if not ok:
        return None
    return Window(values["name"], values["days"], values["start"], values["end"])


def _days(value) -> tuple[int, ...]:
    if not isinstance(value, list) or not value:
        raise _Bad(f"{value!r} must be a list of days such as [\"mon\", \"tue\"]")
    found = set()
    for item in value:
        day = item.strip().lower()[:3] if isinstance(item, str) else None
        if day not in DAYS:
            raise _Bad(f"{item!r} is not a day; use {', '.join(DAYS)}")
        found.add(DAYS.index(day))
    return tuple(sorted(found))


def _rate_rows(rate: dict, index: int, bands: list[str], problems: _Problems) -> list[RateRow]:
    """The rows of one [[rates]] table: one for every band, or one for all when no value differs."""
    ok = True

    def bad(message: str, key: str | None = None) -> None:
        nonlocal ok
        ok = False
        where = f"[[rates]] #{index + 1}" + (f" (prefix {rate['prefix']})" if isinstance(rate.get("prefix"), str)
                                             else "")
        problems.add(message, table="rates", index=index, key=key, where=where)

    for key in rate:
        if key not in RATE_KEYS:
            bad(_unknown(key, RATE_KEYS), key)
    prefix = destination = category = ""
    try:
        if "prefix" not in rate:
            raise _Bad("is missing")
        prefix = read_prefix(rate["prefix"])
    except _Bad as exc:
        bad(str(exc), "prefix")
    try:
        destination = read_text(rate.get("destination", ""), 100)
    except _Bad as exc:
        bad(str(exc), "destination")
    try:
        category = read_category(rate.get("category", ""))
    except _Bad as exc:
        bad(str(exc), "category")
    per_band: dict[str, dict[str, object]] = {band: {} for band in bands}
    for name in VALUE_FIELDS:
        if name not in rate:
            if name == "rate_per_minute":
                bad("is missing", name)
                continue
            for values in per_band.values():
                values[name] = DEFAULTS[name]
            continue
        value = rate[name]
        try:
            if isinstance(value, dict):
                unknown = [b for b in value if b not in bands]
                if unknown:
                    raise _Bad(f"{unknown[0]!r} is not a band of this plan; its bands are {', '.join(bands)}")
                missing = [b for b in bands if b not in value]
                if missing:
                    raise _Bad(f"no value for band {missing[0]!r}; give one for every band "
                               f"({', '.join(bands)}) or a single value for all")
                for band in bands:
                    try:
                        per_band[band][name] = read_value(name, value[band])
                    except _Bad as exc:
                        raise _Bad(f"{band}: {exc}") from None
            else:
                parsed = read_value(name, value)
                for values in per_band.values():
                    values[name] = parsed
        except _Bad as exc:
            bad(str(exc), name)
    if not ok or not bands:
        return []
    rows = [RateRow(prefix, destination, category, band, *(values[n] for n in VALUE_FIELDS))
            for band, values in per_band.items()]
    for row in rows:
        if row.maximum_charge is not None and row.minimum_charge > row.maximum_charge:
            bad(f"minimum_charge {row.minimum_charge} is above maximum_charge {row.maximum_charge}"
                + (f" in band {row.band}" if len(rows) > 1 else ""), "maximum_charge")
            return []
    return collapse(rows)


def collapse(rows: list[RateRow]) -> list[RateRow]:
    """One row for every band ("") when the rows of a prefix differ only by band."""
    if len(rows) > 1 and all(row[4:] == rows[0][4:] for row in rows[1:]):
        return [rows[0]._replace(band="")]
    if len(rows) == 1 and rows[0].band:
        return [rows[0]._replace(band="")]
    return rows


def render_plan(spec: PlanSpec) -> str:
    """The canonical TOML text of a plan version (what `calltally tariff export` writes)."""
    out = [
        f"name = {_quote(spec.name)}",
        f"carrier = {_quote(spec.carrier)}",
        f"currency = {_quote(spec.currency)}",
        f"valid_from = {_quote(spec.valid_from.isoformat())}",
    ]
    if spec.valid_to:
        out.append(f"valid_to = {_quote(spec.valid_to.isoformat())}")
    markup = spec.markup_percent.normalize(CTX)
    out += [
        f"rounding_decimals = {spec.rounding_decimals}",
        f"markup_percent = {int(markup) if markup == markup.to_integral_value() else _quote(f'{markup:f}')}",
        f"directions = [{', '.join(_quote(d) for d in spec.directions)}]",
        f"public_holidays = {'true' if spec.public_holidays else 'false'}",
        f"default_band = {_quote(spec.default_band)}",
        f"holiday_band = {_quote(spec.holiday_band)}",
    ]
    for window in spec.windows:
        out += [
            "",
            "[[bands]]",
            f"name = {_quote(window.name)}",
            f"days = [{', '.join(_quote(DAYS[d]) for d in window.days)}]",
            f"start = {_quote(hhmm(window.start))}",
            f"end = {_quote(hhmm(window.end))}",
        ]
    names = spec.band_names
    for rows in _by_prefix(spec.rates, names):
        first = rows[0]
        out += ["", "[[rates]]", f"prefix = {_quote(first.prefix or '*')}",
                f"destination = {_quote(first.destination)}"]
        if first.category:
            out.append(f"category = {_quote(first.category)}")
        for position, name in enumerate(VALUE_FIELDS, start=4):
            values = [row[position] for row in rows]
            if len(rows) == 1 or all(v == values[0] for v in values):
                out.append(f"{name} = {_toml_value(name, values[0])}")
            else:
                cells = ", ".join(f"{_key(row.band)} = {_toml_value(name, row[position])}" for row in rows)
                out.append(f"{name} = {{ {cells} }}")
    return "\n".join(out) + "\n"


def _by_prefix(rows: Iterable[RateRow], bands: list[str]) -> list[list[RateRow]]:
    """Rows grouped by prefix, prefixes in order, each group in band order."""
    order = {band: i for i, band in enumerate(bands)}
    groups: dict[str, list[RateRow]] = {}
    for row in rows:
        groups.setdefault(row.prefix, []).append(row)
    return [sorted(groups[p], key=lambda r: order.get(r.band, -1)) for p in sorted(groups)]


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _key(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else _quote(name)


def _toml_value(name: str, value) -> str:
    if name in MONEY_FIELDS:
        return _quote(money_text(value))
    return str(value)


def money_text(value: Decimal | None) -> str:
    """How files write an amount: "" for none, "0", or at least 4 decimals ("0.0300", "0.012345")."""
    if value is None:
        return ""
    if value == 0:
        return "0"
    normal = value.normalize(CTX)
    if normal.as_tuple().exponent >= -4:
        return f"{value.quantize(QUANTA[4], context=CTX):f}"
    return f"{normal:f}"


# --- CSV rate decks --------------------------------------------------------------------------------------


def parse_rates_csv(stream: Iterable[str], bands: list[str], source: str = "rate deck") -> list[RateRow]:
    """Read a CSV rate deck for a version with ``bands``; raises :class:`PlanFileError` listing the
    problems with their line numbers. Nothing is returned unless every row is right."""
    problems = _Problems(source)
    reader = csv.reader(stream)
    header: list[str] | None = None
    for cells in reader:
        if any(cell.strip() for cell in cells):
            header = [cell.strip().lower().lstrip("\ufeff") for cell in cells]
            break
    if header is None:
        raise PlanFileError(f"{source}: the file is empty; it needs a header line: {','.join(CSV_COLUMNS)}")
    for name in header:
        if name not in CSV_COLUMNS:
            problems.add(_unknown(name, CSV_COLUMNS).replace("key", "column").replace("keys", "columns"),
                         line=reader.line_num)
    for name in ("prefix", "rate_per_minute"):
        if name not in header:
            problems.add(f"the header has no {name} column", line=reader.line_num)
    if len(set(header)) != len(header):
        problems.add("a column is named twice in the header", line=reader.line_num)
    problems.raise_if_any()

    width = len(header)
    position = {name: header.index(name) for name in CSV_COLUMNS if name in header}
    band_set = set(bands)
    cache: dict[tuple[str, str], object] = {}
    groups: dict[str, list[tuple[int, RateRow]]] = {}

    def cell(cells: list[str], name: str) -> str:
        index = position.get(name)
        return cells[index].strip() if index is not None else ""

    for cells in reader:
        line = reader.line_num
        if len(cells) != width:
            if not any(c.strip() for c in cells):
                continue
            problems.add(f"{len(cells)} fields where the header has {width}", line=line)
            if problems.full:
                break
            continue
        values: list = []
        try:
            prefix = read_prefix(cell(cells, "prefix"))
            destination = cell(cells, "destination")
            if len(destination) > 100:
                raise _Bad("destination is longer than 100 characters")
            category = cell(cells, "category")
            if category and category not in CATEGORIES:
                raise _Bad(f"category {category!r} is not one of {', '.join(CATEGORIES)}")
            band = cell(cells, "band")
            if band == "*":
                band = ""
            if band and band not in band_set:
                raise _Bad(f"band {band!r} is not a band of this plan; its bands are {', '.join(bands)}"
                           " (leave it empty for every band)")
            for name in VALUE_FIELDS:
                text = cell(cells, name) if name in position else None
                key = (name, text)
                value = cache.get(key, _Bad)
                if value is _Bad:
                    if text is None or (text == "" and name != "rate_per_minute" and name != "maximum_charge"):
                        value = DEFAULTS[name]
                    else:
                        try:
                            value = read_value(name, text)
                        except _Bad as exc:
                            raise _Bad(f"{name}: {exc}") from None
                    cache[key] = value
                values.append(value)
        except _Bad as exc:
            problems.add(str(exc), line=line)
            if problems.full:
                break
            continue
        row = RateRow(prefix, destination, category, band, *values)
        if row.maximum_charge is not None and row.minimum_charge > row.maximum_charge:
            problems.add(f"minimum_charge {row.minimum_charge} is above maximum_charge {row.maximum_charge}",
                         line=line)
            continue
        groups.setdefault(prefix, []).append((line, row))
    problems.raise_if_any()

    rows: list[RateRow] = []
    for prefix, members in groups.items():
        if len(members) == 1:
            line, row = members[0]
            if row.band and len(bands) > 1:
                missing = [b for b in bands if b != row.band]
                problems.add(f"prefix {prefix or '*'} has no rate for band {missing[0]!r}; give a row for every band "
                             f"({', '.join(bands)}) or one row with an empty band for all", line=line)
            else:
                rows.append(row._replace(band=""))
            continue
        first_line, first = members[0]
        seen: dict[str, int] = {}
        blank = [line for line, row in members if not row.band]
        if blank:
            others = ", ".join(str(line) for line, _ in members if line != blank[0])
            what = "again with an empty band" if len(blank) > 1 else "with a band"
            problems.add(f"prefix {prefix or '*'} has a row for every band (empty band) here and rows {what} "
                         f"(line {others}); give either one row for every band or one row per band", line=blank[0])
            if problems.full:
                break
            continue
        for line, row in members:
            if row.band in seen:
                problems.add(f"prefix {prefix or '*'} band {row.band} is also on line {seen[row.band]}", line=line)
                break
            seen[row.band] = line
            if (row.destination, row.category) != (first.destination, first.category):
                problems.add(f"prefix {prefix or '*'} has destination/category {first.destination!r}/"
                             f"{first.category!r} on line {first_line}; give every band of a prefix the same",
                             line=line)
                break
        else:
            missing = [b for b in bands if b not in seen]
            if missing:
                problems.add(f"prefix {prefix or '*'} has no rate for band {missing[0]!r}; give a row for every "
                             f"band ({', '.join(bands)}) or one row with an empty band for all", line=first_line)
            else:
                rows.extend(collapse([row for _, row in members]))
        if problems.full:
            break
    problems.raise_if_any()
    return rows


def render_rates_csv(rows: Iterable[RateRow], bands: list[str], stream: io.TextIOBase | None = None) -> str | None:
    """Write a rate table as a CSV deck (to ``stream``, or return the text)."""
    target = stream if stream is not None else io.StringIO()
    writer = csv.writer(target, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for group in _by_prefix(rows, bands):
        for row in group:
            writer.writerow([
                row.prefix or "*", row.destination, row.category, row.band,
                money_text(row.rate_per_minute), money_text(row.connection_fee), row.first_increment,
                row.next_increment, row.minimum_duration, money_text(row.minimum_charge),
                money_text(row.maximum_charge),
            ])
    return target.getvalue() if stream is None else None
