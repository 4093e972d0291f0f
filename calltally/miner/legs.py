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
its own: :func:`plan` decides, from the rows stored under some keys, which rows
become legs, which become calls of their own again and what every merged call
holds; :class:`calltally.miner.pipeline.SiteMiner` fetches the rows and the
store (:mod:`calltally.miner.store`) writes the plan.

The rule
--------
* Legs of one key are one call when each starts within :data:`MERGE_GAP` of
  the end of the legs before it; a key the PBX reuses later (a Call ID counter
  reset by a restart) starts a new call. A key shared by more than
  :data:`MAX_ROWS_PER_KEY` records is no call id, and is not merged on.
* A *loose leg* is a record of the key that belongs to no extension (a queue's
  or a follow-me's Local channel, a leg sent on to another PBX): it tells
  whether and how long the call was answered, but never leads the call nor
  pays for it. A key whose records are all loose legs makes no call: they
  stay discarded calls (``Cannot recognise call type``) until their call's
  other records arrive.
* The *lead* leg is the first leg (by start, then spool order) that is inbound
  or outbound; a call made only of internal legs is led by its first leg. The
  merged call takes from the lead its direction, remote party, numbers and
  devices, and starts when the first leg started; where the call ended up
  (final called number, destination device) is the last answered leg's.
* It is answered when any leg was answered; otherwise its disposition is the
  lead's. Unanswered legs of an answered call are therefore no missed calls.
* Talk time: the answered legs' talk intervals (a leg that was not answered
  adds nothing, whatever times its record holds), overlapping time counted once
  (a consultation held while the first party waits is not added twice). For a
  PBX whose records all carry the call's start and follow each other (IP
  Office segments), the legs' talk times are added up.
  Ring time: until the first answer; for an unanswered call, the longest ring.
* Who pays is the site's ``transfer_billing``, among the legs of an extension:
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
from dataclasses import dataclass, field
from decimal import Decimal

from calltally.vocabulary import ANSWERED, CALL, INBOUND, INTERNAL, LEG, MERGED, OUTBOUND

# Legs of one key further apart than this are different calls.
MERGE_GAP = dt.timedelta(hours=2)
# More records than this under one key is no call id (a PBX or mapping that writes one
# value for every call): such records stay calls of their own. A queue call ringing
# 20 agents for 10 rounds is 200 records.
MAX_ROWS_PER_KEY = 500
ORIGINATOR = "originator"
LAST_EXTENSION = "last_extension"

# Taken from the charged leg.
CHARGED_FIELDS = ("extension_number", "extension_id", "person_id", "cost_center_id", "billing_enabled")
# What a merged call's row keeps of its own: everything else is worked out from its legs.
IDENTITY = ("id", "site_id", "segment_id", "raw_offset", "leg_key", "kind")

Leg = dict  # a row of the calls table by column name (see calltally.miner.rows.CALL_ROW), with its id
Rate = Callable[..., object]  # SiteRater.rate


def _order(leg: Leg) -> tuple:
    return (leg["start"], leg["segment_id"] or 0, leg["raw_offset"] or 0)


def end_of(leg: Leg) -> dt.datetime:
    """When a leg ended, as far as its ring and talk times tell."""
    return leg["start"] + dt.timedelta(seconds=leg["ring_seconds"] + leg["talk_seconds"])


def attributed(leg: Leg) -> bool:
    """Whether a leg belongs to an extension (a loose leg does not)."""
    return bool(leg["extension_number"])


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
    the sum for legs that follow each other with a shared start. Only answered
    legs talk: an unanswered leg's record may carry an answer time (some
    Asterisk versions fill it on NO ANSWER rows), never talk."""
    answered = [leg for leg in legs if leg["answered"] and leg["talk_seconds"] > 0]
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
    """The merged call of the legs of one call (in call order, two or more, at least
    one of them attributed to an extension).

    Returns a row of the same columns; ``id``, ``kind``, ``segment_id``,
    ``raw_offset`` and ``leg_key`` are the caller's to set. A column the rule
    does not work out is the lead's.
    """
    own = [leg for leg in legs if attributed(leg)]
    lead = next((leg for leg in own if leg["direction"] != INTERNAL), own[0])
    answered = [leg for leg in legs if leg["answered"]]
    start = legs[0]["start"]
    merged: Leg = dict(lead)
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

    answered_own = [leg for leg in answered if attributed(leg)]
    if billing == LAST_EXTENSION:
        charged = answered_own[-1] if answered_own else lead
    elif lead["direction"] == INBOUND:
        charged = answered_own[0] if answered_own else lead
    else:
        charged = lead
    for name in CHARGED_FIELDS:
        merged[name] = charged[name]

    coded = lead if lead["account_code"] else next((leg for leg in own if leg["account_code"]), lead)
    merged["account_code"] = coded["account_code"]
    merged["account"] = coded["account"]
    merged["account_unallocated"] = coded["account_unallocated"]

    # The lead's connection, priced once over its whole talk time.
    connection = [
        leg for leg in own if leg["direction"] == lead["direction"] and leg["e164"] == lead["e164"]
    ]
    if len(connection) == 1:
        cost, billed, unrated = lead["cost"], lead["billed_seconds"], lead["unrated"]
        tariff, prefix, band, currency = lead["tariff"], lead["rated_prefix"], lead["band"], lead["currency"]
    else:
        rating = rate(
            e164=lead["e164"], direction=lead["direction"], start=lead["start"],
            talk_seconds=talk_seconds(connection, in_sequence), answered=any(leg["answered"] for leg in connection),
            device=lead["dest_device"] if lead["direction"] == OUTBOUND else lead["orig_device"],
            category=lead["category"],
        )
        cost, billed, unrated = rating.cost, rating.billed_seconds, rating.unrated
        tariff, prefix, band, currency = rating.tariff, rating.prefix, rating.band, rating.currency
        if rating.category:
            merged["category"] = rating.category
        if rating.destination:
            merged["destination"] = rating.destination
    cost = Decimal(cost)
    members = {id(leg) for leg in connection}
    for leg in own:
        if id(leg) not in members and leg["direction"] == OUTBOUND:
            cost += leg["cost"]
            billed += leg["billed_seconds"]
            unrated = unrated or leg["unrated"]
    merged.update(
        cost=cost, billed_seconds=billed, unrated=unrated, tariff=tariff, rated_prefix=prefix, band=band,
        currency=currency,
    )
    return merged


@dataclass
class Plan:
    """What merging changes in the calls table, worked out by :func:`plan`."""

    to_leg: list[int] = field(default_factory=list)  # ids of rows that become legs
    to_call: list[int] = field(default_factory=list)  # ids of legs that are calls of their own again
    stale: list[int] = field(default_factory=list)  # ids of merged calls that no longer stand for a call
    updates: list[tuple[int, Leg]] = field(default_factory=list)  # (id, values) of merged calls kept
    inserts: list[tuple[str, Leg]] = field(default_factory=list)  # (key, values) of new merged calls
    joined: list[tuple[int, int]] = field(default_factory=list)  # (segment, offset) of loose legs with a call
    alone: list[tuple[int, int]] = field(default_factory=list)  # (segment, offset) of loose legs without one
    merged_calls: int = 0
    merged_legs: int = 0


def plan(rows_by_key: dict[str, list[Leg]], rate: Rate, billing: str = ORIGINATOR,
         in_sequence: bool = False) -> Plan:
    """Bring the merged calls of some keys up to date with the rows stored under them
    (every row of each key: calls, legs and merged calls)."""
    out = Plan()
    for key, rows in rows_by_key.items():
        existing = sorted((r for r in rows if r["kind"] == MERGED), key=lambda r: r["start"])
        for cluster in clusters(r for r in rows if r["kind"] != MERGED):
            loose = [(leg["segment_id"], leg["raw_offset"]) for leg in cluster if not attributed(leg)]
            if len(loose) == len(cluster):
                out.alone.extend(loose)  # no record of an extension: no call (yet)
                continue
            out.joined.extend(loose)
            if len(cluster) == 1:
                if cluster[0]["kind"] != CALL:
                    out.to_call.append(cluster[0]["id"])
                continue
            out.to_leg.extend(leg["id"] for leg in cluster if leg["kind"] != LEG)
            values = merge(cluster, rate, billing, in_sequence)
            out.merged_calls += 1
            out.merged_legs += len(cluster)
            # Keep the merged call's id (links to it stay valid) when it is still the same call.
            first, last = cluster[0]["start"], max(end_of(leg) for leg in cluster)
            match = next((r for r in existing if first - MERGE_GAP <= r["start"] <= last), None)
            if match is not None:
                existing.remove(match)
                out.updates.append((match["id"], values))
            else:
                out.inserts.append((key, values))
        out.stale.extend(r["id"] for r in existing)
    return out
