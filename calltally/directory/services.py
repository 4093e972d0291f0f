"""Directory actions shared by the CLI and the web UI: undefined extensions, the cost center tree."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count, Max, Min

from calltally.sites.models import Site

from .forms import ExtensionForm, PersonForm
from .models import CostCenter, Extension, Person


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
    from calltally.calls.choices import DiscardReason
    from calltally.calls.models import DiscardedCall

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


def cost_center_tree() -> list[tuple[CostCenter, int]]:
    """Every cost center with its depth, each below its parent, siblings by code."""
    centers = list(CostCenter.objects.select_related("parent", "manager").order_by("code"))
    children: dict[int | None, list[CostCenter]] = {}
    known = {c.pk for c in centers}
    for center in centers:
        parent = center.parent_id if center.parent_id in known else None
        children.setdefault(parent, []).append(center)
    ordered: list[tuple[CostCenter, int]] = []
    seen: set[int] = set()

    def walk(parent_id, depth):
        for center in children.get(parent_id, []):
            if center.pk in seen:
                continue
            seen.add(center.pk)
            ordered.append((center, depth))
            walk(center.pk, depth + 1)

    walk(None, 0)
    return ordered
