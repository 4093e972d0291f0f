"""Reading calls out: the rows of exports, filtered by site and local dates; what discarded calls
and unallocated account codes say is missing from the directory."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count, Max, Min, Q

from calltally.directory.forms import ExtensionForm, PersonForm
from calltally.directory.models import Extension, Person
from calltally.sites.models import Site

from .choices import Direction, DiscardReason
from .models import Call, DiscardedCall

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
    its decimal text; a call with no person or cost center has "" there."""
    zones = {site.pk: (site.code, site.zone) for site in sites}
    rows = (
        calls_between(sites, first, last)
        .order_by("start", "id")
        .values_list(*(field for _, field in EXPORT_FIELDS))
    )
    for row in rows.iterator(chunk_size=5000):
        call = dict(zip(EXPORT_COLUMNS, row, strict=True))
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
