"""The rating engine: plain Python, no Django.

Everything that decides what a call costs lives here, once: the cost formula
(:func:`price`), the band in force at a local time (:class:`Version` day
schedules and :class:`Calendar` holidays), the longest-prefix match, the
choice of plan and version (:class:`Rater`). The Miner (through
``services.SiteRater``), ``calltally tariff compare`` and the ``calltally rate``
simulator all call this code, so they cannot disagree.

It is built for throughput: a version's rates are loaded once, each distinct
set of per-band values becomes one :class:`Terms` whose (talk seconds →
billed, cost) results are cached, prefix matches are cached per number, and a
plan's band schedule is worked out once per local day.
"""

from __future__ import annotations

import datetime as dt
import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Context, Decimal

from calltally.vocabulary import FREE_CATEGORIES, OUTBOUND
from calltally.vocabulary import WEEKDAYS as DAYS

# Exact enough for every intermediate value: the formula's only division is by
# 60, and 60 significant digits keep its result far from any rounding boundary.
CTX = Context(prec=60, rounding=ROUND_HALF_UP)
ZERO = Decimal(0)
SIXTY = Decimal(60)
HUNDRED = Decimal(100)
ONE = Decimal(1)
QUANTA = {places: Decimal(1).scaleb(-places) for places in range(0, 9)}
# Past this many numbers the prefix-match cache of a version is emptied (a Miner runs for months).
MATCH_CACHE_LIMIT = 1_000_000
TERMS_CACHE_LIMIT = 10_000
_MISS = object()


@dataclass(slots=True)
class Rating:
    """How one call is priced; what the Miner stores in the call's pricing columns."""

    cost: Decimal
    currency: str
    tariff: str  # "Carrier 2026 (2026-01-01)", or "" when no plan applies
    prefix: str
    band: str
    billed_seconds: int
    destination: str  # the rate's destination, or ""
    category: str  # the rate's category override, or "" (keep the numbering's)
    unrated: bool
    steps: list[str] | None = None  # filled only when explain=True


# --- the cost formula ---------------------------------------------------------------------------


class Terms:
    """The values of a rate in one band. A version holds one Terms per distinct
    set of values, and each Terms caches talk seconds → (billed seconds, cost)."""

    __slots__ = (
        "rate_per_minute", "connection_fee", "first_increment", "next_increment", "minimum_duration",
        "minimum_charge", "maximum_charge", "cache", "scaled",
    )

    def __init__(self, rate_per_minute: Decimal, connection_fee: Decimal = ZERO, first_increment: int = 1,
                 next_increment: int = 1, minimum_duration: int = 0, minimum_charge: Decimal = ZERO,
                 maximum_charge: Decimal | None = None):
        if next_increment < 1:
            raise ValueError("next_increment must be at least 1 second")
        if first_increment < 0 or minimum_duration < 0:
            raise ValueError("first_increment and minimum_duration cannot be negative")
        self.rate_per_minute = rate_per_minute
        self.connection_fee = connection_fee
        self.first_increment = first_increment
        self.next_increment = next_increment
        self.minimum_duration = minimum_duration
        self.minimum_charge = minimum_charge
        self.maximum_charge = maximum_charge
        for amount in (rate_per_minute, connection_fee, minimum_charge, maximum_charge):
            if amount is not None and (not amount.is_finite() or amount < 0):
                raise ValueError(f"amounts cannot be negative: {amount}")
        # talk seconds -> (billed seconds, cost); and -billed seconds -> cost (see Version.cost)
        self.cache: dict[int, tuple[int, Decimal] | Decimal] = {}
        self.scaled: tuple | None = None

    def scale(self) -> tuple:
        """(places, rate, fee, minimum charge, maximum charge or None), the amounts as whole units
        of 10^-places, the most decimal places any of them has."""
        amounts = (self.rate_per_minute, self.connection_fee, self.minimum_charge, self.maximum_charge)
        places = max(_places(a) for a in amounts if a is not None)
        whole = [None if a is None else int(a.scaleb(places, context=CTX)) for a in amounts]
        self.scaled = (places, *whole)
        return self.scaled

    def key(self) -> tuple:
        return (self.rate_per_minute, self.connection_fee, self.first_increment, self.next_increment,
                self.minimum_duration, self.minimum_charge, self.maximum_charge)

    def __repr__(self) -> str:
        return "Terms({})".format(", ".join(str(v) for v in self.key()))


def billed_seconds(talk: int, first_increment: int, next_increment: int, minimum_duration: int = 0) -> int:
    """billed = max(talk, minimum_duration), rounded up to the increments (talk > 0)."""
    billed = talk if talk > minimum_duration else minimum_duration
    if billed <= first_increment:
        return first_increment
    # first + ceil((billed - first) / next) * next, in integers
    return first_increment - ((first_increment - billed) // next_increment) * next_increment


def price(terms: Terms, talk: int, answered: bool, markup_percent: Decimal = ZERO, decimals: int = 4,
          steps: list[str] | None = None) -> tuple[int, Decimal]:
    """(billed seconds, cost) of a call under ``terms``, exactly as docs/rating.md states the formula.

    The arithmetic is done in integers, exactly: amounts are scaled to whole units of their
    smallest decimal place, so "cost = connection_fee + rate_per_minute × billed / 60" becomes
    the integer n = 60·fee + rate·billed (in 1/60 of those units), and the one division, with its
    half-up rounding, happens last. With ``steps`` (a list), each step is appended to it as text.
    """
    if not answered or talk <= 0:
        if steps is not None:
            steps.append("not answered: cost 0" if not answered else "no talk time: cost 0")
        return 0, ZERO.quantize(QUANTA[decimals])
    first, step, minimum = terms.first_increment, terms.next_increment, terms.minimum_duration
    billed = billed_seconds(talk, first, step, minimum)
    places, rate, fee, least, most = terms.scaled or terms.scale()
    n = 60 * fee + rate * billed
    clamp = ""
    if n < 60 * least:
        n = 60 * least
        clamp = "min"
    if most is not None and n > 60 * most:
        n = 60 * most
        clamp += "max"
    factor, base = _markup(markup_percent)
    divisor = 60 * 10 ** places * base
    units = (2 * n * factor * 10 ** decimals + divisor) // (2 * divisor)  # half-up: floor(x + 1/2), x ≥ 0
    cost = Decimal(units).scaleb(-decimals)
    if steps is not None:
        _explain(steps, terms, talk, billed, markup_percent, decimals, clamp, n, factor, divisor, cost)
    return billed, cost


_MARKUPS: dict[Decimal, tuple[int, int]] = {}


def _markup(percent: Decimal) -> tuple[int, int]:
    """1 + percent/100 as an exact fraction (numerator, denominator) of integers."""
    found = _MARKUPS.get(percent)
    if found is None:
        places = _places(percent)
        base = 100 * 10 ** places
        found = _MARKUPS[percent] = (base + int(percent.scaleb(places, context=CTX)), base)
    return found


def _places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _explain(steps: list[str], terms: Terms, talk: int, billed: int, markup_percent: Decimal, decimals: int,
             clamp: str, n: int, factor: int, divisor: int, cost: Decimal) -> None:
    first, step, minimum = terms.first_increment, terms.next_increment, terms.minimum_duration
    floor = max(talk, minimum)
    line = f"billed = max(talk {talk} s, minimum_duration {minimum} s) = {floor} s"
    if floor <= first:
        line += f" ≤ first_increment {first} s → billed {billed} s"
    else:
        line += (f" > first_increment {first} s → {first} + ceil(({floor} − {first}) / {step}) × {step}"
                 f" = {first} + {(billed - first) // step} × {step} = {billed} s")
    steps.append(line)
    fee, rate = terms.connection_fee, terms.rate_per_minute
    raw = CTX.add(fee, CTX.divide(CTX.multiply(rate, billed), SIXTY))
    steps.append(f"cost = connection_fee {show(fee)} + rate_per_minute {show(rate)} × {billed} / 60 = {show(raw)}")
    least, most = terms.minimum_charge, terms.maximum_charge
    if "min" in clamp:
        steps.append(f"below minimum_charge {show(least)} → {show(least)}")
    else:
        steps.append(f"minimum_charge {show(least)}: no change")
    if "max" in clamp:
        steps.append(f"above maximum_charge {show(most)} → {show(most)}")
    else:
        steps.append("no maximum_charge" if most is None else f"maximum_charge {show(most)}: no change")
    if markup_percent:
        marked = CTX.divide(Decimal(n * factor), Decimal(divisor))
        multiplier = CTX.add(ONE, CTX.divide(markup_percent, HUNDRED))
        steps.append(f"markup {show_plain(markup_percent)}% → × {show_plain(multiplier)}"
                     f" = {show(marked)}")
    else:
        steps.append("markup 0%: no change")
    steps.append(f"rounded half-up to {decimals} decimals → {cost}")


def show(value: Decimal) -> str:
    """A money amount for people: at least 4 decimals, trailing zeros past them dropped,
    8 decimals at most (``…`` marks a value that goes on)."""
    if value == 0:
        return "0"
    exponent = value.normalize(CTX).as_tuple().exponent
    if exponent >= -4:
        return f"{value.quantize(QUANTA[4], context=CTX):f}"
    if exponent >= -8:
        return f"{value.normalize(CTX):f}"
    return f"{value.quantize(QUANTA[8], context=CTX):f}…"


def show_plain(value: Decimal) -> str:
    """A percentage or factor without needless zeros: 2.50 → 2.5, 10.00 → 10."""
    return f"{value.normalize(CTX):f}"


# --- time bands and holidays -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Window:
    """Band ``name`` on ``days`` (0 = Monday) from minute ``start`` (included) to ``end`` (excluded)."""

    name: str
    days: tuple[int, ...]
    start: int
    end: int

    def describe(self) -> str:
        return f"{','.join(DAYS[d] for d in self.days)} {hhmm(self.start)}–{hhmm(self.end)}"


def hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def overlapping(windows: Iterable[Window]) -> tuple[Window, Window] | None:
    """Two windows that cover the same minute of the same day, if any."""
    windows = list(windows)
    for i, one in enumerate(windows):
        for other in windows[i + 1:]:
            if set(one.days) & set(other.days) and one.start < other.end and other.start < one.end:
                return one, other
    return None


def day_schedule(windows: Iterable[Window], weekday: int, default_band: str) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """(start minutes, band names) of one weekday; gaps are in the default band."""
    starts: list[int] = []
    names: list[str] = []

    def add(start: int, name: str) -> None:
        if names and names[-1] == name:
            return
        starts.append(start)
        names.append(name)

    at = 0
    for window in sorted((w for w in windows if weekday in w.days), key=lambda w: w.start):
        if window.start > at:
            add(at, default_band)
        add(window.start, window.name)
        at = window.end
    if at < 1440:
        add(at, default_band)
    return tuple(starts), tuple(names)


_PUBLIC: dict[tuple[str, int], dict[int, str]] = {}


def public_holidays(country: str, year: int) -> dict[int, str]:
    """The public holidays (observed days included) of a country in a year, by date ordinal."""
    key = (country, year)
    found = _PUBLIC.get(key)
    if found is None:
        import holidays

        try:
            days = holidays.country_holidays(country, years=year)
        except NotImplementedError:  # a country the holidays package does not know
            days = {}
        found = _PUBLIC[key] = {day.toordinal(): name for day, name in days.items()}
    return found


class Calendar:
    """The holidays of one site: its country's public holidays and the days an administrator added."""

    def __init__(self, country: str = "", extra: dict[dt.date, str] | None = None):
        self.country = country.upper()
        self.extra = {day.toordinal(): name for day, name in (extra or {}).items()}

    def holiday(self, ordinal: int, public: bool = True) -> str:
        """The holiday's name, or "" for an ordinary day."""
        name = self.extra.get(ordinal)
        if name is not None:
            return name or "holiday"
        if public and self.country:
            return public_holidays(self.country, dt.date.fromordinal(ordinal).year).get(ordinal, "")
        return ""


# --- versions and plans ---------------------------------------------------------------------------

# A rate table entry: (prefix, destination, category, Terms or {band: Terms}).
Entry = tuple[str, str, str, object]


class Version:
    """One version of a plan, independent of any site: its bands, rates and settings."""

    def __init__(self, *, plan: str, valid_from: dt.date, valid_to: dt.date | None = None, currency: str,
                 rounding_decimals: int = 4, markup_percent: Decimal = ZERO, directions: Iterable[str] = (OUTBOUND,),
                 default_band: str, holiday_band: str = "", public_holidays: bool = True,
                 windows: Iterable[Window] = (), rates: Iterable[tuple] = (), money=None):
        self.plan = plan
        self.valid_from = valid_from
        self.valid_to = valid_to
        self.first_day = valid_from.toordinal()
        self.last_day = valid_to.toordinal() if valid_to else None
        self.label = f"{plan} ({valid_from.isoformat()})"
        self.currency = currency
        self.decimals = rounding_decimals
        self.markup_percent = Decimal(markup_percent)
        self.zero = ZERO.quantize(QUANTA[rounding_decimals])
        self.directions = frozenset(directions)
        self.default_band = default_band
        self.holiday_band = holiday_band
        self.public_holidays = public_holidays
        self.windows = tuple(windows)
        self.schedules = tuple(day_schedule(self.windows, day, default_band) for day in range(7))
        self.holiday_schedule = ((0,), (holiday_band,))
        self.table: dict[str, Entry] = {}
        self.lengths: tuple[int, ...] = ()
        self.matches: dict[str, Entry | None] = {}
        self.terms_count = 0
        self.add_rates(rates, money)

    def add_rates(self, rows: Iterable[tuple], money=None) -> None:
        """Rows (prefix, destination, category, band, rate_per_minute, connection_fee, first_increment,
        next_increment, minimum_duration, minimum_charge, maximum_charge); band "" is every band.

        ``money``, if given, turns the amounts of each distinct set of values into Decimals (a
        database may return floats); it is called once per distinct set, not per row.
        """
        distinct: dict[tuple, Terms] = {}
        table = self.table
        for prefix, destination, category, band, *values in rows:
            key = tuple(values)
            terms = distinct.get(key)
            if terms is None:
                if money is not None:
                    rate, fee, first, step, minimum, least, most = values
                    values = [money(rate), money(fee), first, step, minimum, money(least),
                              None if most is None else money(most)]
                terms = distinct[key] = Terms(*values)
            if band:
                entry = table.get(prefix)
                bands = entry[3] if entry is not None and type(entry[3]) is dict else {}
                bands[band] = terms
                table[prefix] = (prefix, destination, category, bands)
            else:
                table[prefix] = (prefix, destination, category, terms)
        self.terms_count += len(distinct)
        self.lengths = tuple(sorted({len(p) for p in table}, reverse=True))
        self.matches.clear()

    def match(self, number: str) -> Entry | None:
        """The entry of the longest prefix of ``number`` (E.164 digits, no +), cached per number."""
        found = self.matches.get(number, _MISS)
        if found is _MISS:
            found = None
            table, size = self.table, len(number)
            for length in self.lengths:
                if length <= size:
                    found = table.get(number[:length])
                    if found is not None:
                        break
            if len(self.matches) >= MATCH_CACHE_LIMIT:
                self.matches.clear()
            self.matches[number] = found
        return found

    def cost(self, terms: Terms, talk: int) -> tuple[int, Decimal]:
        """(billed, cost) of an answered call of ``talk`` > 0 seconds.

        Cached per Terms twice over: by talk seconds (the hit the Miner's repeat calls get) and
        by billed seconds (calls of different lengths that bill the same are priced once).
        """
        found = terms.cache.get(talk)
        if found is None:
            billed = billed_seconds(talk, terms.first_increment, terms.next_increment, terms.minimum_duration)
            cost = terms.cache.get(-billed)
            if cost is None:
                cost = price(terms, billed, True, self.markup_percent, self.decimals)[1]
                if len(terms.cache) > TERMS_CACHE_LIMIT:
                    terms.cache.clear()
                terms.cache[-billed] = cost
            found = terms.cache[talk] = (billed, cost)
        return found

    def __repr__(self) -> str:
        return f"<Version {self.label}: {len(self.table)} prefixes>"


class Plan:
    """A plan's versions, oldest first."""

    def __init__(self, name: str, versions: Iterable[Version]):
        self.name = name
        self.versions = sorted(versions, key=lambda v: v.first_day)

    def version_on(self, ordinal: int) -> Version | None:
        """The version in force on a local day: the latest that started by then, unless it ended."""
        chosen = None
        for version in self.versions:
            if version.first_day > ordinal:
                break
            chosen = version
        if chosen is not None and chosen.last_day is not None and ordinal > chosen.last_day:
            return None
        return chosen


class PlanDays:
    """A plan at one site: (version, band starts, band names, holiday name) per local day, cached."""

    __slots__ = ("plan", "calendar", "days")

    def __init__(self, plan: Plan, calendar: Calendar):
        self.plan = plan
        self.calendar = calendar
        self.days: dict[int, tuple | None] = {}

    def day(self, ordinal: int) -> tuple | None:
        found = self.days.get(ordinal, _MISS)
        if found is _MISS:
            version = self.plan.version_on(ordinal)
            if version is None:
                found = None
            else:
                holiday = self.calendar.holiday(ordinal, version.public_holidays) if version.holiday_band else ""
                starts, names = version.holiday_schedule if holiday else version.schedules[(ordinal - 1) % 7]
                found = (version, starts, names, holiday)
            if len(self.days) > 20000:
                self.days.clear()
            self.days[ordinal] = found
        return found


# --- choosing the plan and rating a call ----------------------------------------------------------


class Rater:
    """Rates the calls of one site: its default plan and route plans, its time zone and holidays.

    ``routes`` are (pattern, plan) pairs in the order they are tried (highest
    priority first); a pattern is a regular expression searched in the call's
    device. A call is priced by the first plan whose pattern matches (the default
    plan last) that has a version on the call's local day rating its direction.
    """

    def __init__(self, *, zone: dt.tzinfo, currency: str, calendar: Calendar | None = None,
                 default: Plan | None = None, routes: Iterable[tuple[str, Plan]] = ()):
        self.zone = zone
        self.currency = currency
        self.calendar = calendar or Calendar()
        self.zero = ZERO.quantize(QUANTA[4])
        shared: dict[int, PlanDays] = {}

        def days_of(plan: Plan) -> PlanDays:
            if id(plan) not in shared:
                shared[id(plan)] = PlanDays(plan, self.calendar)
            return shared[id(plan)]

        self.default = days_of(default) if default is not None else None
        self.routes = [(re.compile(pattern).search, pattern, days_of(plan)) for pattern, plan in routes]
        self.by_device: dict[str, tuple] = {}
        # What a call costs where no plan prices anything: nothing, and an outbound call is unrated.
        self.unpriced = tuple(Rating(self.zero, currency, "", "", "", 0, "", "", unrated, None)
                              for unrated in (False, True))

    @property
    def plans(self) -> list[Plan]:
        found = [days.plan for _, _, days in self.routes]
        if self.default is not None:
            found.append(self.default.plan)
        return found

    def candidates(self, device: str) -> tuple:
        """(PlanDays, why) to try for a device, in order; cached per device."""
        found = self.by_device.get(device)
        if found is None:
            chosen = [(days, f"route /{pattern}/ matches device {device!r}")
                      for search, pattern, days in self.routes if device and search(device)]
            if self.default is not None:
                chosen.append((self.default, "the site's default plan"))
            found = tuple(chosen)
            if len(self.by_device) > 10000:
                self.by_device.clear()
            self.by_device[device] = found
        return found

    def resolve(self, device: str, direction: str, ordinal: int, minute: int, number: str,
                steps: list[str] | None = None) -> tuple:
        """(version, band, entry): the version that prices the call (None: no plan does), the band
        in force at ``minute`` of local day ``ordinal``, the rate entry (None: no prefix matches)."""
        for days, why in self.candidates(device):
            day = days.days.get(ordinal, _MISS)
            if day is _MISS:
                day = days.day(ordinal)
            if day is None:
                if steps is not None:
                    steps.append(f"plan {days.plan.name} ({why}) has no version on "
                                 f"{dt.date.fromordinal(ordinal)}: skipped")
                continue
            version, starts, names, holiday = day
            if direction not in version.directions:
                if steps is not None:
                    steps.append(f"plan {version.label} ({why}) does not rate {direction} calls: skipped")
                continue
            band = names[bisect_right(starts, minute) - 1]
            entry = version.match(number)
            if steps is not None:
                steps.append(f"plan {version.label}: {why}; rates {', '.join(sorted(version.directions))} calls")
                steps.append(self._band_reason(version, band, ordinal, minute, holiday))
                if entry is None:
                    steps.append(f"no prefix of {number or 'the empty number'!r} is in the rate table: "
                                 "cost 0, flagged unrated")
                else:
                    steps.append(f"prefix {entry[0] or '*'} (longest match) → {entry[1] or 'no destination'}"
                                 + (f", category {entry[2]}" if entry[2] else ""))
            return version, band, entry
        return None, "", None

    @staticmethod
    def _band_reason(version: Version, band: str, ordinal: int, minute: int, holiday: str) -> str:
        when = f"{DAYS[(ordinal - 1) % 7]} {dt.date.fromordinal(ordinal)} {hhmm(minute)}"
        if holiday:
            return f"band {band}: {when} is a holiday ({holiday}), priced in the holiday band"
        for window in version.windows:
            if (ordinal - 1) % 7 in window.days and window.start <= minute < window.end:
                return f"band {band}: {when} is in the window {window.describe()}"
        return f"band {band}: {when} is in no window, so in the default band"

    def rate(self, *, e164: str, direction: str, start: dt.datetime, talk_seconds: int, answered: bool,
             device: str = "", category: str = "", explain: bool = False) -> Rating:
        steps: list[str] | None = [] if explain else None
        if steps is None and self.default is None and not self.routes and category not in FREE_CATEGORIES:
            # No plan at all (a site that is not priced): the answer depends on the direction only.
            return self.unpriced[direction == OUTBOUND]
        local = start.astimezone(self.zone)
        if steps is not None:
            steps.append(f"{direction} call at {local:%Y-%m-%d %H:%M:%S} {self.zone} "
                         f"({start.astimezone(dt.UTC):%H:%M:%S} UTC), talk {talk_seconds} s, "
                         f"{'answered' if answered else 'not answered'}" + (f", device {device!r}" if device else ""))
        if category in FREE_CATEGORIES:
            # An emergency call is free everywhere; it has no international number for a rate to
            # match, and calling it "unrated" would send the administrator looking for a tariff.
            if steps is not None:
                steps.append(f"{category} numbers are free: cost 0")
            return Rating(self.zero, self.currency, "", "", "", 0, "", "", False, steps)
        number = e164[1:] if e164[:1] == "+" else e164
        version, band, entry = self.resolve(device, direction, local.toordinal(), local.hour * 60 + local.minute,
                                            number, steps)
        if version is None:
            unrated = direction == OUTBOUND
            if steps is not None:
                steps.append(f"no plan rates this {direction} call: cost 0"
                             + (", flagged unrated" if unrated else ""))
            return Rating(self.zero, self.currency, "", "", "", 0, "", "", unrated, steps)
        if entry is None:
            return Rating(version.zero, version.currency, version.label, "", band, 0, "", "", True, steps)
        terms = entry[3]
        if type(terms) is dict:
            terms = terms.get(band)
            if terms is None:
                if steps is not None:
                    steps.append(f"prefix {entry[0] or '*'} has no rate in band {band}: cost 0, flagged unrated")
                return Rating(version.zero, version.currency, version.label, entry[0], band, 0, entry[1], entry[2],
                              True, steps)
        if steps is not None:
            billed, cost = price(terms, talk_seconds, answered, version.markup_percent, version.decimals, steps)
            steps.append(f"cost {cost} {version.currency}")
        elif answered and talk_seconds > 0:
            billed, cost = version.cost(terms, talk_seconds)
        else:
            billed, cost = 0, version.zero
        return Rating(cost, version.currency, version.label, entry[0], band, billed, entry[1], entry[2], False, steps)


# --- comparing plans --------------------------------------------------------------------------------


class LocalClock:
    """UTC minute (minutes since 0001-01-01 00:00) → local minute, the zone's offset cached per
    quarter hour (no time zone has moved its clocks at any other instant since 1980)."""

    __slots__ = ("zone", "offsets", "minutes")

    def __init__(self, zone: dt.tzinfo):
        self.zone = zone
        self.offsets: dict[int, int] = {}
        self.minutes: dict[str, tuple[int, int]] = {}  # "YYYY-MM-DD HH:MM" UTC -> (local day, local minute)

    def offset(self, quarter: int) -> int:
        day, minute = divmod(quarter * 15, 1440)
        instant = dt.datetime.fromordinal(day).replace(hour=minute // 60, minute=minute % 60, tzinfo=dt.UTC)
        found = self.offsets[quarter] = int(instant.astimezone(self.zone).utcoffset().total_seconds() // 60)
        return found


@dataclass(slots=True)
class Tally:
    """What one group of calls cost: actually (in units of 10^-places) and under each compared plan."""

    calls: int = 0
    actual_units: int = 0
    costs: list[Decimal] = field(default_factory=list)
    unrated: list[int] = field(default_factory=list)


def compare_rows(rows: Iterable[tuple], sites: dict[int, tuple[dt.tzinfo, list[PlanDays]]], plans: int,
                 places: int = 4, currencies: set[str] | None = None) -> dict[tuple[str, str], Tally]:
    """Price stored calls under other plans, totalled by (category, destination).

    ``rows``: (site id, start, direction, answered, talk seconds, e164, category, destination, stored
    cost, currency). ``start`` is the UTC instant, as a datetime (naive or aware) or as ISO text
    ("2026-03-02 09:15:00…"). The stored cost may be a float (SQLite's) with at most ``places``
    decimals: it is summed exactly, in units. ``sites``: site id → (zone, the compared plans at
    that site). The currencies of the stored costs are added to ``currencies``.

    A plan prices a call exactly as ``Rater.rate`` does for a site whose only plan it is.
    Unanswered calls and calls without talk time cost 0 under every plan, so they are only
    counted; ``unrated`` counts the answered calls a plan has no rate for.
    """
    groups: dict[tuple[str, str], Tally] = {}
    scale = 10 ** places
    current = None
    plan_days: list[PlanDays] = []
    clocks: dict[int, LocalClock] = {}
    clock = offsets = local_minutes = None
    indexes = range(plans)
    seen = currencies if currencies is not None else set()
    for site, start, direction, answered, talk, e164, category, destination, actual, currency in rows:
        key = (category, destination)
        tally = groups.get(key)
        if tally is None:
            tally = groups[key] = Tally(costs=[ZERO] * plans, unrated=[0] * plans)
        tally.calls += 1
        if actual:
            tally.actual_units += round(actual * scale)
        if currency not in seen:
            seen.add(currency)
        if not answered or talk <= 0 or category in FREE_CATEGORIES:
            continue
        if site != current:
            zone, plan_days = sites[site]
            clock = clocks.get(site) or clocks.setdefault(site, LocalClock(zone))
            offsets = clock.offsets
            local_minutes = clock.minutes
            current = site
        if type(start) is str:
            # Text: the local (day, minute) of each distinct UTC minute is worked out once.
            found = local_minutes.get(start[:16])
            if found is None:
                utc = dt.date.fromisoformat(start[:10]).toordinal() * 1440 + int(start[11:13]) * 60 \
                    + int(start[14:16])
                offset = offsets.get(utc // 15)
                if offset is None:
                    offset = clock.offset(utc // 15)
                if len(local_minutes) >= 100_000:  # ten weeks of minutes
                    local_minutes.clear()
                found = local_minutes[start[:16]] = divmod(utc + offset, 1440)
            ordinal, minute = found
        else:
            utc = start.toordinal() * 1440 + start.hour * 60 + start.minute
            offset = offsets.get(utc // 15)
            if offset is None:
                offset = clock.offset(utc // 15)
            ordinal, minute = divmod(utc + offset, 1440)
        number = e164[1:] if e164[:1] == "+" else e164
        costs = tally.costs
        for index in indexes:
            days = plan_days[index]
            day = days.days.get(ordinal, _MISS)
            if day is _MISS:
                day = days.day(ordinal)
            if day is None:  # no version that day
                if direction == OUTBOUND:
                    tally.unrated[index] += 1
                continue
            version = day[0]
            if direction not in version.directions:
                continue
            entry = version.matches.get(number, _MISS)
            if entry is _MISS:
                entry = version.match(number)
            if entry is None:
                tally.unrated[index] += 1
                continue
            terms = entry[3]
            if type(terms) is dict:
                terms = terms.get(day[2][bisect_right(day[1], minute) - 1])
                if terms is None:
                    tally.unrated[index] += 1
                    continue
            found = terms.cache.get(talk)
            if found is None:
                found = version.cost(terms, talk)
            costs[index] += found[1]
    return groups
