"""``calltally ldap sync``: people, extensions and cost centers from LDAP / Active Directory.

The directory is read whole before anything is written: an unreachable
server, a refused password or a search that finds nobody changes nothing.
Then, in one transaction, people found are created or updated (matched by
DN, else by username), the extension in their phone attribute is assigned to
them on the site, departments become cost centers when missing, managers are
linked, and synced people missing from the directory are made inactive —
never deleted, so their calls keep pointing at them. A dry run does all of it
and rolls it back.
"""

from __future__ import annotations

import copy
import re
import time
from dataclasses import dataclass, field

from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from calltally.sites.models import Site

from ..forms import CostCenterForm, ExtensionForm, Lookups, PersonForm
from ..models import CostCenter, Extension, Person
from .client import DirectoryEntry, LdapClient, LdapError
from .config import PREFIX, LdapConfig, LdapConfigError

BATCH = 500
PERSON_FIELDS = ("username", "first_name", "last_name", "email", "site_id", "cost_center_id", "manager_id",
                 "active", "ldap_dn", "ldap_values")


@dataclass
class SyncReport:
    url: str
    dry_run: bool = False
    entries: int = 0
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    deactivated: list[str] = field(default_factory=list)
    cost_centers_created: list[str] = field(default_factory=list)
    extensions: dict[str, int] = field(default_factory=lambda: {"created": 0, "assigned": 0, "released": 0})
    errors: list[tuple[str, str]] = field(default_factory=list)  # (DN, reason)
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {
            "url": self.url, "dry_run": self.dry_run, "entries": self.entries,
            "created": len(self.created), "updated": len(self.updated), "unchanged": self.unchanged,
            "deactivated": len(self.deactivated), "errors": len(self.errors),
            "people": {"created": self.created, "updated": self.updated, "deactivated": self.deactivated},
            "cost_centers_created": self.cost_centers_created, "extensions": self.extensions,
            "error_details": [{"dn": dn, "reason": reason} for dn, reason in self.errors],
            "seconds": round(self.seconds, 3),
        }

    def lines(self, limit: int = 20) -> list[str]:
        def names(items: list[str]) -> str:
            if not items:
                return ""
            shown = ", ".join(items[:limit])
            return f" ({shown}{', …' if len(items) > limit else ''})"

        lines = [
            f"directory {self.url}: {self.entries} entries",
            f"created      {len(self.created):>6}{names(self.created)}",
            f"updated      {len(self.updated):>6}{names(self.updated)}",
            f"unchanged    {self.unchanged:>6}",
            f"deactivated  {len(self.deactivated):>6}{names(self.deactivated)}",
            f"errors       {len(self.errors):>6}",
        ]
        if self.cost_centers_created:
            lines.append(f"cost centers created: {', '.join(self.cost_centers_created)}")
        ext = self.extensions
        if any(ext.values()):
            lines.append(f"extensions: {ext['created']} created, {ext['assigned']} assigned, "
                         f"{ext['released']} released")
        for dn, reason in self.errors[: limit * 10]:
            lines.append(f"  error: {dn}: {reason}")
        if self.dry_run:
            lines.append("dry run: nothing was changed.")
        lines.append(f"seconds {self.seconds:.2f}")
        return lines


@dataclass
class Found:
    """One directory entry on its way to a person."""

    entry: DirectoryEntry
    person: Person
    original: Person | None
    values: dict[str, str]
    site: Site | None
    number: str | None  # None: the sync does not set extensions
    manager_dn: str | None


def sync_directory(config: LdapConfig | None = None, *, dry_run: bool = False, client_class=LdapClient) -> SyncReport:
    """Read the directory, then apply it to the people table (rolled back for a dry run)."""
    started = time.perf_counter()
    config = config or LdapConfig.from_env()
    site = None
    if config.site_code:
        site = Site.objects.filter(code=config.site_code).first()
        if site is None:
            known = ", ".join(Site.objects.values_list("code", flat=True)) or "none"
            raise LdapConfigError(f"{PREFIX}SITE={config.site_code!r} is no site (sites: {known}).")
    if "extension" in config.mapping and site is None and "site" not in config.mapping:
        raise LdapConfigError(f"{PREFIX}SITE is not set: extensions need a site to be on "
                              f"(or map no extension: {PREFIX}MAP=extension=).")
    with client_class(config) as client:
        entries = list(client.search())
    if not entries:
        raise LdapError(f"the search below {config.base_dn!r} with {config.search_filter} found nobody; "
                        "nothing was changed (check the base DN and filter: syncing an empty result would "
                        "make everyone inactive)")
    report = SyncReport(url=config.url, dry_run=dry_run, entries=len(entries))
    try:
        with transaction.atomic():
            Sync(config, site, report).apply(entries)
            if dry_run:
                transaction.set_rollback(True)
    except (IntegrityError, DatabaseError) as exc:
        raise LdapError(f"the database refused the changes ({str(exc).strip()}); nothing was changed") from None
    report.seconds = time.perf_counter() - started
    return report


class Sync:
    def __init__(self, config: LdapConfig, site: Site | None, report: SyncReport):
        self.config = config
        self.site = site
        self.report = report
        self.now = timezone.now()

    def error(self, entry: DirectoryEntry, reason: str) -> None:
        self.report.errors.append((entry.dn, reason))

    def load(self) -> None:
        self.lookups = Lookups.load()
        people = list(self.lookups.people.values())
        self.by_dn = {p.ldap_dn.lower(): p for p in people if p.ldap_dn}
        self.by_username = {p.username.lower(): p for p in people}
        self.sites = {s.code.upper(): s for s in self.lookups.sites.values()}
        self.centers_by_code = {c.code.upper(): c for c in self.lookups.cost_centers.values()}
        self.centers_by_name = {c.name.strip().lower(): c for c in self.lookups.cost_centers.values()}
        self.extensions = {(e.site_id, e.number): e for e in Extension.objects.all()}

    def apply(self, entries: list[DirectoryEntry]) -> None:
        self.load()
        found, seen = self.read(entries)
        Person.objects.bulk_create([f.person for f in found if f.original is None], batch_size=BATCH)
        self.link_managers(found)
        leaving = [p for p in self.lookups.people.values() if p.ldap_dn and p.pk not in seen]
        self.assign_extensions(found, {p.pk for p in leaving})
        report = self.report
        changed = []
        for item in found:
            person, original = item.person, item.original
            person.ldap_values = item.values
            person.ldap_synced = self.now
            changed.append(person)
            if original is None:
                report.created.append(person.username)
            elif any(getattr(original, name) != getattr(person, name) for name in PERSON_FIELDS):
                report.updated.append(person.username)
            else:
                report.unchanged += 1
        for person in leaving:
            if not person.active:
                continue
            person = copy.copy(person)
            person.active = False
            changed.append(person)
            report.deactivated.append(person.username)
            self.release(person, person.ldap_values)
        Person.objects.bulk_update(changed, [*(f.removesuffix("_id") for f in PERSON_FIELDS), "ldap_synced"],
                                   batch_size=BATCH)
        self.save_extensions()
        for names in (report.created, report.updated, report.deactivated):
            names.sort()

    def read(self, entries: list[DirectoryEntry]) -> tuple[list[Found], set[int]]:
        mapping, lookups = self.config.mapping, self.lookups
        found: list[Found] = []
        seen: set[int] = set()  # people the directory still has, even when their entry is wrong
        usernames: dict[str, str] = {}
        for entry in entries:
            username = entry.first(mapping["username"])
            if not username:
                self.error(entry, f"no {'/'.join(mapping['username'])} to make a username of")
                continue
            other_dn = usernames.setdefault(username.lower(), entry.dn)
            if other_dn != entry.dn:
                self.error(entry, f"username {username!r} is also the username of {other_dn}")
                continue
            original = self.by_dn.get(entry.dn.lower()) or self.by_username.get(username.lower())
            if original is not None:
                if original.pk in seen:
                    self.error(entry, f"matches {original.username}, who another entry matches already")
                    continue
                seen.add(original.pk)
            taken = self.by_username.get(username.lower())
            if taken is not None and original is not None and taken.pk != original.pk:
                self.error(entry, f"username {username!r} belongs to another person (renamed from "
                                  f"{original.username!r}?)")
                continue
            values: dict[str, str] = {"username": username}
            for name in ("first_name", "last_name", "email"):
                if name in mapping:
                    values[name] = entry.first(mapping[name])
            site = self.site
            if "site" in mapping:
                code = entry.first(mapping["site"])
                site = self.sites.get(code.upper(), self.site) if code else self.site
            if site is not None:
                values["site"] = site.code
            if "cost_center" in mapping:
                center = self.cost_center(entry.first(mapping["cost_center"]))
                values["cost_center"] = center.code if center else ""
            data = PersonForm.values(original, lookups) if original is not None else {
                "username": username, "first_name": "", "last_name": "", "email": "", "site": "", "cost_center": "",
                "manager": "", "masked_digits": 0, "virtual": False,
            }
            data.update(values)
            data["active"] = True
            form = PersonForm(data, instance=copy.copy(original) if original is not None else Person(),
                              lookups=lookups, directory_sync=True)
            if not form.is_valid():
                self.error(entry, form.error_text())
                continue
            person = form.instance
            person.ldap_dn = entry.dn
            number = None
            if "extension" in mapping:
                raw = entry.first(mapping["extension"])
                number = self.config.extension_from(raw)
                if raw and not number:
                    self.error(entry, f"no extension number in {raw!r} (see {PREFIX}EXTENSION_REGEX / _DIGITS); "
                                      "the person is synced without one")
            manager_dn = entry.first(mapping["manager"]) if "manager" in mapping else None
            found.append(Found(entry, person, original, values, site, number, manager_dn))
        return found, seen

    def cost_center(self, department: str) -> CostCenter | None:
        """The cost center of a department, by code or name; created when there is none."""
        department = " ".join((department or "").split())
        if not department:
            return None
        center = self.centers_by_code.get(department.upper()) or self.centers_by_name.get(department.lower())
        if center is not None:
            return center
        base = re.sub(r"[^A-Za-z0-9]+", "-", department).strip("-").upper()[:28] or "DEPT"
        code, counter = base, 1
        while code.upper() in self.centers_by_code:
            counter += 1
            code = f"{base}-{counter}"
        form = CostCenterForm({"code": code, "name": department[:200], "parent": "", "manager": ""},
                              lookups=self.lookups)
        if not form.is_valid():
            return None
        center = form.save()
        self.lookups.add(center)
        self.centers_by_code[center.code.upper()] = center
        self.centers_by_name[department.lower()] = center
        self.report.cost_centers_created.append(center.code)
        return center

    def link_managers(self, found: list[Found]) -> None:
        if "manager" not in self.config.mapping:
            return
        by_dn = dict(self.by_dn)
        by_dn.update((f.entry.dn.lower(), f.person) for f in found)
        for item in found:
            manager = by_dn.get(item.manager_dn.lower()) if item.manager_dn else None
            if manager is item.person or (manager is not None and manager.pk == item.person.pk):
                manager = None
            item.person.manager_id = manager.pk if manager is not None else None
            item.values["manager"] = manager.username if manager is not None else ""

    def assign_extensions(self, found: list[Found], leaving: set[int]) -> None:
        """Give each person the extension in their phone attribute.

        First every extension the sync gave before and that changed is released,
        so two people may swap numbers in one sync; then the new ones are claimed.
        """
        self.dirty: dict[int | tuple, Extension] = {}
        wanted: dict[int, tuple[int, str] | None] = {}
        for index, item in enumerate(found):
            if item.number is None:
                continue
            key = None
            if item.number and item.site is None:
                self.error(item.entry, f"extension {item.number}: no site to put it on (set {PREFIX}SITE)")
            elif item.number:
                key = (item.site.pk, item.number)
            wanted[index] = key
            previous = item.original.ldap_values if item.original is not None else {}
            site = self.sites.get((previous.get("extension_site") or "").upper())
            if previous.get("extension") and (site is None or (site.pk, previous["extension"]) != key):
                self.release(item.person, previous)
        claims: dict[tuple[int, str], str] = {}
        counts = self.report.extensions
        for index, key in wanted.items():
            item = found[index]
            item.values["extension"], item.values["extension_site"] = "", ""
            if key is None:
                continue
            number, site = key[1], item.site
            if key in claims:
                self.error(item.entry, f"extension {number} on site {site.code} is also the extension of "
                                       f"{claims[key]}; the person is synced without it")
                continue
            extension = self.extensions.get(key)
            if extension is not None and extension.person_id not in (None, item.person.pk):
                owner = self.lookups.by_id(Person, extension.person_id)
                if owner is not None and owner.active and owner.pk not in leaving:
                    self.error(item.entry, f"extension {number} on site {site.code} belongs to {owner.username}; "
                                           "the person is synced without it")
                    continue
            if extension is None:
                form = ExtensionForm({"site": site.code, "number": number, "person": "", "cost_center": "",
                                      "billing_enabled": True, "aliases": ""}, lookups=self.lookups)
                if not form.is_valid():
                    self.error(item.entry, f"extension {number}: {form.error_text()}")
                    continue
                extension = form.instance
                extension.person_id = item.person.pk
                self.extensions[key] = self.dirty[key] = extension
                counts["created"] += 1
            elif extension.person_id != item.person.pk:
                extension = self.dirty.get(extension.pk) or copy.copy(extension)
                extension.person_id = item.person.pk
                self.extensions[key] = self.dirty[extension.pk] = extension
                counts["assigned"] += 1
            claims[key] = item.person.username
            item.values["extension"], item.values["extension_site"] = number, site.code

    def release(self, person: Person, previous: dict) -> None:
        """Unassign the extension the sync gave a person before, if they still have it."""
        number, site_code = previous.get("extension"), previous.get("extension_site")
        site = self.sites.get((site_code or "").upper())
        if not number or site is None:
            return
        extension = self.extensions.get((site.pk, number))
        if extension is None or extension.person_id != person.pk:
            return
        extension = self.dirty.get(extension.pk) or copy.copy(extension)
        extension.person_id = None
        self.extensions[(site.pk, number)] = extension
        self.dirty[extension.pk] = extension
        self.report.extensions["released"] += 1

    def save_extensions(self) -> None:
        dirty = list(getattr(self, "dirty", {}).values())
        Extension.objects.bulk_create([e for e in dirty if e.pk is None], batch_size=BATCH)
        Extension.objects.bulk_update([e for e in dirty if e.pk is not None], ["person"], batch_size=BATCH)
