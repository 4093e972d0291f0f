"""Import and export of people with their extensions, and of account codes.

An import reads the whole file, checks every row through the directory's forms
against an in-memory copy of the tables (one query per table, none per row),
then checks the rows against each other (an extension listed twice, an
extension that belongs to someone else). Only then does it write, with a few
multi-row statements in one transaction: either every row is applied or none
is — unless the user asks to skip the rows that are wrong. A dry run stops
before writing and reports what the import would do, row by row.
"""

from __future__ import annotations

import copy
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F

from calltally.sites.models import Site

from .forms import AccountCodeForm, ExtensionForm, Lookups, PersonForm
from .models import AccountCode, Extension, ExtensionAlias, Person, normalize_account_code
from .tabular import FileRefused, Table, header_key, match_headers, parse_bool, read_table, write_table

BATCH = 500
ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")
MAX_SLOTS = len(ORDINALS)
PERSON_COLUMNS = ("username", "first_name", "last_name", "email", "site", "cost_center", "masked_digits",
                  "active", "virtual")
SLOT_COLUMNS = ("extension", "billing_enabled", "aliases", "extension_site")
PERSON_FIELDS = ("username", "first_name", "last_name", "email", "site_id", "cost_center_id", "manager_id",
                 "masked_digits", "virtual", "active")
ACCOUNT_COLUMNS = ("code", "description", "site", "privacy_digits", "cost_center", "replace_with_description")
MULTISITE = {"", "*"}


def slot_column(base: str, slot: int) -> str:
    """The column of an extension slot: ``extension``, ``extension_2``, ``billing_enabled_2``…"""
    return base if slot == 1 else f"{base}_{slot}"


def _aliases(pairs: dict[str, tuple[str, ...]]) -> dict[str, str]:
    found = {}
    for name, spellings in pairs.items():
        for text in (name, *spellings):
            found[header_key(text)] = name
    return found


def people_headers() -> dict[str, str]:
    """Every accepted spelling of a people column (compared by ``header_key``)."""
    pairs = {
        "username": ("user", "user name", "login", "user id", "account name", "sAMAccountName", "uid"),
        "first_name": ("first", "given name", "forename", "first name"),
        "last_name": ("last", "surname", "family name", "sn", "last name"),
        "email": ("e-mail", "mail", "email address", "e-mail address"),
        "site": ("site code", "pbx"),
        "cost_center": ("cost centre", "cost center code", "cost centre code", "department", "dept", "cc"),
        "masked_digits": ("masked", "privacy digits", "digits masked", "hidden digits", "number of masked digits"),
        "active": ("enabled",),
        "virtual": ("virtual person",),
    }
    for slot, word in enumerate(ORDINALS, start=1):
        pairs[slot_column("extension", slot)] = (
            f"extension {slot}", f"extension number {slot}", f"ext {slot}", f"{word} extension number",
            f"{word} extension", *(("extension number", "ext", "number") if slot == 1 else ()),
        )
        pairs[slot_column("billing_enabled", slot)] = (
            f"billing enabled {slot}", f"billing {slot}", f"enable billing for {word} extension number",
            f"enable billing for {word} extension", f"{word} extension billing",
            *(("billing", "enable billing") if slot == 1 else ()),
        )
        pairs[slot_column("aliases", slot)] = (
            f"aliases {slot}", f"alias {slot}", f"did {slot}", f"dids {slot}", f"aliases for {word} extension number",
            f"did numbers for {word} extension number", f"{word} extension aliases",
            *(("alias", "did", "dids", "did numbers", "alias numbers") if slot == 1 else ()),
        )
        pairs[slot_column("extension_site", slot)] = (
            f"extension site {slot}", f"site of {word} extension number", f"{word} extension site",
        )
    return _aliases(pairs)


def account_headers() -> dict[str, str]:
    return _aliases({
        "code": ("account code", "account", "pin", "authorization code", "authorisation code", "client matter"),
        "description": ("name", "label"),
        "site": ("site code",),
        "privacy_digits": ("privacy", "masked digits"),
        "cost_center": ("cost centre", "department"),
        "replace_with_description": ("replace code with description", "show description"),
    })


# --- reports --------------------------------------------------------------------

def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


@dataclass
class RowOutcome:
    row: int
    key: str
    action: str  # insert, update, unchanged, reject
    reason: str = ""
    changes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        data = {"row": self.row, "key": self.key, "action": self.action}
        if self.reason:
            data["reason"] = self.reason
        if self.changes:
            data["changes"] = self.changes
        if self.notes:
            data["notes"] = self.notes
        return data


@dataclass
class ImportReport:
    file: str
    format: str = ""
    dry_run: bool = False
    skip_invalid: bool = False
    applied: bool = False
    outcomes: list[RowOutcome] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)
    deleted: int = 0
    deactivated: int = 0
    extensions: dict[str, int] = field(default_factory=lambda: {"created": 0, "updated": 0, "released": 0})
    error: str = ""
    seconds: float = 0.0

    def count(self, action: str) -> int:
        return sum(1 for o in self.outcomes if o.action == action)

    @property
    def rejected(self) -> list[RowOutcome]:
        return [o for o in self.outcomes if o.action == "reject"]

    @property
    def refused(self) -> bool:
        """Rows are wrong and the user did not ask to skip them: nothing is (or would be) applied."""
        return bool(self.error) or (bool(self.rejected) and not self.skip_invalid)

    def as_dict(self) -> dict:
        return {
            "file": self.file,
            "format": self.format,
            "dry_run": self.dry_run,
            "applied": self.applied,
            "rows": len(self.outcomes),
            "inserted": self.count("insert"),
            "updated": self.count("update"),
            "unchanged": self.count("unchanged"),
            "rejected": len(self.rejected),
            "deleted": self.deleted,
            "deactivated": self.deactivated,
            "extensions": self.extensions,
            "unknown_columns": self.unknown_columns,
            "error": self.error,
            "seconds": round(self.seconds, 3),
            "details": [o.as_dict() for o in self.outcomes if o.action != "unchanged"],
        }

    def lines(self, limit: int = 50) -> list[str]:
        """The report for people to read: totals, then the rows that (would) change or are rejected."""
        what = "would be" if self.dry_run or not self.applied else "were"
        head = (f"{self.file} ({self.format}, {plural(len(self.outcomes), 'row')}): "
                f"{self.count('insert')} inserted, {self.count('update')} updated, "
                f"{self.count('unchanged')} unchanged, {len(self.rejected)} rejected")
        lines = [head]
        if self.deleted or self.deactivated:
            lines.append(f"people not in the file: {self.deleted} deleted, {self.deactivated} made inactive "
                         "(they have calls)")
        ext = self.extensions
        if any(ext.values()):
            lines.append(f"extensions: {ext['created']} created, {ext['updated']} updated, "
                         f"{ext['released']} released (unassigned)")
        if self.unknown_columns:
            lines.append("columns ignored (not known): " + ", ".join(self.unknown_columns))
        rejected = self.rejected
        for outcome in rejected[: max(limit, 200)]:
            lines.append(f"row {outcome.row} ({outcome.key or 'no key'}): rejected: {outcome.reason}")
        if len(rejected) > max(limit, 200):
            lines.append(f"… and {len(rejected) - max(limit, 200)} more rejected rows (--json lists them all)")
        if self.dry_run:
            changed = [o for o in self.outcomes if o.action in ("insert", "update")]
            for outcome in changed[:limit]:
                detail = f": {', '.join(outcome.changes)}" if outcome.changes else ""
                lines.append(f"row {outcome.row} ({outcome.key}): {outcome.action}{detail}")
            if len(changed) > limit:
                lines.append(f"… and {len(changed) - limit} more rows to insert or update (--json lists them all)")
        notes = [o for o in self.outcomes if o.notes]
        for outcome in notes[:limit]:
            lines.append(f"row {outcome.row} ({outcome.key}): note: {'; '.join(outcome.notes)}")
        if self.error:
            lines.append(f"nothing {what.split()[0]} applied: {self.error}")
        elif self.refused:
            lines.append(f"nothing imported: {plural(len(rejected), 'row')} rejected; correct them, or pass "
                         "--skip-invalid to import the other rows.")
        elif self.dry_run:
            lines.append("dry run: nothing was changed.")
        elif self.applied:
            lines.append("changes applied; the rejected rows were skipped." if self.rejected else "changes applied.")
        lines.append(f"seconds {self.seconds:.2f}")
        return lines


# --- people ---------------------------------------------------------------------

@dataclass
class SlotPlan:
    extension: Extension  # the extension as it will be (a copy when it exists)
    key: tuple[int, str]  # (site id, number)
    site_code: str
    is_new: bool
    aliases: list[str] | None  # None: the file has no aliases column for the slot
    changes: list[str] = field(default_factory=list)


@dataclass
class RowPlan:
    outcome: RowOutcome
    person: Person
    original: Person | None
    changes: list[str]
    slots: list[SlotPlan]
    manages_extensions: bool  # the row lists all of the person's extensions


class PeopleImport:
    """``calltally users import``: one row per person with their extensions."""

    def __init__(self, path, *, dry_run: bool = False, skip_invalid: bool = False, delete_existing: bool = False,
                 encoding: str | None = None, file_format: str | None = None, sites: frozenset[int] | None = None,
                 name: str | None = None):
        self.path = Path(path)
        self.name = name or self.path.name
        self.dry_run = dry_run
        self.skip_invalid = skip_invalid
        self.delete_existing = delete_existing
        self.encoding = encoding
        self.file_format = file_format
        # The sites the importing account may change (a site administrator on the web); None: all.
        self.sites = sites

    # -- reading and checking -------------------------------------------------------
    def run(self) -> ImportReport:
        started = time.perf_counter()
        report = ImportReport(file=self.name, dry_run=self.dry_run, skip_invalid=self.skip_invalid)
        table = read_table(self.path, self.encoding, self.file_format)
        report.format = table.format
        self.columns, report.unknown_columns = match_headers(table.headers, people_headers())
        self.check_columns(table)
        self.load()
        plans = []
        self.rows_by_username: dict[str, int] = {}
        for number, cells in table.rows:
            plan = self.check_row(number, cells, len(table.headers))
            report.outcomes.append(plan.outcome if isinstance(plan, RowPlan) else plan)
            if isinstance(plan, RowPlan):
                plans.append(plan)
        plans = self.check_across(plans)
        self.find_released(plans)
        leaving = self.people_to_remove() if self.delete_existing else ([], [])
        report.deleted, report.deactivated = len(leaving[0]), len(leaving[1])
        self.count_extensions(plans, report)
        if not report.refused and not self.dry_run:
            try:
                with transaction.atomic():
                    self.apply(plans, leaving)
                report.applied = True
            except (IntegrityError, DatabaseError) as exc:
                report.error = f"the database refused the changes ({str(exc).strip()}); nothing was changed."
        report.seconds = time.perf_counter() - started
        return report

    def check_columns(self, table: Table) -> None:
        if "username" not in self.columns:
            raise FileRefused(
                f"{self.path.name} has no username column (its header is: {', '.join(table.headers)}). "
                "The first row must name the columns, e.g. username,first_name,last_name,email,site,extension."
            )
        self.slots = []
        for slot in range(1, MAX_SLOTS + 1):
            present = [c for c in SLOT_COLUMNS if slot_column(c, slot) in self.columns]
            if not present:
                continue
            if slot_column("extension", slot) not in self.columns:
                raise FileRefused(f"column {slot_column(present[0], slot)} needs a column "
                                  f"{slot_column('extension', slot)} beside it.")
            self.slots.append(slot)

    def load(self) -> None:
        self.lookups = Lookups.load()
        self.extensions: dict[tuple[int, str], Extension] = {}
        self.extension_by_pk: dict[int, Extension] = {}
        self.owned: dict[int, list[Extension]] = defaultdict(list)
        for extension in Extension.objects.all():
            self.extensions[(extension.site_id, extension.number)] = extension
            self.extension_by_pk[extension.pk] = extension
            if extension.person_id is not None:
                self.owned[extension.person_id].append(extension)
        self.aliases: dict[tuple[int, str], tuple[int, int]] = {}  # (site, number) -> (alias id, extension id)
        self.aliases_of: dict[int, list[str]] = defaultdict(list)
        for pk, site_id, number, extension_id in ExtensionAlias.objects.order_by("number").values_list(
            "pk", "site_id", "number", "extension_id"
        ):
            self.aliases[(site_id, number)] = (pk, extension_id)
            self.aliases_of[extension_id].append(number)

    def check_row(self, number: int, cells: list[str], width: int) -> RowPlan | RowOutcome:
        columns = self.columns
        values = {name: cells[index] if index < len(cells) else "" for name, index in columns.items()}
        username = values["username"]
        outcome = RowOutcome(row=number, key=username, action="reject")
        if len(cells) > width:
            outcome.reason = (f"the row has {len(cells)} cells but the header {width}; "
                              "a quote or delimiter may be missing")
            return outcome
        if not username:
            outcome.reason = "username is empty"
            return outcome
        first = self.rows_by_username.setdefault(username, number)
        if first != number:
            outcome.reason = f"username {username!r} is also on row {first}"
            return outcome
        original = self.lookups.people.get(username)
        if original is not None:
            data = PersonForm.values(original, self.lookups)
        else:
            data = {"username": username, "first_name": "", "last_name": "", "email": "", "site": "",
                    "cost_center": "", "manager": "", "masked_digits": 0, "virtual": False, "active": True}
        problems = []
        for name in PERSON_COLUMNS[1:]:
            if name not in columns:
                continue
            raw = values[name]
            if name in ("active", "virtual"):
                try:
                    data[name] = parse_bool(raw, default=(name == "active"))
                except ValueError as exc:
                    problems.append(f"{name}: {exc}")
            elif name == "masked_digits":
                data[name] = raw or "0"
            else:
                data[name] = raw
        person = copy.copy(original) if original is not None else Person()
        form = PersonForm(data, instance=person, lookups=self.lookups)
        if not form.is_valid():
            problems.append(form.error_text())
        notes = []
        if original is not None and original.is_synced:
            current = PersonForm.values(original, self.lookups)
            ignored = [name for name in PERSON_COLUMNS if name in columns and form.fields[name].disabled
                       and name not in ("active", "virtual", "masked_digits")
                       and values[name] != str(current[name])]
            if ignored:
                notes.append(f"{', '.join(ignored)} kept by the LDAP sync; the file's value is ignored")
        person = form.instance
        if self.sites is not None:
            problems.extend(self.outside_sites(original, person))
        manages = bool(self.slots)
        if manages and original is not None and original.ldap_values.get("extension"):
            manages = False
            notes.append("extensions kept by the LDAP sync; the file's are ignored")
        # With no valid site of its own, the row's extensions have no site to be checked on.
        slots = self.check_slots(values, person, problems) if manages and "site" not in form.errors else []
        if problems:
            outcome.reason = "; ".join(problems)
            return outcome
        changes = []
        if original is not None:
            changes = [name.removesuffix("_id") for name in PERSON_FIELDS
                       if getattr(original, name) != getattr(person, name)]
        outcome.action = "insert" if original is None else "update"
        outcome.notes = notes
        return RowPlan(outcome=outcome, person=person, original=original, changes=changes, slots=slots,
                       manages_extensions=manages)

    def outside_sites(self, original: Person | None, person: Person) -> list[str]:
        """What a row may not do when the account runs only some sites."""
        if original is not None and original.site_id not in self.sites:
            return [f"{original.username} is not on one of your sites; your account cannot change them"]
        if person.site_id is None:
            return ["site: give one of your sites (" + ", ".join(self.site_codes()) + ")"]
        if person.site_id not in self.sites:
            return [f"site: your account does not administer site {self.lookups.by_id(Site, person.site_id).code}"]
        return []

    def site_codes(self) -> list[str]:
        return sorted(s.code for s in self.lookups.sites.values() if s.pk in self.sites)

    def check_slots(self, values: dict, person: Person, problems: list[str]) -> list[SlotPlan]:
        lookups, columns = self.lookups, self.columns
        row_site = lookups.by_id(Site, person.site_id)
        plans: list[SlotPlan] = []
        for slot in self.slots:
            ext_col = slot_column("extension", slot)
            number = values.get(ext_col, "")
            if not number:
                extra = [slot_column(c, slot) for c in SLOT_COLUMNS[2:] if values.get(slot_column(c, slot))]
                if extra:
                    problems.append(f"{', '.join(extra)} given without {ext_col}")
                continue
            site_code = values.get(slot_column("extension_site", slot)) or (row_site.code if row_site else "")
            if not site_code:
                problems.append(f"{ext_col} {number}: no site to put it on (fill in site)")
                continue
            site = lookups.sites.get(site_code)
            if site is not None and self.sites is not None and site.pk not in self.sites:
                problems.append(f"{ext_col} {number}: your account does not administer site {site_code}")
                continue
            original = self.extensions.get((site.pk, number)) if site else None
            if original is not None:
                data = ExtensionForm.values(original, lookups, self.aliases_of.get(original.pk))
            else:
                data = {"site": site_code, "number": number, "person": "", "cost_center": "",
                        "billing_enabled": True, "aliases": ""}
            data["site"], data["number"] = site_code, number
            billing_col = slot_column("billing_enabled", slot)
            if billing_col in columns:
                try:
                    data["billing_enabled"] = parse_bool(values[billing_col], default=True)
                except ValueError as exc:
                    problems.append(f"{billing_col}: {exc}")
                    continue
            aliases_col = slot_column("aliases", slot)
            if aliases_col in columns:
                data["aliases"] = values[aliases_col]
            form = ExtensionForm(data, instance=copy.copy(original) if original else Extension(),
                                 lookups=lookups)
            if not form.is_valid():
                problems.append(f"{ext_col} {number}: {form.error_text()}")
                continue
            key = (form.instance.site_id, form.instance.number)
            if any(p.key == key for p in plans):
                problems.append(f"extension {number} on site {site_code} is listed twice")
                continue
            extension = form.instance
            changes = []
            if original is None:
                changes.append(f"extension {number} added")
            elif original.billing_enabled != extension.billing_enabled:
                changes.append(f"billing of {number}")
            aliases = form.cleaned_data["aliases"] if aliases_col in columns else None
            before = set(self.aliases_of.get(original.pk, [])) if original is not None else set()
            if aliases is not None and original is not None and set(aliases) != before:
                changes.append(f"aliases of {number}")
            plans.append(SlotPlan(extension=extension, key=key, site_code=site_code, is_new=original is None,
                                  aliases=aliases, changes=changes))
        return plans

    def check_across(self, plans: list[RowPlan]) -> list[RowPlan]:
        """Reject the rows that clash with others, until none does."""
        while True:
            clashes = self.clashes(plans)
            if not clashes:
                return plans
            for plan in plans:
                if plan.outcome.row in clashes:
                    plan.outcome.action = "reject"
                    plan.outcome.reason = clashes[plan.outcome.row]
            plans = [p for p in plans if p.outcome.row not in clashes]

    def clashes(self, plans: list[RowPlan]) -> dict[int, str]:
        bad: dict[int, str] = {}
        claims: dict[tuple[int, str], RowPlan] = {}
        for plan in plans:
            for slot in plan.slots:
                other = claims.setdefault(slot.key, plan)
                if other is not plan:
                    bad.setdefault(plan.outcome.row, f"extension {slot.key[1]} on site {slot.site_code} is also "
                                                     f"on row {other.outcome.row}")
        by_person = {p.original.pk: p for p in plans if p.original is not None}
        for plan in plans:
            for slot in plan.slots:
                if slot.is_new:
                    continue
                owner_id = self.extension_by_pk[slot.extension.pk].person_id
                if owner_id is None or (plan.original is not None and owner_id == plan.original.pk):
                    continue
                owner = self.lookups.by_id(Person, owner_id)
                owner_plan = by_person.get(owner_id)
                if owner_plan is not None and owner_plan.manages_extensions:
                    continue  # its owner's row no longer lists it: it moves
                if owner is None or not owner.active:
                    continue
                if owner_plan is None and self.delete_existing and owner.username not in self.rows_by_username \
                        and not owner.is_synced:
                    continue  # its owner leaves with --delete-existing
                if owner_plan is not None or owner.username not in self.rows_by_username:
                    why = "kept by the LDAP sync" if owner.is_synced else "not in this file"
                else:
                    why = f"whose row {self.rows_by_username[owner.username]} is rejected"
                bad.setdefault(plan.outcome.row, f"extension {slot.key[1]} on site {slot.site_code} belongs to "
                                                 f"{owner.username} ({why}); list it on their row or free it first")
        # Aliases: compare with the numbers as they will be once the file is applied.
        rewritten = {s.extension.pk for p in plans for s in p.slots if s.aliases is not None and not s.is_new}
        alias_owner: dict[tuple[int, str], object] = {
            key: extension_id for key, (_, extension_id) in self.aliases.items() if extension_id not in rewritten
        }
        numbers = set(self.extensions) | {s.key for p in plans for s in p.slots}
        for plan in plans:
            for slot in plan.slots:
                identity = slot.extension.pk or slot.key
                for alias in slot.aliases or ():
                    key = (slot.key[0], alias)
                    if key in numbers:
                        bad.setdefault(plan.outcome.row, f"alias {alias} is an extension number of site "
                                                         f"{slot.site_code}")
                        continue
                    owner = alias_owner.setdefault(key, identity)
                    if owner != identity:
                        bad.setdefault(plan.outcome.row, f"alias {alias} on site {slot.site_code} already reaches "
                                                         f"extension {self._number_of(owner)}")
        for plan in plans:
            for slot in plan.slots:
                owner = alias_owner.get(slot.key)
                if slot.is_new and owner is not None:
                    bad.setdefault(plan.outcome.row, f"extension {slot.key[1]} on site {slot.site_code} is an "
                                                     f"alias of extension {self._number_of(owner)}")
        return bad

    def _number_of(self, identity) -> str:
        if isinstance(identity, tuple):
            return identity[1]
        return self.extension_by_pk[identity].number

    def find_released(self, plans: list[RowPlan]) -> None:
        """Extensions a row no longer lists are released (unassigned), unless another row takes them."""
        claimed = {s.key: p for p in plans for s in p.slots}
        self.released: list[Extension] = []
        for plan in plans:
            person_pk = plan.original.pk if plan.original is not None else None
            if person_pk is not None and plan.manages_extensions:
                for extension in self.owned.get(person_pk, []):
                    taker = claimed.get((extension.site_id, extension.number))
                    if taker is None:
                        self.released.append(extension)
                        plan.changes.append(f"extension {extension.number} released")
                    elif taker is not plan:
                        plan.changes.append(f"extension {extension.number} moves to row {taker.outcome.row}")
            for slot in plan.slots:
                if not slot.is_new and (person_pk is None
                                        or self.extension_by_pk[slot.extension.pk].person_id != person_pk):
                    slot.changes.append(f"extension {slot.key[1]} assigned")
                plan.changes.extend(slot.changes)
            if plan.original is not None:
                plan.outcome.action = "update" if plan.changes else "unchanged"
            plan.outcome.changes = plan.changes

    def people_to_remove(self) -> tuple[list[int], list[int]]:
        """(ids to delete, ids to make inactive): people not in the file, except those LDAP keeps.

        People with calls are made inactive instead of deleted, so their history stays.
        """
        leaving = [p for p in self.lookups.people.values()
                   if p.username not in self.rows_by_username and not p.is_synced
                   and (self.sites is None or p.site_id in self.sites)]
        ids = [p.pk for p in leaving]
        with_calls: set[int] = set()
        for start in range(0, len(ids), BATCH):
            part = ids[start:start + BATCH]
            # Through the calls' foreign key: every row counts, legs of merged calls included.
            with_calls.update(Person.objects.filter(pk__in=part, calls__isnull=False).values_list("pk", flat=True)
                              .distinct())
        delete = [pk for pk in ids if pk not in with_calls]
        deactivate = [p.pk for p in leaving if p.pk in with_calls and p.active]
        return delete, deactivate

    def count_extensions(self, plans: list[RowPlan], report: ImportReport) -> None:
        slots = [s for p in plans for s in p.slots]
        report.extensions = {
            "created": sum(1 for s in slots if s.is_new),
            "updated": sum(1 for s in slots if not s.is_new and s.changes),
            "released": len(self.released),
        }

    # -- writing ---------------------------------------------------------------------
    def apply(self, plans: list[RowPlan], leaving: tuple[list[int], list[int]]) -> None:
        delete, deactivate = leaving
        for start in range(0, len(delete), BATCH):
            Person.objects.filter(pk__in=delete[start:start + BATCH]).delete()
        for start in range(0, len(deactivate), BATCH):
            part = deactivate[start:start + BATCH]
            Person.objects.filter(pk__in=part).update(active=False)
            Extension.objects.filter(person_id__in=part).update(person=None)
        Person.objects.bulk_create([p.person for p in plans if p.original is None], batch_size=BATCH)
        changed = [p.person for p in plans if p.original is not None and p.changes]
        Person.objects.bulk_update(changed, [f.removesuffix("_id") for f in PERSON_FIELDS], batch_size=BATCH)

        created, updated = [], []
        released = {e.pk: e for e in self.released}
        for plan in plans:
            for slot in plan.slots:
                slot.extension.person_id = plan.person.pk
                released.pop(slot.extension.pk, None)
                if slot.is_new:
                    created.append(slot.extension)
                elif slot.changes:
                    updated.append(slot.extension)
        for extension in released.values():
            extension = copy.copy(extension)
            extension.person_id = None
            updated.append(extension)
        Extension.objects.bulk_create(created, batch_size=BATCH)
        Extension.objects.bulk_update(updated, ["person", "billing_enabled"], batch_size=BATCH)

        drop, add = [], []
        for plan in plans:
            for slot in plan.slots:
                if slot.aliases is None:
                    continue
                current = set() if slot.is_new else set(self.aliases_of.get(slot.extension.pk, []))
                wanted = set(slot.aliases)
                drop.extend(self.aliases[(slot.key[0], n)][0] for n in current - wanted)
                add.extend(ExtensionAlias(extension=slot.extension, site_id=slot.key[0], number=n)
                           for n in slot.aliases if n not in current)
        for start in range(0, len(drop), BATCH):
            ExtensionAlias.objects.filter(pk__in=drop[start:start + BATCH]).delete()
        ExtensionAlias.objects.bulk_create(add, batch_size=BATCH)


def import_people(path, **options) -> ImportReport:
    return PeopleImport(path, **options).run()


# --- people export ------------------------------------------------------------------

def yes_no(value: bool) -> str:
    return "yes" if value else "no"


def people_table(people=None) -> tuple[list[str], list[list[str]]]:
    """Every person (or those of the ``people`` queryset) with their extensions, in the columns
    the import reads back unchanged."""
    chosen = people if people is not None else Person.objects.all()
    people = list(chosen.select_related("site", "cost_center").order_by("username"))
    owned: dict[int, list[Extension]] = defaultdict(list)
    extensions = Extension.objects.filter(person__isnull=False)
    alias_rows = ExtensionAlias.objects.all()
    if chosen.query.where:
        extensions = extensions.filter(person__in=chosen.values("pk"))
        alias_rows = alias_rows.filter(extension__person__in=chosen.values("pk"))
    for extension in extensions.select_related("site").order_by("pk"):
        owned[extension.person_id].append(extension)
    aliases: dict[int, list[str]] = defaultdict(list)
    for extension_id, number in alias_rows.order_by("number").values_list("extension_id", "number"):
        aliases[extension_id].append(number)
    slots = max([1, *(len(v) for v in owned.values())])
    if slots > MAX_SLOTS:
        raise FileRefused(f"a person has more than {MAX_SLOTS} extensions; the file format holds {MAX_SLOTS}.")
    own_site = any(e.site_id != p.site_id for p in people for e in owned.get(p.pk, []))
    headers = list(PERSON_COLUMNS)
    per_slot = SLOT_COLUMNS if own_site else SLOT_COLUMNS[:3]
    for slot in range(1, slots + 1):
        headers.extend(slot_column(c, slot) for c in per_slot)
    rows = []
    for person in people:
        row = [person.username, person.first_name, person.last_name, person.email,
               person.site.code if person.site else "", person.cost_center.code if person.cost_center else "",
               str(person.masked_digits), yes_no(person.active), yes_no(person.virtual)]
        extensions = owned.get(person.pk, [])
        for slot in range(slots):
            if slot < len(extensions):
                extension = extensions[slot]
                row += [extension.number, yes_no(extension.billing_enabled), " ".join(aliases.get(extension.pk, []))]
                if own_site:
                    row.append(extension.site.code if extension.site_id != person.site_id else "")
            else:
                row += [""] * len(per_slot)
        rows.append(row)
    return headers, rows


def export_people(target, file_format: str = "csv", bom: bool = False) -> int:
    headers, rows = people_table()
    return write_table(headers, rows, file_format, target, bom=bom)


# --- account codes ------------------------------------------------------------------

@dataclass
class AccountPlan:
    outcome: RowOutcome
    account: AccountCode
    original: AccountCode | None
    changes: list[str]


class AccountImport:
    """``calltally accounts import``: one row per account code."""

    FIELDS = ("code", "description", "site_id", "privacy_digits", "cost_center_id", "replace_with_description")

    def __init__(self, path, *, dry_run: bool = False, skip_invalid: bool = False, encoding: str | None = None,
                 file_format: str | None = None, sites: frozenset[int] | None = None, name: str | None = None):
        self.path = Path(path)
        self.name = name or self.path.name
        self.dry_run = dry_run
        self.skip_invalid = skip_invalid
        self.encoding = encoding
        self.file_format = file_format
        self.sites = sites  # the sites the importing account may change; None: all

    def run(self) -> ImportReport:
        started = time.perf_counter()
        report = ImportReport(file=self.name, dry_run=self.dry_run, skip_invalid=self.skip_invalid)
        report.extensions = {"created": 0, "updated": 0, "released": 0}
        table = read_table(self.path, self.encoding, self.file_format)
        report.format = table.format
        columns, report.unknown_columns = match_headers(table.headers, account_headers())
        if "code" not in columns:
            raise FileRefused(f"{self.path.name} has no code column (its header is: {', '.join(table.headers)}).")
        lookups = Lookups.load(people=False)
        existing = {(a.site_id, a.normalized): a for a in AccountCode.objects.all()}
        seen: dict[tuple[int | None, str], int] = {}
        plans = []
        for number, cells in table.rows:
            values = {name: cells[index] if index < len(cells) else "" for name, index in columns.items()}
            outcome = RowOutcome(row=number, key=values["code"], action="reject")
            report.outcomes.append(outcome)
            if len(cells) > len(table.headers):
                outcome.reason = (f"the row has {len(cells)} cells but the header {len(table.headers)}; "
                                  "a quote or delimiter may be missing")
                continue
            site_code = values.get("site", "")
            if site_code in MULTISITE:
                site_code = ""
            site = lookups.sites.get(site_code)
            if site_code and site is None:
                outcome.reason = f"site: there is no site with code {site_code!r}"
                continue
            if self.sites is not None and (site is None or site.pk not in self.sites):
                outcome.reason = (f"site: your account does not administer site {site_code}" if site else
                                  "site: a code valid on every site is for an administrator; give one of your sites")
                continue
            key = (site.pk if site else None, normalize_account_code(values["code"]))
            original = existing.get(key)
            data = AccountCodeForm.values(original, lookups) if original else {
                "code": "", "description": "", "site": "", "privacy_digits": 0, "cost_center": "",
                "replace_with_description": False,
            }
            data["code"], data["site"] = values["code"], site_code
            problems = []
            for name in ("description", "privacy_digits", "cost_center", "replace_with_description"):
                if name not in columns:
                    continue
                if name == "replace_with_description":
                    try:
                        data[name] = parse_bool(values[name], default=False)
                    except ValueError as exc:
                        problems.append(f"{name}: {exc}")
                elif name == "privacy_digits":
                    data[name] = values[name] or "0"
                else:
                    data[name] = values[name]
            form = AccountCodeForm(data, instance=copy.copy(original) if original else AccountCode(),
                                   lookups=lookups)
            if not form.is_valid():
                problems.append(form.error_text())
            if key[1] and key in seen:
                problems.append(f"code {values['code']!r} for {'site ' + site_code if site_code else 'every site'} "
                                f"is also on row {seen[key]}")
            seen.setdefault(key, number)
            if problems:
                outcome.reason = "; ".join(problems)
                continue
            account = form.instance
            changes = [] if original is None else [
                name.removesuffix("_id") for name in self.FIELDS if getattr(original, name) != getattr(account, name)
            ]
            outcome.action = "insert" if original is None else ("update" if changes else "unchanged")
            outcome.changes = changes
            plans.append(AccountPlan(outcome, account, original, changes))
        if not report.refused and not self.dry_run:
            try:
                with transaction.atomic():
                    AccountCode.objects.bulk_create(
                        [self._normalized(p.account) for p in plans if p.original is None], batch_size=BATCH
                    )
                    AccountCode.objects.bulk_update(
                        [self._normalized(p.account) for p in plans if p.original is not None and p.changes],
                        ["code", "normalized", "description", "site", "privacy_digits", "cost_center",
                         "replace_with_description"], batch_size=BATCH,
                    )
                report.applied = True
            except (IntegrityError, DatabaseError) as exc:
                report.error = f"the database refused the changes ({str(exc).strip()}); nothing was changed."
        report.seconds = time.perf_counter() - started
        return report

    @staticmethod
    def _normalized(account: AccountCode) -> AccountCode:
        account.normalized = normalize_account_code(account.code)
        return account


def import_accounts(path, **options) -> ImportReport:
    return AccountImport(path, **options).run()


def accounts_table(accounts=None) -> tuple[list[str], Iterator[list[str]]]:
    """Every account code (or those of the ``accounts`` queryset), in the import's columns."""
    chosen = accounts if accounts is not None else AccountCode.objects.all()
    rows = (
        [a.code, a.description, a.site.code if a.site else "", str(a.privacy_digits),
         a.cost_center.code if a.cost_center else "", yes_no(a.replace_with_description)]
        for a in chosen.select_related("site", "cost_center").order_by(
            F("site__code").asc(nulls_first=True), "normalized"
        )
    )
    return list(ACCOUNT_COLUMNS), rows


def export_accounts(target, file_format: str = "csv", bom: bool = False) -> int:
    headers, rows = accounts_table()
    return write_table(headers, rows, file_format, target, bom=bom)


__all__ = [
    "ImportReport", "PeopleImport", "AccountImport", "import_people", "import_accounts", "export_people",
    "export_accounts", "people_table", "accounts_table", "FileRefused",
]
