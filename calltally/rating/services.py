"""Tariffs in and out of the database, and the rater the Miner calls.

``rater_for_site(site)`` loads everything a site's calls can be priced with
(its plan assignments, every version of those plans with their bands and
rates, its holidays) once, into the pure engine of ``engine.py``; after that
``SiteRater.rate`` never touches the database. Loaded versions are kept per
process and reused until the version changes (its ``updated`` stamp).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Q

from calltally import db
from calltally.numbering import NumberingPlan, normalize
from calltally.sites.models import Site
from calltally.vocabulary import INBOUND, INTERNAL, OUTBOUND
from calltally.vocabulary import WEEKDAYS as DAYS

from .engine import Calendar, Plan, Rater, Rating, Version, Window
from .models import Carrier, Holiday, PlanAssignment, Rate, TariffPlan, TariffVersion, TimeBand
from .planfile import PlanFileError, PlanSpec, RateRow, band_names, parse_rates_csv

__all__ = [
    "Rating", "SiteRater", "rater_for_site", "assign_plan", "unassign_plan", "store_plan", "plan_spec",
    "import_rates", "version_rows", "get_plan", "pick_version", "engine_plan", "site_calendar", "PlanFileError",
    "parse_deck", "store_deck", "clean_pattern", "plan_users", "delete_plan", "add_holiday", "site_holidays",
    "Simulation", "simulate",
]

# The rate table's columns in the order of a rate-deck row: declared once, by RateRow (a test
# holds it to the model).
RATE_COLUMNS = RateRow._fields
INSERT_BATCH = 10000

# version id -> (updated stamp, engine Version)
_LOADED: dict[int, tuple[dt.datetime, Version]] = {}


class SiteRater(Rater):
    """Rates one site's calls (see ``engine.Rater.rate``). Build it with :func:`rater_for_site`."""

    def __init__(self, site: Site, **kwargs):
        super().__init__(zone=site.zone, currency=site.currency, **kwargs)
        self.site = site


def rater_for_site(site: Site) -> SiteRater:
    """Everything needed to price ``site``'s calls, loaded once: a handful of queries, none per call."""
    assignments = list(PlanAssignment.objects.filter(site=site).select_related("plan").order_by("-priority", "id"))
    plans = {plan.pk: plan for plan in (a.plan for a in assignments)}
    loaded = {pk: engine_plan(plan) for pk, plan in plans.items()}
    default = next((loaded[a.plan_id] for a in assignments if not a.pattern), None)
    routes = [(a.pattern, loaded[a.plan_id]) for a in assignments if a.pattern]
    return SiteRater(site, calendar=site_calendar(site), default=default, routes=routes)


def engine_plan(plan: TariffPlan) -> Plan:
    versions = TariffVersion.objects.filter(plan=plan).select_related("plan").prefetch_related("bands")
    return Plan(plan.name, [engine_version(v) for v in versions])


def engine_version(version: TariffVersion) -> Version:
    """The version loaded into the engine, from the process cache while it has not changed."""
    cached = _LOADED.get(version.pk)
    if cached is not None and cached[0] == version.updated:
        return cached[1]
    loaded = Version(
        plan=version.plan.name, valid_from=version.valid_from, valid_to=version.valid_to, currency=version.currency,
        rounding_decimals=version.rounding_decimals, markup_percent=version.markup_percent,
        directions=version.directions, default_band=version.default_band, holiday_band=version.holiday_band,
        public_holidays=version.public_holidays, windows=windows_of(version),
        rates=_raw_rates(version), money=_decimal,
    )
    if len(_LOADED) > 64:
        _LOADED.clear()
    _LOADED[version.pk] = (version.updated, loaded)
    return loaded


def _raw_rates(version: TariffVersion) -> Iterable[tuple]:
    """The version's rate rows straight from the cursor: the ORM's Decimal conversion of every
    value would cost more than the rest of the loading (the engine converts each distinct value)."""
    query = Rate.objects.filter(version=version).order_by().values_list(*RATE_COLUMNS)
    sql, params = query.query.sql_with_params()
    with transaction.atomic(), connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(20000):
            yield from rows


def _decimal(value) -> Decimal:
    """An amount as the database returned it (SQLite: a float or int of at most 14 digits) as a Decimal."""
    if isinstance(value, Decimal):
        return value
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def windows_of(version: TariffVersion) -> list[Window]:
    return [
        Window(band.name, tuple(DAYS.index(day) for day in band.days.split(",")), band.start_minute, band.end_minute)
        for band in sorted(version.bands.all(), key=lambda b: b.position)
    ]


def site_calendar(site: Site) -> Calendar:
    """The site's holidays: its country's public ones and those added for every site, its country or it."""
    extra = Holiday.objects.filter(
        Q(site=site) | Q(site__isnull=True, country="") | Q(site__isnull=True, country=site.country)
    ).values_list("date", "name")
    return Calendar(site.country, dict(extra))


# --- plans and versions ------------------------------------------------------------------------------


def get_plan(name: str) -> TariffPlan:
    try:
        return TariffPlan.objects.select_related("carrier").get(name=name)
    except TariffPlan.DoesNotExist:
        known = ", ".join(TariffPlan.objects.values_list("name", flat=True))
        raise ValueError(
            f"no tariff plan named {name!r} ("
            + (f"plans: {known}" if known else "no plans yet — load one with `calltally tariff load FILE.toml`")
            + ")"
        ) from None


def pick_version(plan: TariffPlan, valid_from: dt.date | None = None) -> TariffVersion:
    """The version starting on ``valid_from``, or the latest one."""
    versions = list(plan.versions.select_related("plan").order_by("valid_from"))
    if not versions:
        raise ValueError(f"plan {plan.name!r} has no version; load one with `calltally tariff load FILE.toml`")
    if valid_from is None:
        return versions[-1]
    for version in versions:
        if version.valid_from == valid_from:
            return version
    starts = ", ".join(v.valid_from.isoformat() for v in versions)
    raise ValueError(f"plan {plan.name!r} has no version starting on {valid_from} (its versions start on {starts})")


@transaction.atomic
def store_plan(spec: PlanSpec, source: str = "") -> tuple[TariffVersion, bool]:
    """Create the plan version a file describes, or replace the one starting on the same day.

    Returns (version, created). Everything happens in one transaction.
    """
    carrier, _ = Carrier.objects.get_or_create(name=spec.carrier)
    plan, _ = TariffPlan.objects.get_or_create(name=spec.name, defaults={"carrier": carrier})
    if plan.carrier_id != carrier.pk:
        plan.carrier = carrier
        plan.save(update_fields=["carrier"])
    version, created = TariffVersion.objects.update_or_create(
        plan=plan, valid_from=spec.valid_from,
        defaults={
            "valid_to": spec.valid_to, "currency": spec.currency, "rounding_decimals": spec.rounding_decimals,
            "markup_percent": spec.markup_percent, "directions": list(spec.directions),
            "default_band": spec.default_band, "holiday_band": spec.holiday_band,
            "public_holidays": spec.public_holidays, "source": source[:255],
        },
    )
    version.bands.all().delete()
    TimeBand.objects.bulk_create([
        TimeBand(version=version, position=i, name=w.name, days=",".join(DAYS[d] for d in w.days),
                 start_minute=w.start, end_minute=w.end)
        for i, w in enumerate(spec.windows)
    ])
    replace_rates(version, spec.rates)
    return version, created


def replace_rates(version: TariffVersion, rows: Iterable[RateRow]) -> int:
    """Put ``rows`` in place of the version's rates: one DELETE, then multi-row inserts in batches.

    Call it inside a transaction. The version's ``updated`` stamp changes, so raters reload it.
    """
    Rate.objects.filter(version=version).delete()
    columns = ("version_id", *RATE_COLUMNS)
    sql = db.insert_sql(Rate, columns)
    count = 0
    batch: list[tuple] = []
    pk = version.pk
    with connection.cursor() as cursor:
        for row in rows:
            batch.append((pk, *row))
            if len(batch) >= INSERT_BATCH:
                db.insert_rows(cursor, Rate, columns, batch, sql)
                count += len(batch)
                batch = []
        if batch:
            db.insert_rows(cursor, Rate, columns, batch, sql)
            count += len(batch)
    version.save(update_fields=["updated"])
    return count


def version_rows(version: TariffVersion) -> list[RateRow]:
    return [RateRow(*row) for row in Rate.objects.filter(version=version).order_by().values_list(*RATE_COLUMNS)]


def plan_spec(version: TariffVersion) -> PlanSpec:
    """A stored version as a :class:`PlanSpec`, for writing it back to a file."""
    return PlanSpec(
        name=version.plan.name, carrier=version.plan.carrier.name, currency=version.currency,
        valid_from=version.valid_from, valid_to=version.valid_to, rounding_decimals=version.rounding_decimals,
        markup_percent=version.markup_percent, directions=tuple(version.directions),
        public_holidays=version.public_holidays, default_band=version.default_band,
        holiday_band=version.holiday_band, windows=windows_of(version), rates=version_rows(version),
    )


def version_band_names(version: TariffVersion) -> list[str]:
    return band_names(windows_of(version), version.default_band, version.holiday_band)


def import_rates(plan_name: str, stream: Iterable[str], valid_from: dt.date | None = None,
                 source: str = "rate deck") -> tuple[TariffVersion, int, bool]:
    """Replace a version's rate table with a CSV deck. Returns (version, rates stored, version created).

    Without ``valid_from`` the latest version's rates are replaced. With it, the version starting that
    day is replaced, or created with the settings and bands of the version in force the day before
    (so a carrier's new deck becomes a new dated version). A deck with any problem changes nothing.
    """
    return store_deck(plan_name, parse_deck(plan_name, stream, valid_from, source), valid_from, source)


def _deck_versions(plan_name: str, valid_from: dt.date | None):
    """(plan, the version a deck replaces or None for a new one, the version whose bands it uses)."""
    plan = get_plan(plan_name)
    versions = list(plan.versions.select_related("plan").order_by("valid_from"))
    if not versions:
        raise ValueError(f"plan {plan.name!r} has no version yet; load its TOML file first "
                         "(`calltally tariff load FILE.toml`): it gives the currency and the bands")
    if valid_from is None:
        return plan, versions[-1], versions[-1]
    target = next((v for v in versions if v.valid_from == valid_from), None)
    earlier = [v for v in versions if v.valid_from < valid_from]
    return plan, target, target or (earlier[-1] if earlier else versions[0])


def parse_deck(plan_name: str, stream: Iterable[str], valid_from: dt.date | None = None,
               source: str = "rate deck") -> list[RateRow]:
    """A deck's rows, checked against the bands of the version it is for; stores nothing
    (:class:`PlanFileError` with every problem and its line, ValueError for an unknown plan)."""
    _, _, base = _deck_versions(plan_name, valid_from)
    return parse_rates_csv(stream, version_band_names(base), source)


def store_deck(plan_name: str, rows: list[RateRow], valid_from: dt.date | None = None,
               source: str = "rate deck") -> tuple[TariffVersion, int, bool]:
    """Store rows :func:`parse_deck` returned (see :func:`import_rates`), in one transaction."""
    plan, target, base = _deck_versions(plan_name, valid_from)
    with transaction.atomic():
        created = target is None
        if created:
            target = TariffVersion.objects.create(
                plan=plan, valid_from=valid_from, valid_to=None, currency=base.currency,
                rounding_decimals=base.rounding_decimals, markup_percent=base.markup_percent,
                directions=base.directions, default_band=base.default_band, holiday_band=base.holiday_band,
                public_holidays=base.public_holidays, source=source[:255],
            )
            TimeBand.objects.bulk_create([
                TimeBand(version=target, position=b.position, name=b.name, days=b.days,
                         start_minute=b.start_minute, end_minute=b.end_minute)
                for b in base.bands.all()
            ])
        else:
            target.source = source[:255]
            target.save(update_fields=["source"])
        count = replace_rates(target, rows)
    return target, count, created


# --- assignments -----------------------------------------------------------------------------------------


def assign_plan(site: Site, plan_name: str, pattern: str = "", priority: int = 0) -> PlanAssignment:
    """Make ``plan_name`` the site's default plan (``pattern`` "") or the plan of the calls whose
    trunk/device matches ``pattern`` (a regular expression searched in dest_device for outbound
    calls, orig_device for the others). Raises ValueError with a helpful message."""
    plan = get_plan(plan_name)
    pattern = clean_pattern(pattern)
    assignment, _ = PlanAssignment.objects.update_or_create(
        site=site, pattern=pattern, defaults={"plan": plan, "priority": priority}
    )
    return assignment


def unassign_plan(site: Site, pattern: str = "") -> bool:
    """Remove the site's default plan (``pattern`` "") or one route plan; False if there was none."""
    return PlanAssignment.objects.filter(site=site, pattern=pattern or "").delete()[0] > 0


def clean_pattern(pattern: str) -> str:
    """A route pattern as ``assign_plan`` stores it ("" for the default plan); ValueError if unusable."""
    pattern = pattern or ""
    if pattern:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"pattern {pattern!r} is not a valid regular expression: {exc}") from None
        if len(pattern) > 200:
            raise ValueError("the pattern is longer than 200 characters")
    return pattern


def plan_users(plan: TariffPlan) -> list[str]:
    """The codes of the sites a plan is assigned to (default or route plan), sorted."""
    return sorted(set(PlanAssignment.objects.filter(plan=plan).values_list("site__code", flat=True)))


def delete_plan(plan: TariffPlan) -> None:
    """Delete a plan with all its versions; refused (ValueError naming the sites) while a site uses it."""
    users = plan_users(plan)
    if users:
        raise ValueError(f"plan {plan.name} is assigned to site{'s' if len(users) > 1 else ''} "
                         f"{', '.join(users)}; unassign it first (`calltally tariff unassign`)")
    plan.delete()


# --- holidays ----------------------------------------------------------------------------------------------


def add_holiday(day: dt.date, name: str = "", country: str = "", site: Site | None = None) -> Holiday:
    """Add a day priced in the holiday band: for ``site``, the sites of ``country``, or every site."""
    country = clean_country(country)
    if site is not None and country:
        raise ValueError("a holiday is for one site or for the sites of one country, not both")
    return Holiday.objects.create(date=day, name=(name or "").strip()[:100], country=country, site=site)


def clean_country(country: str) -> str:
    """A holiday's country as stored: "" (every country) or a two-letter ISO 3166 code."""
    country = (country or "").strip().upper()
    if country and (len(country) != 2 or not country.isalpha()):
        raise ValueError(f"country {country!r} must be a two-letter ISO 3166 code such as IT")
    return country


def holiday_scope(site: Site | None, country: str = "") -> str:
    return f"site {site.code}" if site else (f"the sites in {country.upper()}" if country else "every site")


def site_holidays(site: Site, year: int) -> list[dict]:
    """The holidays of ``site`` in ``year``: its country's public ones and those added, in date order."""
    calendar = site_calendar(site)
    days = []
    day = dt.date(year, 1, 1)
    while day.year == year:
        ordinal = day.toordinal()
        name = calendar.holiday(ordinal)
        if name:
            days.append({"date": day, "name": name, "source": "added" if ordinal in calendar.extra else "public"})
        day += dt.timedelta(days=1)
    return days


# --- the cost simulator --------------------------------------------------------------------------------


@dataclass
class Simulation:
    """One call priced the way the Miner would, with every step (what `calltally rate` shows)."""

    site: Site
    number: str
    e164: str
    category: str
    destination: str
    direction: str
    start: dt.datetime  # in the site's zone
    talk_seconds: int
    answered: bool
    device: str
    rating: Rating

    def as_dict(self) -> dict:
        rating = self.rating
        return {
            "site": self.site.code, "number": self.number, "e164": self.e164, "category": self.category,
            "destination": self.destination, "direction": self.direction,
            "start": self.start.isoformat(), "talk_seconds": self.talk_seconds, "answered": self.answered,
            "device": self.device, "tariff": rating.tariff, "prefix": rating.prefix, "band": rating.band,
            "billed_seconds": rating.billed_seconds, "cost": str(rating.cost), "currency": rating.currency,
            "unrated": rating.unrated, "steps": rating.steps,
        }

    def summary(self) -> list[tuple[str, str]]:
        """(label, text) lines: the number, the call, the plan, the prefix, the band, the billed
        seconds and the cost."""
        rating = self.rating
        numbering = f"{self.e164 or 'no E.164 form'} ({self.category}"
        numbering += f", {self.destination})" if self.destination else ")"
        return [
            ("number", f"{self.number} → {numbering}"),
            ("call", f"{self.direction}, {self.start:%a %Y-%m-%d %H:%M:%S} {self.site.zone}, talk {self.talk_seconds} s"
                     + ("" if self.answered else ", not answered")),
            ("plan", rating.tariff or "none"),
            ("prefix", f"{rating.prefix or '*'} → {rating.destination or '-'}" if rating.tariff and not rating.unrated
             else ("none matches" if rating.tariff else "-")),
            ("band", rating.band or "-"),
            ("billed", f"{rating.billed_seconds} s"),
            ("cost", f"{rating.cost} {rating.currency}" + ("  (UNRATED: no rate for this call)" if rating.unrated
                                                          else "")),
        ]


def simulate(site: Site, number: str, start: dt.datetime, talk_seconds: int = 60, direction: str | None = None,
             device: str = "", answered: bool = True) -> Simulation:
    """Price one call of ``site`` as the Miner would, explaining each step (``start``: aware; a
    naive one is a local time of the site). ``direction`` None: internal for an extension,
    otherwise outbound. ValueError for a negative talk time."""
    if talk_seconds < 0:
        raise ValueError("the talk time cannot be negative")
    if start.tzinfo is None:
        start = start.replace(tzinfo=site.zone)
    plan = NumberingPlan(country=site.country, area_code=site.area_code,
                         access_codes=tuple(site.access_codes or ()), internal=site.extension_matcher())
    normalized = normalize(number, plan, outbound=direction != INBOUND)
    if direction is None:
        direction = INTERNAL if normalized.category == "internal" else OUTBOUND
    rating = rater_for_site(site).rate(
        e164=normalized.e164, direction=direction, start=start.astimezone(dt.UTC), talk_seconds=talk_seconds,
        answered=answered, device=device, category=normalized.category, explain=True,
    )
    return Simulation(
        site=site, number=number, e164=normalized.e164, category=rating.category or normalized.category,
        destination=rating.destination or normalized.destination, direction=direction, start=start,
        talk_seconds=talk_seconds, answered=answered, device=device, rating=rating,
    )
