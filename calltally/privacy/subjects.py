"""Data-subject requests: everything CallTally holds about one person or one number, exported or erased.

A *person* (a directory person, named by username) is: the person's directory entry, the accounts
linked to them, their extensions, every call attributed to them, the discarded calls of their
extension numbers, and the raw spool records those calls and discarded calls were made from.

A *number* (an outside party) is: every call one of whose numbers is it, every discarded call and
every raw spool record that holds it. Numbers are compared by their digits, without a leading
trunk or international prefix of zeros: ``0612345678``, ``+39 06 1234 5678`` and ``0039612345678``
name the same line when one ends with the other and the shorter has seven digits or more (a
shorter number — an emergency or service number — must match exactly).

A call is taken whole: its legs and its merged call go with it (a conversation is one call).

Erasing deletes the calls (taking them off the rollups, as retention does), the discarded calls,
and blanks the raw records in place (:func:`calltally.privacy.rawspool.blank`): offsets stay
valid, and mining, recalculation or reprocessing make nothing of a blank record, so nothing comes
back. A person's directory entry is anonymised (kept, so that cost center managers and history
keep their shape), their extensions are unlinked from them and their accounts deactivated. The
audit log records the request and its counts, not the erased data.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from calltally.accounts.models import Account
from calltally.audit import services as audit
from calltally.audit.choices import Action
from calltally.calls.models import Call, DiscardedCall
from calltally.directory.models import Extension, ExtensionAlias, Person
from calltally.directory.privacy import mask
from calltally.sites.models import Site
from calltally.spool.models import SpoolSegment
from calltally.spool.storage import Spool, default_spool

from . import rawspool
from .services import NUMBER_FIELDS, delete_call_rows, drop_empty_rollups

DIGIT_RUN = re.compile(r"\d+")
# Numbers shorter than this are compared whole, never as the end of a longer one.
SUFFIX_DIGITS = 7


class SubjectError(ValueError):
    """The request names nobody: the message says why."""


# --- numbers -------------------------------------------------------------------------------
def significant(number: str) -> str:
    """A number's digits without leading zeros (trunk or international prefix)."""
    return "".join(ch for ch in number if ch.isdigit()).lstrip("0")


def same_number(a: str, b: str) -> bool:
    """Whether two significant digit strings name the same line (see the module's doc)."""
    if not a or not b:
        return False
    if a == b:
        return True
    shorter = min(len(a), len(b))
    return shorter >= SUFFIX_DIGITS and (a.endswith(b) or b.endswith(a))


def holds_number(text: str, wanted: str) -> bool:
    """Whether ``text`` (a field, a raw record) has a run of digits naming ``wanted`` (significant
    digits). Runs are split at anything not a digit, so ``+39 06 1234 5678`` in a record is not
    seen as one number: CDRs write numbers without separators."""
    return any(same_number(run.lstrip("0"), wanted) for run in DIGIT_RUN.findall(text))


# --- what a request is about --------------------------------------------------------------------
@dataclass
class Footprint:
    """Everything held about one subject: rows by id, raw records by (site code, day, offset)."""

    subject: str  # "person" or "number"
    label: str  # what the audit log may keep: a person's id, a masked number
    person: Person | None = None
    number: str = ""
    call_ids: set[int] = field(default_factory=set)
    discarded_ids: set[int] = field(default_factory=set)
    records: dict[tuple[str, dt.date], set[int]] = field(default_factory=lambda: defaultdict(set))

    def record_count(self) -> int:
        return sum(len(offsets) for offsets in self.records.values())

    def counts(self) -> dict:
        calls = Call.rows.filter(pk__in=self.call_ids)
        return {"calls": calls.exclude(kind="leg").count(), "call_rows": len(self.call_ids),
                "discarded_calls": len(self.discarded_ids), "raw_records": self.record_count()}

    def describe(self) -> str:
        counts = self.counts()
        what = f"person {self.person.username}" if self.person else f"number {self.number}"
        return (f"{what}: {counts['calls']} calls ({counts['call_rows']} rows with legs), "
                f"{counts['discarded_calls']} discarded calls, {counts['raw_records']} raw spool records")


def for_person(username: str, spool: Spool | None = None) -> Footprint:
    person = Person.objects.filter(username=username).first()
    if person is None:
        raise SubjectError(f"there is no person with username {username!r} in the directory")
    found = Footprint("person", f"person #{person.pk}", person=person)
    found.call_ids = whole_calls(set(Call.rows.filter(person=person).values_list("id", flat=True)))
    numbers = defaultdict(set)
    for site_id, number in Extension.objects.filter(person=person).values_list("site_id", "number"):
        numbers[site_id].add(number)
    for site_id, number in ExtensionAlias.objects.filter(extension__person=person).values_list("site_id", "number"):
        numbers[site_id].add(number)
    discarded = Q(pk__in=[])
    for site_id, site_numbers in numbers.items():
        discarded |= Q(site_id=site_id, extension_number__in=site_numbers)
    found.discarded_ids = set(DiscardedCall.objects.filter(discarded).values_list("id", flat=True))
    add_records_of_rows(found)
    return found


def for_number(number: str, spool: Spool | None = None) -> Footprint:
    wanted = significant(number)
    if len(wanted) < 3:
        raise SubjectError(f"{number!r} is not a number: give its digits (at least three)")
    spool = spool or default_spool()
    found = Footprint("number", f"number {mask(number, max(len(wanted) - 2, 1))}", number=number)
    # The database narrows by a substring (the last digits), Python decides.
    tail = wanted[-SUFFIX_DIGITS:]
    near = Q()
    for name in NUMBER_FIELDS:
        near |= Q(**{f"{name}__contains": tail})
    ids = set()
    for pk, *values in Call.rows.filter(near).values_list("id", *NUMBER_FIELDS).iterator():
        if any(holds_number(value, wanted) for value in values if value):
            ids.add(pk)
    found.discarded_ids = {pk for pk, text in DiscardedCall.objects.filter(raw_text__contains=tail)
                           .values_list("id", "raw_text").iterator() if holds_number(text, wanted)}
    # The raw records that hold it, whatever they made (a record skipped as internal, one not mined yet).
    needle = tail.encode()
    for code in Site.objects.order_by("code").values_list("code", flat=True):
        for day, offset, line in rawspool.scan(spool, code, lambda line: needle in line):
            parts = line.split(b"\t", 2)
            if holds_number(parts[-1].decode("utf-8", "replace"), wanted):
                found.records[(code, day)].add(offset)
    # What those records made is about the number too, and a call is taken with its legs.
    made_calls, made_discards = rows_made_by(found.records)
    found.call_ids = whole_calls(ids | made_calls)
    found.discarded_ids |= made_discards
    add_records_of_rows(found)
    return found


def whole_calls(ids: set[int]) -> set[int]:
    """``ids`` with the legs and merged calls of the same conversations."""
    if not ids:
        return set()
    keys = set(Call.rows.filter(pk__in=ids, leg_key__isnull=False).values_list("site_id", "leg_key"))
    if not keys:
        return set(ids)
    together = Q(pk__in=[])
    for site_id, key in keys:
        together |= Q(site_id=site_id, leg_key=key)
    return set(ids) | set(Call.rows.filter(together).values_list("id", flat=True))


def segment_places(segment_ids: Iterable[int]) -> dict[int, tuple[str, dt.date]]:
    return {pk: (code, day) for pk, code, day in
            SpoolSegment.objects.filter(pk__in=set(segment_ids)).values_list("id", "site__code", "day")}


def add_records_of_rows(found: Footprint) -> None:
    """Add the raw records the footprint's calls and discarded calls were made from."""
    pairs = list(Call.rows.filter(pk__in=found.call_ids, segment__isnull=False).values_list("segment_id",
                                                                                              "raw_offset"))
    pairs += list(DiscardedCall.objects.filter(pk__in=found.discarded_ids).values_list("segment_id", "raw_offset"))
    places = segment_places(segment for segment, _ in pairs)
    for segment, offset in pairs:
        if segment in places and offset is not None:
            found.records[places[segment]].add(offset)


def rows_made_by(records: dict[tuple[str, dt.date], set[int]]) -> tuple[set[int], set[int]]:
    """The call rows and discarded calls made from these raw records."""
    calls, discards = set(), set()
    for (code, day), offsets in records.items():
        segment = SpoolSegment.objects.filter(site__code=code, day=day).values_list("id", flat=True).first()
        if segment is None or not offsets:
            continue
        calls |= set(Call.rows.filter(segment_id=segment, raw_offset__in=offsets).values_list("id", flat=True))
        discards |= set(DiscardedCall.objects.filter(segment_id=segment, raw_offset__in=offsets)
                        .values_list("id", flat=True))
    return calls, discards


def find(*, person: str | None = None, number: str | None = None, spool: Spool | None = None) -> Footprint:
    if bool(person) == bool(number):
        raise SubjectError("name either a person (username) or a number, not both")
    return for_person(person, spool) if person else for_number(number, spool)


# --- export ------------------------------------------------------------------------------------
def row_dict(obj) -> dict:
    values = {f.attname: audit.jsonable(getattr(obj, f.attname)) for f in obj._meta.concrete_fields}
    return values


def export(found: Footprint, *, spool: Spool | None = None, request=None, **details) -> dict:
    """Everything the footprint holds, as one JSON-safe dict (recorded in the audit log)."""
    spool = spool or default_spool()
    data: dict = {"request": {"subject": found.subject, "person": found.person.username if found.person else None,
                              "number": found.number or None},
                  "generated": timezone.now().isoformat()}
    if found.person is not None:
        person = found.person
        data["person"] = row_dict(person)
        data["accounts"] = [
            {"username": account.user.get_username(), "email": account.user.email, "role": account.role,
             "active": account.user.is_active, "ldap": account.ldap}
            for account in Account.objects.filter(person=person).select_related("user")]
        data["extensions"] = [
            {"site": extension.site.code, "number": extension.number,
             "aliases": [alias.number for alias in extension.aliases.all()]}
            for extension in Extension.objects.filter(person=person).select_related("site")
            .prefetch_related("aliases").order_by("number")]
    codes = dict(Site.objects.values_list("id", "code"))
    data["calls"] = [{"site": codes.get(call.site_id), **row_dict(call)}
                     for call in Call.rows.filter(pk__in=found.call_ids).order_by("start", "id")]
    data["discarded_calls"] = [{"site": codes.get(row.site_id), **row_dict(row)}
                               for row in DiscardedCall.objects.filter(pk__in=found.discarded_ids).order_by("id")]
    raw = []
    for (code, day), offsets in sorted(found.records.items()):
        raw.extend(record.as_dict() for record in rawspool.read_at(spool, code, day, offsets))
    data["raw_records"] = raw
    audit.record(request, Action.EXPORT, obj=found.person, subject=found.subject, what=found.label,
                 calls=len(data["calls"]), discarded_calls=len(data["discarded_calls"]), raw_records=len(raw),
                 **details)
    return data


def export_json(found: Footprint, **kwargs) -> bytes:
    return json.dumps(export(found, **kwargs), indent=2, ensure_ascii=False).encode()


def export_zip(found: Footprint, **kwargs) -> bytes:
    """The export as a ZIP: ``export.json`` (everything) and a CSV file per list (calls,
    discarded calls, raw records) for a spreadsheet."""
    data = export(found, **kwargs)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("export.json", json.dumps(data, indent=2, ensure_ascii=False))
        for name in ("calls", "discarded_calls", "raw_records"):
            rows = data[name]
            text = io.StringIO()
            if rows:
                writer = csv.DictWriter(text, fieldnames=list(rows[0]))
                writer.writeheader()
                writer.writerows(rows)
            archive.writestr(f"{name}.csv", text.getvalue())
    return out.getvalue()


# --- erase -------------------------------------------------------------------------------------
def erase(found: Footprint, *, spool: Spool | None = None, request=None, **details) -> dict:
    """Remove everything the footprint holds (see the module's doc); returns the counts."""
    spool = spool or default_spool()
    counts = found.counts()
    # The spool first: a record blanked cannot make its call again, so a Miner or recalculation
    # at work meanwhile can only make nothing of it.
    blanked = 0
    for (code, day), offsets in sorted(found.records.items()):
        blanked += rawspool.blank(spool, code, day, offsets)
    with transaction.atomic():
        ids = sorted(found.call_ids)
        for start in range(0, len(ids), 5000):
            delete_call_rows(ids[start:start + 5000])
        if ids:
            drop_empty_rollups()  # not even a row at zero is left of the erased calls
        DiscardedCall.objects.filter(pk__in=found.discarded_ids).delete()
        if found.person is not None:
            anonymise(found.person)
    counts["raw_records_blanked"] = blanked
    audit.record(request, Action.DELETE, obj=found.person, subject=found.subject, what=found.label,
                 erase=True, **counts, **details)
    return counts


def anonymise(person: Person) -> None:
    """A person's directory entry without what identifies them; their extensions unlinked, their
    accounts deactivated and nameless (the username stays: the audit trail names it)."""
    for account in Account.objects.filter(person=person).select_related("user"):
        user = account.user
        user.is_active = False
        user.first_name = user.last_name = user.email = ""
        user.set_unusable_password()
        user.save()
        account.person = None
        account.save(update_fields=["person"])
    Extension.objects.filter(person=person).update(person=None)
    person.username = f"erased-{person.pk}"
    person.first_name = person.last_name = person.email = ""
    person.ldap_dn, person.ldap_values, person.ldap_synced = "", {}, None
    person.active = False
    person.save()
