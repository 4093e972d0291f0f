"""Which calls a batch of driver outcomes holds: direction, extension, remote party.

Plain Python, no database: a :class:`Classifier` is built from what the Miner
loaded about a site (its extensions, its extension plan, its rules) and sorts
each driver outcome of a batch into one of

* a call of one of the site's numbers: (direction, extension, remote number);
* a *loose leg*: a record the site cannot attribute (neither party is an
  extension: a queue's or a follow-me's Local channel) that carries the
  PBX's call id, so it may be a leg of a call made of other records —
  merging decides (see :mod:`calltally.miner.legs`);
* a discarded call, with its reason;
* a counted skip (an internal call of a site that does not keep them, a header).

How the direction is told
-------------------------
The driver's hint wins where the PBX says (trunk names, dialplan contexts).
Otherwise the site's extension plan decides: extension → extension is
internal, extension → outside is outbound, outside → extension is inbound;
an emergency number that looks like an extension (112, 911) is outbound.
An outbound call forwarded out of the PBX is charged to the extension that
forwarded it; an inbound call that went on to something that is no extension
(a voicemail pilot, a hunt group) belongs to the extension that was called.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from calltally.drivers.base import CdrRecord, Reject, Skip
from calltally.vocabulary import EMERGENCY, INBOUND, INTERNAL, OUTBOUND, UNRECOGNISED

# What the Miner knows of one extension (or of an alias or DID number standing for it):
# (extension id, person id, cost center id, billing enabled, digits to mask, the extension's number)
ExtensionInfo = tuple[int, "int | None", "int | None", bool, int, str]


@dataclass(slots=True)
class Sorted:
    """A batch's records sorted by what they make; items keep spool order."""

    # (spool record, CDR record, direction, extension number, remote number)
    calls: list[tuple] = field(default_factory=list)
    # (spool record, CDR record, why no extension is recognised)
    loose: list[tuple] = field(default_factory=list)
    # (spool record, reason, detail, start or None, extension number)
    discards: list[tuple] = field(default_factory=list)
    skipped_internal: int = 0
    skipped_other: int = 0
    rejected: int = 0  # records the driver could not read (among the discards)
    # Numbers of calls whose extension the site does not have (yet).
    unknown: set[str] = field(default_factory=set)


class Classifier:
    """Tells a site's calls apart. Built once per batch run; the extensions mapping
    is shared with the Miner, which adds automatically acquired extensions to it."""

    def __init__(
        self, *, site_code: str, plan_text: str, extensions: Mapping[str, ExtensionInfo],
        in_plan: Callable[[str], bool], category_of: Callable[[str], str], import_internal: bool,
        keep_loose_legs: bool,
    ):
        self.site_code = site_code
        self.plan_text = plan_text
        self.extensions = extensions
        self.in_plan = in_plan
        self.category_of = category_of  # the numbering category of a dialled number
        self.import_internal = import_internal
        self.keep_loose_legs = keep_loose_legs

    def is_extension(self, number: str) -> bool:
        return bool(number) and (number in self.extensions or self.in_plan(number))

    def classify(self, rec: CdrRecord) -> tuple[str, str, str] | str:
        """(direction, extension number, remote number), or why it cannot be told."""
        calling = rec.calling
        target = rec.final_called or rec.called or rec.original_called
        hint = rec.direction_hint
        if hint is None:
            calling_is_ext = self.is_extension(calling)
            target_is_ext = self.is_extension(target)
            if calling_is_ext and target_is_ext:
                # An emergency number may look like an extension (112, 911); it is never internal.
                hint = OUTBOUND if self.category_of(target) == EMERGENCY else INTERNAL
            elif calling_is_ext:
                hint = OUTBOUND
            elif target_is_ext:
                hint = INBOUND
            else:
                return (
                    f"neither the calling number {calling!r} nor the called number {target!r} "
                    f"is an extension of site {self.site_code} ({self.plan_text})"
                )
        if hint == OUTBOUND:
            extension = calling
            # A call forwarded out of the PBX is charged to the extension that forwarded it.
            if not self.is_extension(calling) and self.is_extension(rec.redirecting):
                extension = rec.redirecting
            return OUTBOUND, extension, rec.called or target
        if hint == INBOUND:
            # The extension that took the call — unless it went on to something that is
            # no extension of ours (a voicemail pilot, a hunt group): then the one called.
            if target not in self.extensions:
                for number in (rec.called, rec.original_called):
                    if number in self.extensions:
                        return INBOUND, number, calling
            return INBOUND, target, calling
        return INTERNAL, calling, target

    def sort(self, records: list, outcomes: list) -> Sorted:
        """Sort a batch: ``records`` are spool records, ``outcomes`` the driver's answers to them."""
        out = Sorted()
        calls, loose, discards, unknown = out.calls, out.loose, out.discards, out.unknown
        classify, extensions = self.classify, self.extensions
        keep_internal, keep_loose = self.import_internal, self.keep_loose_legs
        for record, outcome in zip(records, outcomes, strict=True):
            kind = type(outcome)
            if kind is CdrRecord:
                verdict = classify(outcome)
                if type(verdict) is str:
                    # A record that shares its call id with other records may be a leg of their
                    # call (a queue's Local channel): never discarded for want of an extension
                    # while its call may still be made. Merging decides.
                    if keep_loose and outcome.leg_key:
                        loose.append((record, outcome, verdict))
                    else:
                        discards.append((record, UNRECOGNISED, verdict, outcome.start, ""))
                    continue
                direction, extension, remote = verdict
                if direction == INTERNAL and not keep_internal:
                    out.skipped_internal += 1
                    continue
                if extension not in extensions:
                    unknown.add(extension)
                calls.append((record, outcome, direction, extension, remote))
            elif kind is Skip:
                out.skipped_other += 1
            elif kind is Reject:
                out.rejected += 1
                discards.append((record, UNRECOGNISED, outcome.detail, None, ""))
            else:  # a driver returned something outside its contract
                discards.append((record, UNRECOGNISED, f"driver returned {kind.__name__}", None, ""))
        return out

