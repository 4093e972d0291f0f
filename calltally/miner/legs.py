"""Call-leg merging: several records of one call become one call for reports.

A PBX often writes more than one record for one conversation: every phone a
ring group rang (Asterisk, Cisco hunt lists), every segment of a transferred
or forwarded call (IP Office continuation records, Cisco transfers, 3CX
segments), the two legs a voice gateway keeps for each call (Cisco CME). The
driver gives every such record the PBX's id for the call (``leg_key``). The
Miner stores each record as it always does, then merges the records that share
a key: they become *legs* (kept for the call-detail view, hidden from reports)
and one *merged call* stands for the conversation.

This module is the rule, in plain Python, so that it can be read and tested on
its own; :class:`calltally.miner.pipeline.SiteMiner` fetches the rows, calls
:func:`clusters` and :func:`merge`, and writes the result.

The rule
--------
* Legs of one key are one call when each starts within :data:`MERGE_GAP` of
  the end of the legs before it; a key the PBX reuses later (a Call ID counter
  reset by a restart) starts a new call. A key shared by more than
  :data:`MAX_ROWS_PER_KEY` records is no call id, and is not merged on.
* The *lead* leg is the first leg (by start, then spool order) that is inbound
  or outbound; a call made only of internal legs is led by its first leg. The
  merged call takes from the lead its direction, remote party, numbers and
  devices, and starts when the first leg started; where the call ended up
  (final called number, destination device) is the last answered leg's.
* It is answered when any leg was answered; otherwise its disposition is the
  lead's. Unanswered legs of an answered call are therefore no missed calls.
* Talk time: the legs' answered intervals, with overlapping time counted once
  (a consultation held while the first party waits is not added twice). For a
  PBX whose records all carry the call's start and follow each other (IP
  Office segments), the legs' talk times are added up.
  Ring time: until the first answer; for an unanswered call, the longest ring.
* Who pays is the site's ``transfer_billing``:
  - *originator* (default): the extension that made the call; for an inbound
    call, the extension that answered it first (the lead's when none did);
  - *last extension*: the extension of the last leg that was answered (the
    lead's when none was).
  An outbound leg forwarded out by an extension is already that extension's
  (the Miner charges a forward to the forwarder), so forwarded-to-external
  costs land on the forwarding extension under either rule.
* Cost: the lead's connection — the legs with the lead's direction and remote
  number, e.g. the segments of a transferred outside call — is priced *once*
  over its whole talk time, so a transfer never pays a second setup charge or
  a second rounding. Every other outbound leg (a forward to another outside
  number) adds its own price. Pricing columns (tariff, prefix, band) describe
  the lead's connection; billed seconds add up like the cost.
* The account code is the lead's, else the first one a leg carried.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from decimal import Decimal

from calltally.drivers.base import ANSWERED, INBOUND, INTERNAL, OUTBOUND

# Legs of one key further apart than this are different calls.
MERGE_GAP = dt.timedelta(hours=2)
# More records than this under one key is no call id (a PBX or mapping that writes one
# value for every call): such records stay calls of their own. A queue call ringing
# 20 agents for 10 rounds is 200 records.
MAX_ROWS_PER_KEY = 500
ORIGINATOR = "originator"
LAST_EXTENSION = "last_extension"

# What a leg row must hold (Call columns); the merged call is made of the same.
LEG_FIELDS = (
    "id", "kind", "segment_id", "raw_offset", "start", "direction", "disposition", "answered", "ring_seconds",
    "talk_seconds", "extension_number", "extension_id", "person_id", "cost_center_id", "billing_enabled",
    "remote_number", "dialled_number", "calling_number", "called_number", "original_called", "final_called",
    "redirecting", "orig_device", "dest_device", "account_code", "pbx_call_id", "cost", "currency", "e164",
    "category", "destination", "tariff", "rated_prefix", "band", "billed_seconds", "unrated", "account",
    "account_unallocated",
)
# Taken from the charged leg.
CHARGED_FIELDS = ("extension_number", "extension_id", "person_id", "cost_center_id", "billing_enabled")
# Taken from the lead.
LEAD_FIELDS = (
    "direction", "remote_number", "dialled_number", "calling_number", "called_number", "original_called",
    "final_called", "redirecting", "orig_device", "dest_device", "pbx_call_id", "e164", "category", "destination",
)

Leg = dict  # a row of LEG_FIELDS by name
Rate = Callable[..., object]  # SiteRater.rate


def _order(leg: Leg) -> tuple:
    return (leg["start"], leg["segment_id"] or 0, leg["raw_offset"] or 0)


def end_of(leg: Leg) -> dt.datetime:
    """When a leg ended, as far as its ring and talk times tell."""
    return leg["start"] + dt.timedelta(seconds=leg["ring_seconds"] + leg["talk_seconds"])


def clusters(legs: Iterable[Leg]) -> list[list[Leg]]:
    """The records of one key, split into calls and each in call order."""
    out: list[list[Leg]] = []
    end = None
    for leg in sorted(legs, key=_order):
        if end is None or leg["start"] > end + MERGE_GAP:
            out.append([leg])
            end = end_of(leg)
        else:
            out[-1].append(leg)
            end = max(end, end_of(leg))
    return out


def talk_seconds(legs: list[Leg], in_sequence: bool) -> int:
    """Talk time of a set of legs: overlapping answered time counted once, or
    the sum for legs that follow each other with a shared start."""
    answered = [leg for leg in legs if leg["talk_seconds"] > 0]
    if in_sequence:
        return sum(leg["talk_seconds"] for leg in answered)
    intervals = sorted(
        (leg["start"] + dt.timedelta(seconds=leg["ring_seconds"]), end_of(leg)) for leg in answered
    )
    total = dt.timedelta()
    current_start = current_end = None
    for begin, end in intervals:
        if current_end is None or begin > current_end:
            if current_end is not None:
                total += current_end - current_start
            current_start, current_end = begin, end
        elif end > current_end:
            current_end = end
    if current_end is not None:
        total += current_end - current_start
    return int(total.total_seconds())


def merge(legs: list[Leg], rate: Rate, billing: str = ORIGINATOR, in_sequence: bool = False) -> Leg:
    """The merged call of the legs of one call (in call order, two or more).

    Returns the Call columns of :data:`LEG_FIELDS` but ``id``, ``kind``,
    ``segment_id`` and ``raw_offset``.
    """
    lead = next((leg for leg in legs if leg["direction"] != INTERNAL), legs[0])
    answered = [leg for leg in legs if leg["answered"]]
    start = legs[0]["start"]
    merged: Leg = {name: lead[name] for name in LEAD_FIELDS}
    merged["start"] = start

    if answered:
        merged["answered"], merged["disposition"] = True, ANSWERED
        first = answered[0]
        merged["ring_seconds"] = int((first["start"] - start).total_seconds()) + first["ring_seconds"]
    else:
        merged["answered"], merged["disposition"] = False, lead["disposition"]
        merged["ring_seconds"] = max(
            int((leg["start"] - start).total_seconds()) + leg["ring_seconds"] for leg in legs
        )
    merged["talk_seconds"] = talk_seconds(legs, in_sequence)
    if answered:
        ended = answered[-1]
        merged["final_called"] = ended["final_called"] or ended["called_number"]
        merged["dest_device"] = ended["dest_device"]

    if billing == LAST_EXTENSION:
        charged = answered[-1] if answered else lead
    elif lead["direction"] == INBOUND:
        charged = answered[0] if answered else lead
    else:
        charged = lead
    for name in CHARGED_FIELDS:
        merged[name] = charged[name]

    coded = lead if lead["account_code"] else next((leg for leg in legs if leg["account_code"]), lead)
    merged["account_code"] = coded["account_code"]
    merged["account"] = coded["account"]
    merged["account_unallocated"] = coded["account_unallocated"]

    # The lead's connection, priced once over its whole talk time.
    connection = [
        leg for leg in legs if leg["direction"] == lead["direction"] and leg["e164"] == lead["e164"]
    ]
    if len(connection) == 1:
        cost, billed, unrated = lead["cost"], lead["billed_seconds"], lead["unrated"]
        tariff, prefix, band, currency = lead["tariff"], lead["rated_prefix"], lead["band"], lead["currency"]
    else:
        rating = rate(
            e164=lead["e164"], direction=lead["direction"], start=lead["start"],
            talk_seconds=talk_seconds(connection, in_sequence), answered=any(leg["answered"] for leg in connection),
            device=lead["dest_device"] if lead["direction"] == OUTBOUND else lead["orig_device"],
        )
        cost, billed, unrated = rating.cost, rating.billed_seconds, rating.unrated
        tariff, prefix, band, currency = rating.tariff, rating.prefix, rating.band, rating.currency
        if rating.category:
            merged["category"] = rating.category
        if rating.destination:
            merged["destination"] = rating.destination
    cost = Decimal(cost)
    members = {id(leg) for leg in connection}
    for leg in legs:
        if id(leg) not in members and leg["direction"] == OUTBOUND:
            cost += leg["cost"]
            billed += leg["billed_seconds"]
            unrated = unrated or leg["unrated"]
    merged.update(
        cost=cost, billed_seconds=billed, unrated=unrated, tariff=tariff, rated_prefix=prefix, band=band,
        currency=currency,
    )
    return merged
