"""Reading calls out: the rows of exports, filtered by site and local dates; what discarded calls
and unallocated account codes say is missing from the directory; how a call's account is shown;
the figures of the billing home."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Min, Q, Sum

from calltally.directory.forms import ExtensionForm, PersonForm
from calltally.directory.models import AccountCode, CostCenter, Extension, Person, normalize_account_code
from calltally.sites.models import Site
from calltally.spool import rawview
from calltally.spool.storage import Spool

from . import rollups
from .choices import Direction, DiscardReason
from .models import Call, CallRollup, DiscardedCall, Grain

# The columns of `calls export`, each with the Call field it is read from: declared once.
EXPORT_FIELDS = (
    ("id", "id"), ("site", "site_id"), ("start", "start"), ("direction", "direction"),
    ("disposition", "disposition"), ("extension", "extension_number"), ("person", "person__username"),
    ("cost_center", "cost_center__code"), ("remote_number", "remote_number"), ("dialled_number", "dialled_number"),
    ("talk_seconds", "talk_seconds"), ("ring_seconds", "ring_seconds"), ("answered", "answered"),
    ("account_code", "account_code"), ("account", "account"), ("cost", "cost"), ("currency", "currency"),
    ("pbx_call_id", "pbx_call_id"), ("e164", "e164"), ("category", "category"), ("destination", "destination"),
    ("tariff", "tariff"), ("rated_prefix", "rated_prefix"), ("band", "band"), ("billed_seconds", "billed_seconds"),
    ("unrated", "unrated"),
    ("kind", "kind"),  # "call" (one record) or "merged" (several records of one call)
)
EXPORT_COLUMNS = [name for name, _ in EXPORT_FIELDS]


def local_day_bounds(site: Site, first: dt.date | None, last: dt.date | None) -> Q:
    """Calls of ``site`` from the start of ``first`` to the end of ``last``, in the site's time zone."""
    q = Q(site=site)
    if first:
        q &= Q(start__gte=dt.datetime.combine(first, dt.time(), tzinfo=site.zone))
    if last:
        q &= Q(start__lt=dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=site.zone))
    return q


def calls_between(sites: list[Site], first: dt.date | None, last: dt.date | None):
    where = Q(pk__in=[])
    for site in sites:
        where |= local_day_bounds(site, first, last)
    return Call.objects.filter(where)


def export_rows(sites: list[Site], first: dt.date | None, last: dt.date | None) -> Iterator[dict]:
    """One dict per call, in start order; streamed, so any number of calls fits in memory.

    The site is its code, the start an ISO 8601 instant with the site's offset, the cost
    its decimal text; a call with no person or cost center has "" there. An account code
    marked *replace with description* is left out: its description is the account."""
    zones = {site.pk: (site.code, site.zone) for site in sites}
    rows = (
        calls_between(sites, first, last)
        .order_by("start", "id")
        .values_list(*(field for _, field in EXPORT_FIELDS))
    )
    names = AccountNames()
    for row in rows.iterator(chunk_size=5000):
        call = dict(zip(EXPORT_COLUMNS, row, strict=True))
        # A code shown as its description (a PIN) is never written out, here either.
        replaced = names.replacement(call["site"], call["account_code"])
        if replaced is not None:
            call.update(account_code="", account=replaced)
        code, zone = zones[call["site"]]
        call.update(site=code, start=call["start"].astimezone(zone).isoformat(), person=call["person"] or "",
                    cost_center=call["cost_center"] or "", cost=str(call["cost"]))
        yield call


def discarded(sites: list[Site]):
    return DiscardedCall.objects.filter(site__in=sites).select_related("site", "segment").order_by("id")


@dataclass
class UndefinedExtension:
    """A number calls were discarded for as "Extension not configured"."""

    site_id: int
    site: str
    number: str
    calls: int
    first_seen: dt.datetime | None
    last_seen: dt.datetime | None
    configured: bool = False  # added since: reprocessing will make its calls

    def as_dict(self) -> dict:
        return {"site": self.site, "number": self.number, "calls": self.calls,
                "first_seen": self.first_seen.isoformat() if self.first_seen else None,
                "last_seen": self.last_seen.isoformat() if self.last_seen else None,
                "configured": self.configured}


def undefined_extensions(site: Site | None = None) -> list[UndefinedExtension]:
    """Each unknown extension with its site, call count and first/last call, by site and number.

    One aggregate query over the discarded calls, and one to flag the numbers
    that have become extensions since (their calls wait for reprocessing).
    """
    discarded = DiscardedCall.objects.filter(reason=DiscardReason.EXTENSION_NOT_CONFIGURED).exclude(
        extension_number=""
    )
    if site is not None:
        discarded = discarded.filter(site=site)
    rows = [
        UndefinedExtension(site_id=r["site_id"], site=r["site__code"], number=r["extension_number"],
                           calls=r["calls"], first_seen=r["first"], last_seen=r["last"])
        for r in discarded.values("site_id", "site__code", "extension_number")
        .annotate(calls=Count("id"), first=Min("start"), last=Max("start"))
        .order_by("site__code", "extension_number")
    ]
    if rows:
        numbers = {r.number for r in rows}
        known = set(
            Extension.objects.filter(site_id__in={r.site_id for r in rows}, number__in=numbers).values_list(
                "site_id", "number"
            )
        )
        for row in rows:
            row.configured = (row.site_id, row.number) in known
    return rows


@dataclass
class CreatedExtensions:
    extensions: list[str] = field(default_factory=list)  # "203@HQ"
    people: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # ("203@HQ", reason)
    sites: list[Site] = field(default_factory=list)


def virtual_username(site_code: str, number: str) -> str:
    return f"{site_code.lower()}-{number}"


def create_undefined_extensions(site: Site | None = None, person_from_number: bool = False) -> CreatedExtensions:
    """Create an extension for every undefined one listed (unassigned, or each with a
    virtual person named after it), validated by the directory's forms, in one transaction.

    The caller reprocesses ``result.sites`` so their discarded calls become calls.
    """
    result = CreatedExtensions()
    listed = undefined_extensions(site)
    site_ids = {row.site_id for row in listed}
    result.sites = list(Site.objects.filter(pk__in=site_ids))
    with transaction.atomic():
        for row in listed:
            if row.configured:
                continue
            label = f"{row.number}@{row.site}"
            person = None
            if person_from_number:
                username = virtual_username(row.site, row.number)
                person = Person.objects.filter(username=username).first()
                if person is None:
                    form = PersonForm({"username": username, "last_name": f"Extension {row.number}",
                                       "site": row.site, "virtual": True, "active": True, "masked_digits": 0})
                    if not form.is_valid():
                        result.skipped.append((label, form.error_text()))
                        continue
                    person = form.save()
                    result.people.append(person.username)
            form = ExtensionForm({"site": row.site, "number": row.number, "person": person.username if person else "",
                                  "billing_enabled": True, "aliases": ""})
            if not form.is_valid():
                if person is not None and person.username in result.people:
                    person.delete()
                    result.people.remove(person.username)
                result.skipped.append((label, form.error_text()))
                continue
            form.save()
            result.extensions.append(label)
    return result


def unallocated_accounts(site: Site | None = None) -> list[dict]:
    """The account codes outbound calls carried that match no account, with call counts
    and the first and last call, by site and code."""
    calls = Call.objects.filter(direction=Direction.OUTBOUND, account_unallocated=True)
    if site is not None:
        calls = calls.filter(site=site)
    return list(
        calls.values("site__code", "site__timezone", "account_code")
        .annotate(calls=Count("id"), first=Min("start"), last=Max("start"))
        .order_by("site__code", "account_code")
    )


# What an account whose scope admits no call is told (a user with no person, a manager with no cost
# center, a site administrator with no site).
NO_CALLS = ("Your account sees no calls yet: an administrator must link it to a directory person (a user), "
            "a cost center (a manager) or the sites it runs (a site administrator).")


# --- how a call's account is shown ----------------------------------------------------------------

class AccountNames:
    """A call's account as every page and export shows it: the account code's description where
    the code is configured *replace with description*, never the code as dialled.

    The Miner stores the shown text in ``Call.account`` when it makes the call; this also covers
    what it could not know then: a code switched to *replace with description* since (until the
    calls are recalculated) and inbound calls, which carry a code but are not charged to it.
    The rules are read once, on the first call that carries a code: one query per page or export.
    """

    def __init__(self):
        self._own: dict[tuple[int, str], tuple[bool, str]] | None = None
        self._shared: dict[str, tuple[bool, str]] = {}

    def _load(self) -> None:
        # Every code whose text some account replaces, on any site: a site's own code of the same
        # text wins over a multisite one (as for the Miner), so both are needed to decide.
        replaced = AccountCode.objects.filter(replace_with_description=True).exclude(description="")
        rows = AccountCode.objects.filter(normalized__in=replaced.values("normalized")).values_list(
            "site_id", "normalized", "replace_with_description", "description")
        self._own = {}
        for site_id, normalized, replace, description in rows:
            rule = (replace and bool(description), description)
            if site_id is None:
                self._shared[normalized] = rule
            else:
                self._own[(site_id, normalized)] = rule

    def replacement(self, site_id: int, code: str) -> str | None:
        """The description shown instead of ``code`` on that site, or None when the code may show."""
        if not code:
            return None
        if self._own is None:
            self._load()
        key = normalize_account_code(code)
        rule = self._own.get((site_id, key)) or self._shared.get(key)
        return rule[1] if rule is not None and rule[0] else None

    def shown(self, call) -> str:
        replaced = self.replacement(call.site_id, call.account_code)
        if replaced is not None:
            return replaced
        return call.account or call.account_code


# --- the billing home -----------------------------------------------------------------------------

@dataclass
class SiteFigures:
    """One site's calls and cost today and this month (costs by currency: a site may have changed)."""

    site: Site
    today_calls: int = 0
    month_calls: int = 0
    today_cost: dict[str, Decimal] = field(default_factory=dict)
    month_cost: dict[str, Decimal] = field(default_factory=dict)


@dataclass
class SiteHealth:
    """What an operator glances at for one site: the last raw record and today's discards."""

    site: Site
    last_record: dt.datetime | None
    discarded_today: int
    calls_today: int
    reading_problem: str


def period(starts: dict[int, dt.datetime], field_name: str = "start") -> tuple[Q, dt.datetime | None]:
    """Rows of each site from its own start instant on (``starts``: site id → instant), and the
    earliest of those instants (a plain comparison a query can use first)."""
    condition, earliest = Q(pk__in=[]), None
    for site_id, start in starts.items():
        condition |= Q(site_id=site_id, **{f"{field_name}__gte": start})
        earliest = start if earliest is None else min(earliest, start)
    return condition, earliest


def local_days(starts: dict[int, dt.datetime], zones: dict[int, object]) -> dict[int, dt.date]:
    """Each site's local date of its start instant (a local midnight)."""
    return {site_id: start.astimezone(zones[site_id]).date() for site_id, start in starts.items() if site_id in zones}


def rollup_period(days: dict[int, dt.date], grain: Grain) -> Q:
    """The rollup rows of ``grain`` of each site's own day (or month: its first day). The plain
    ``grain`` and ``day IN`` conditions let the database seek its index before the per-site pairs."""
    condition = Q(pk__in=[])
    for site_id, day in days.items():
        condition |= Q(site_id=site_id, day=day)
    return Q(grain=grain, day__in=sorted(set(days.values()))) & condition


def site_figures(where: Q, sites: list[Site], today_starts: dict[int, dt.datetime],
                 month_starts: dict[int, dt.datetime]) -> list[SiteFigures]:
    """Today's and this month's calls and cost per site, of the calls ``where`` admits (the
    account's scope: it names site_id, cost_center_id and person_id, which the rollups keep),
    each site's day and month beginning at its own midnight. Two queries on the rollups (the
    day and the month rows that keep people), whatever the number of calls."""
    if not month_starts:
        return []
    zones = {site.pk: site.zone for site in sites}
    today_q = rollup_period(local_days(today_starts, zones), Grain.DAY_PEOPLE)
    month_q = rollup_period(local_days(month_starts, zones), Grain.MONTH_PEOPLE)
    figures = {site.pk: SiteFigures(site) for site in sites}
    rows = [row for period in (today_q, month_q) for row in (
        CallRollup.objects.filter(where).filter(period).values("site_id", "grain", "currency")
        .annotate(calls=Sum("calls"), cost=Sum("cost")).order_by())]
    for row in rows:
        item = figures.get(row["site_id"])
        if item is None or not row["calls"]:
            continue
        cost = Decimal(row["cost"] or 0).quantize(rollups.COST_QUANTUM)
        if row["grain"] == Grain.DAY_PEOPLE:
            item.today_calls += row["calls"]
            item.today_cost[row["currency"]] = item.today_cost.get(row["currency"], Decimal(0)) + cost
        else:
            item.month_calls += row["calls"]
            item.month_cost[row["currency"]] = item.month_cost.get(row["currency"], Decimal(0)) + cost
    return [figures[site.pk] for site in sites]


def totals(figures: list[SiteFigures]) -> dict:
    """The sum of every site's figures, costs kept apart by currency."""
    result = {"today_calls": 0, "month_calls": 0, "today_cost": {}, "month_cost": {}}
    for item in figures:
        result["today_calls"] += item.today_calls
        result["month_calls"] += item.month_calls
        for name in ("today_cost", "month_cost"):
            for currency, amount in getattr(item, name).items():
                result[name][currency] = result[name].get(currency, Decimal(0)) + amount
    return result


def top_cost_centers(where: Q, month_starts: dict[int, dt.datetime], limit: int = 5) -> list[dict]:
    """The cost centers that cost most this month (each site's own month), of the calls ``where``
    admits: ``code``, ``name``, ``calls`` and ``cost`` (currency → amount: sites may bill in
    different currencies, which are never added together); calls with no cost center are one row.
    Ranked by their largest amount. Three small queries (zones, the month rollups, the names of
    the centers shown), whatever the number of calls."""
    if not month_starts:
        return []
    zones = {pk: ZoneInfo(name) for pk, name in Site.objects.filter(pk__in=list(month_starts))
             .values_list("pk", "timezone")}
    month_q = rollup_period(local_days(month_starts, zones), Grain.MONTH_PEOPLE)
    centers: dict[int | None, dict] = {}
    for row in (CallRollup.objects.filter(where).filter(month_q).values("cost_center_id", "currency")
                .annotate(calls=Sum("calls"), cost=Sum("cost")).order_by()):
        if not row["calls"]:
            continue
        item = centers.setdefault(row["cost_center_id"] or None, {"code": None, "name": None, "calls": 0, "cost": {}})
        item["calls"] += row["calls"]
        cost = Decimal(row["cost"] or 0).quantize(rollups.COST_QUANTUM)
        item["cost"][row["currency"]] = item["cost"].get(row["currency"], Decimal(0)) + cost
    ranked = sorted(centers.items(), key=lambda pair: (-max(pair[1]["cost"].values()), pair[0] or 0))[:limit]
    names = {pk: (code, name) for pk, code, name in CostCenter.objects.filter(
        pk__in=[pk for pk, _ in ranked if pk]).values_list("pk", "code", "name")}
    for pk, item in ranked:
        item["code"], item["name"] = names.get(pk, (None, None))
    ranked.sort(key=lambda pair: (-max(pair[1]["cost"].values()), pair[1]["code"] or ""))
    return [item for _, item in ranked]


def latest_calls(where: Q, limit: int = 10) -> list[Call]:
    """The calls imported last (newest rows first) that ``where`` admits. One query."""
    return list(Call.objects.filter(where).select_related("site", "person", "cost_center").order_by("-pk")[:limit])


def site_health(sites: list[Site], today_starts: dict[int, dt.datetime],
                figures: list[SiteFigures]) -> list[SiteHealth]:
    """Per site: the newest raw record in its spool (read from the files, no query), the records
    discarded since its midnight (one query) and today's calls (from ``figures``)."""
    if not sites:
        return []
    shown = {site.pk for site in sites}
    received_today, earliest = period({pk: start for pk, start in today_starts.items() if pk in shown}, "received")
    discarded = {}
    if earliest is not None:
        # A record lands in the spool file of the UTC day it was received: only those files' rows.
        discarded = dict(
            DiscardedCall.objects.filter(received_today, segment__day__gte=earliest.astimezone(dt.UTC).date())
            .values_list("site_id").annotate(n=Count("id")).order_by()
        )
    calls = {item.site.pk: item.today_calls for item in figures}
    spool = Spool(settings.SPOOL_DIR)
    return [SiteHealth(site=site, last_record=rawview.last_received(spool, site.code),
                       discarded_today=discarded.get(site.pk, 0), calls_today=calls.get(site.pk, 0),
                       reading_problem=site.reading_problem) for site in sites]
