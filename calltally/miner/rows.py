"""Call rows from classified records: numbering, rating, account codes, privacy.

Plain Python, no database: a :class:`RowMaker` is given the site's normalizer,
rater and account book (as functions) and the widths of the calls table's
text columns, and turns the calls a :class:`~calltally.miner.classify.Classifier`
found into rows ready to insert, in the column order :data:`CALL_ROW` names.
The store (:mod:`calltally.miner.store`) fills every other column of the
calls table with its model default, so a new column with a default needs no
change here.

For every external call, in this order:

1. the remote number is normalized by the site's numbering (E.164, category,
   destination), without the outside-line access code;
2. the call is priced by the site's tariffs (the rating engine's formula);
3. an account code on an outbound call charges it to the account's cost
   center, and may show the account's description and hide digits;
4. privacy: the digits the person or the account hides are masked *before*
   the row exists, so no report or export can leak them (the spool keeps the
   original for recalculation).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable, Mapping
from decimal import Decimal

from calltally.directory.privacy import mask
from calltally.drivers.base import decode
from calltally.vocabulary import CALL, EXTENSION_NOT_CONFIGURED, INTERNAL, LEG, OUTBOUND, UNRECOGNISED

from .classify import ExtensionInfo

log = logging.getLogger("calltally.miner")

# The columns of a call row, in the order the row maker writes them.
CALL_ROW = (
    "site_id", "segment_id", "raw_offset", "start", "direction", "disposition", "answered",
    "ring_seconds", "talk_seconds", "extension_number", "extension_id", "person_id", "cost_center_id",
    "billing_enabled", "remote_number", "dialled_number", "calling_number", "called_number",
    "original_called", "final_called", "redirecting", "orig_device", "dest_device", "account_code",
    "pbx_call_id", "cost", "currency", "e164", "category", "destination", "tariff", "rated_prefix", "band",
    "billed_seconds", "unrated", "account", "account_unallocated", "leg_key", "kind",
)
LEG_KEY_AT = CALL_ROW.index("leg_key")
KIND_AT = CALL_ROW.index("kind")
# The columns of a discarded call's row, in order.
DISCARD_ROW = (
    "site_id", "segment_id", "raw_offset", "reason", "detail", "raw_text", "received", "start",
    "extension_number", "created",
)
# Discarded calls show this much of the raw record; the spool keeps all of it.
RAW_TEXT_LIMIT = 20000
ZERO = Decimal(0)
# Warnings per batch about unknown account codes; the rest are counted in one line.
UNALLOCATED_LOG_LIMIT = 20


class BatchRows:
    """The rows one batch makes, and what they say about it."""

    __slots__ = ("calls", "discards", "loose", "by_direction", "discarded", "unrated", "unallocated")

    def __init__(self):
        self.calls: list[tuple] = []
        self.discards: list[tuple] = []
        self.loose: list[tuple[int, int]] = []  # (segment id, raw offset) of the loose legs written
        self.by_direction: Counter = Counter()
        self.discarded: Counter = Counter()  # by reason
        self.unrated = 0
        self.unallocated = 0


class RowMaker:
    """Makes one site's call and discard rows."""

    def __init__(
        self, *, site_id: int, site_code: str, currency: str, extensions: Mapping[str, ExtensionInfo],
        normalize: Callable[[str, bool], object], rate: Callable, lookup_account: Callable, adapt_instant: Callable,
        widths: Mapping[str, int], discard_widths: Mapping[str, int], merging: bool,
        parse_instant: Callable[[str], dt.datetime],
    ):
        self.site_id = site_id
        self.site_code = site_code
        self.currency = currency
        self.extensions = extensions
        self.normalize = normalize
        self.rate = rate
        self.lookup_account = lookup_account
        self.adapt = adapt_instant
        self.widths = widths
        self.discard_widths = discard_widths
        self.merging = merging
        self.parse_instant = parse_instant

    def make(self, segment_id: int, calls: list[tuple], loose: list[tuple], discards: list[tuple]) -> BatchRows:
        """Rows for a batch's calls, loose legs and discarded calls (as :class:`Classifier.sort` gives them)."""
        out = BatchRows()
        discards = list(discards)
        self._calls(segment_id, calls, out, discards)
        now = self.adapt(dt.datetime.now(dt.UTC))
        if loose:
            self._loose(segment_id, loose, out, now)
        for record, reason, detail, start, extension in discards:
            out.discarded[reason] += 1
            out.discards.append(self.discard_row(segment_id, record, reason, detail, start, extension, now))
        return out

    def _calls(self, segment_id: int, calls: list[tuple], out: BatchRows, discards: list[tuple]) -> None:
        w = self.widths
        w_ext, w_num, w_dev, w_code = w["extension_number"], w["remote_number"], w["orig_device"], w["account_code"]
        w_id, w_dest, w_tariff = w["pbx_call_id"], w["destination"], w["tariff"]
        w_prefix, w_band, w_account, w_key = w["rated_prefix"], w["band"], w["account"], w["leg_key"]
        rows = out.calls
        by_direction = out.by_direction
        extensions, normalize, rate, lookup, adapt = (
            self.extensions, self.normalize, self.rate, self.lookup_account, self.adapt)
        site_id, site_code, merging = self.site_id, self.site_code, self.merging
        unallocated_seen: list[tuple[str, str, dt.datetime]] = []
        for record, rec, direction, extension, remote in calls:
            known = extensions.get(extension)
            if known is None:
                discards.append((record, EXTENSION_NOT_CONFIGURED,
                                 f"extension {extension!r} is not configured on site {site_code}", rec.start,
                                 extension))
                continue
            ext_id, person_id, cc_id, billing, privacy, extension = known
            by_direction[direction] += 1
            dialled = called = rec.called
            calling = rec.calling
            original_called, final_called = rec.original_called, rec.final_called
            outbound = direction == OUTBOUND
            if direction == INTERNAL:
                e164, category, destination = "", INTERNAL, ""
            else:
                number = normalize(remote, outbound)
                # The remote number without the outside-line access code the PBX recorded.
                remote = number.digits or remote
                e164, category, destination = number.e164, number.category, number.destination
            answered = rec.answered
            rating = rate(
                e164=e164, direction=direction, start=rec.start, talk_seconds=rec.talk_seconds,
                answered=answered, device=rec.dest_device if outbound else rec.orig_device, category=category,
            )
            if rating.unrated:
                out.unrated += 1
            account, unallocated, code = "", False, rec.account_code
            if code:
                rule = lookup(code) if outbound else None
                if rule is not None:
                    account = rule.display
                    cc_id = rule.cost_center_id or cc_id
                    privacy = max(privacy, rule.privacy_digits)
                else:
                    account = code
                    # Only outbound calls are charged to accounts; an unknown code there is a warning.
                    unallocated = outbound
                    if outbound:
                        out.unallocated += 1
                        unallocated_seen.append((code, rec.pbx_call_id, rec.start))
            if privacy and direction != INTERNAL:
                # Privacy at the source: the hidden digits never reach the database.
                remote, e164 = mask(remote, privacy), mask(e164, privacy)
                if outbound:
                    dialled = called = mask(called, privacy)
                    original_called, final_called = mask(original_called, privacy), mask(final_called, privacy)
                else:
                    calling = mask(calling, privacy)
            rows.append((
                site_id, segment_id, record.offset, adapt(rec.start), direction, rec.disposition, answered,
                rec.ring_seconds, rec.talk_seconds, extension[:w_ext], ext_id, person_id, cc_id, billing,
                remote[:w_num], dialled[:w_num], calling[:w_num], called[:w_num], original_called[:w_num],
                final_called[:w_num], rec.redirecting[:w_num], rec.orig_device[:w_dev], rec.dest_device[:w_dev],
                code[:w_code], rec.pbx_call_id[:w_id], rating.cost, rating.currency, e164,
                rating.category or category, (rating.destination or destination)[:w_dest], rating.tariff[:w_tariff],
                rating.prefix[:w_prefix], rating.band[:w_band], rating.billed_seconds, rating.unrated,
                account[:w_account], unallocated, (rec.leg_key[:w_key] or None) if merging else None, CALL,
            ))
        for code, call_id, start in unallocated_seen[:UNALLOCATED_LOG_LIMIT]:
            log.warning("site %s: account code %r matches no account (call %s at %s)",
                        site_code, code, call_id or "?", start.isoformat())
        if len(unallocated_seen) > UNALLOCATED_LOG_LIMIT:
            log.warning("site %s: %d more calls with unallocated account codes in this batch",
                        site_code, len(unallocated_seen) - UNALLOCATED_LOG_LIMIT)

    def _loose(self, segment_id: int, loose: list[tuple], out: BatchRows, now) -> None:
        """A loose leg is stored as a leg with no extension, so that it joins its call when the
        call's other records are (or were) mined; until then it is also a discarded call, which
        merging removes once the leg has its call (so it is not counted as one here)."""
        w = self.widths
        w_num, w_dev, w_code, w_id, w_key = (
            w["remote_number"], w["orig_device"], w["account_code"], w["pbx_call_id"], w["leg_key"])
        for record, rec, why in loose:
            calling, called = rec.calling, rec.called
            original_called, final_called, redirecting = rec.original_called, rec.final_called, rec.redirecting
            rule = self.lookup_account(rec.account_code) if rec.account_code else None
            if rule is not None and rule.privacy_digits:
                digits = rule.privacy_digits
                calling, called = mask(calling, digits), mask(called, digits)
                original_called, final_called = mask(original_called, digits), mask(final_called, digits)
                redirecting = mask(redirecting, digits)
            out.calls.append((
                self.site_id, segment_id, record.offset, self.adapt(rec.start), rec.direction_hint or "",
                rec.disposition, rec.answered, rec.ring_seconds, rec.talk_seconds, "", None, None, None, True,
                "", called[:w_num], calling[:w_num], called[:w_num], original_called[:w_num],
                final_called[:w_num], redirecting[:w_num], rec.orig_device[:w_dev], rec.dest_device[:w_dev],
                rec.account_code[:w_code], rec.pbx_call_id[:w_id], ZERO, self.currency, "", "", "", "", "", "",
                0, False, rule.display if rule is not None else rec.account_code[:w_code], False,
                rec.leg_key[:w_key], LEG,
            ))
            out.loose.append((segment_id, record.offset))
            detail = f"{why}; kept as a leg of call id {rec.leg_key!r}, which it joins when the call's other " \
                     "records are mined"
            out.discards.append(self.discard_row(segment_id, record, UNRECOGNISED, detail, rec.start, "", now))

    def discard_row(self, segment_id: int, record, reason: str, detail: str, start, extension: str, now) -> tuple:
        w, adapt = self.discard_widths, self.adapt
        return (
            self.site_id, segment_id, record.offset, reason, detail[:w["detail"]], raw_text(record.raw),
            adapt(self.parse_instant(record.received)) if record.received else None,
            adapt(start) if start else None, extension[:w["extension_number"]], now,
        )


def raw_text(raw: bytes) -> str:
    """A raw record as a discarded call shows it."""
    text = decode(raw[:RAW_TEXT_LIMIT])
    # PostgreSQL text cannot hold NUL; show it the way editors do.
    return text.replace("\x00", "\\x00")
