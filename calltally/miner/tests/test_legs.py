"""The leg-merging rule on its own (calltally.miner.legs), without a database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from calltally.miner import legs as rules
from calltally.rating.engine import Rating

T0 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
_offsets = iter(range(1, 10**9))


def leg(start=0, ring=0, talk=0, direction="inbound", extension="201", e164="+390612345678", cost="0",
        billed=0, account="", **extra) -> dict:
    row = {
        "id": next(_offsets), "kind": "call", "segment_id": 1, "raw_offset": next(_offsets),
        "start": T0 + dt.timedelta(seconds=start), "direction": direction,
        "disposition": "answered" if talk else "no_answer", "answered": talk > 0, "ring_seconds": ring,
        "talk_seconds": talk, "extension_number": extension, "extension_id": int(extension),
        "person_id": None, "cost_center_id": None, "billing_enabled": True, "remote_number": e164[3:],
        "dialled_number": "", "calling_number": "", "called_number": "", "original_called": "",
        "final_called": "", "redirecting": "", "orig_device": "", "dest_device": "", "account_code": account,
        "pbx_call_id": "k", "cost": Decimal(cost), "currency": "EUR", "e164": e164, "category": "fixed",
        "destination": "Italy", "tariff": "", "rated_prefix": "", "band": "", "billed_seconds": billed,
        "unrated": False, "account": account, "account_unallocated": False,
    }
    row.update(extra)
    return row


class PerSecond:
    """A stand-in rater: 0.10 setup plus 0.01 a second, so one rating and two differ."""

    def __init__(self):
        self.calls = []

    def __call__(self, *, e164, direction, start, talk_seconds, answered, device="", category=""):
        self.calls.append((e164, direction, start, talk_seconds))
        cost = Decimal("0.10") + Decimal("0.01") * talk_seconds if talk_seconds else Decimal(0)
        return Rating(cost, "EUR", "Plan (2026-01-01)", "39", "peak", talk_seconds, "", "", False)


def test_a_ring_group_answered_by_one_phone_is_one_answered_call_with_that_phones_talk_time():
    ring_group = [leg(ring=9, extension="201"), leg(ring=9, talk=240, extension="202"), leg(ring=9, extension="203")]
    merged = rules.merge(ring_group, PerSecond())
    assert (merged["answered"], merged["disposition"], merged["talk_seconds"], merged["ring_seconds"]) == (
        True, "answered", 240, 9)
    # The inbound call belongs to the phone that took it.
    assert merged["extension_number"] == "202"


def test_a_ring_group_nobody_answered_is_one_missed_call_with_the_longest_ring():
    merged = rules.merge([leg(ring=20, extension="201"), leg(ring=25, extension="202")], PerSecond())
    assert (merged["answered"], merged["disposition"], merged["ring_seconds"]) == (False, "no_answer", 25)
    assert merged["extension_number"] == "201"


def test_overlapping_talk_is_counted_once_and_separate_talk_adds_up():
    overlapping = [leg(ring=5, talk=100), leg(start=30, talk=100, direction="internal")]
    assert rules.talk_seconds(overlapping, in_sequence=False) == 125  # 5..105 and 30..130
    apart = [leg(talk=60), leg(start=120, talk=30)]
    assert rules.talk_seconds(apart, in_sequence=False) == 90


def test_segments_that_share_the_calls_start_add_their_talk_times():
    segments = [leg(ring=3, talk=50), leg(talk=175)]
    assert rules.talk_seconds(segments, in_sequence=True) == 225


def test_a_transferred_outbound_call_is_priced_once_and_charged_per_the_sites_rule():
    rate = PerSecond()
    first = leg(ring=3, talk=50, direction="outbound", extension="201", cost="0.60", billed=50)
    second = leg(talk=175, direction="outbound", extension="202", cost="1.85", billed=175)
    merged = rules.merge([first, second], rate, rules.ORIGINATOR, in_sequence=True)
    # One setup charge over 225 s, not 0.60 + 1.85.
    assert merged["cost"] == Decimal("2.35") and merged["billed_seconds"] == 225
    assert rate.calls == [("+390612345678", "outbound", first["start"], 225)]
    assert (merged["direction"], merged["extension_number"], merged["talk_seconds"]) == ("outbound", "201", 225)
    last = rules.merge([first, second], PerSecond(), rules.LAST_EXTENSION, in_sequence=True)
    assert last["extension_number"] == "202" and last["cost"] == merged["cost"]


def test_a_forward_to_an_outside_number_adds_its_own_price_to_the_inbound_call():
    inbound = leg(ring=15, extension="204")
    forward = leg(talk=180, direction="outbound", extension="204", e164="+393331234567", cost="0.90", billed=180)
    merged = rules.merge([inbound, forward], PerSecond())
    assert (merged["direction"], merged["remote_number"], merged["extension_number"]) == (
        "inbound", inbound["remote_number"], "204")
    assert merged["cost"] == Decimal("0.90") and merged["billed_seconds"] == 180
    assert merged["answered"] and merged["talk_seconds"] == 180


def test_an_internal_consultation_does_not_lead_an_outside_call():
    consult = leg(direction="internal", talk=20, extension="201", e164="")
    outside = leg(start=1, talk=100, direction="outbound", extension="201", cost="1.10", billed=100)
    merged = rules.merge([consult, outside], PerSecond())
    assert merged["direction"] == "outbound" and merged["cost"] == Decimal("1.10")


def test_the_account_code_is_the_leads_or_else_the_first_a_leg_carried():
    merged = rules.merge([leg(ring=5), leg(talk=10, account="4711")], PerSecond())
    assert merged["account_code"] == "4711"


def test_a_key_reused_hours_later_is_another_call():
    morning = [leg(talk=60), leg(start=30, talk=60)]
    afternoon = [leg(start=6 * 3600, talk=10)]
    groups = rules.clusters(afternoon + morning)
    assert [len(group) for group in groups] == [2, 1]
    assert groups[0][0]["start"] == T0


@given(st.lists(st.tuples(st.integers(0, 3600), st.integers(0, 60), st.integers(0, 900)), min_size=1, max_size=8))
def test_merged_talk_never_exceeds_the_sum_nor_falls_below_the_longest_leg(specs):
    parts = [leg(start=s, ring=r, talk=t) for s, r, t in specs]
    talk = rules.talk_seconds(parts, in_sequence=False)
    assert max(t for _, _, t in specs) <= talk <= sum(t for _, _, t in specs)
    assert rules.talk_seconds(parts, in_sequence=True) == sum(t for _, _, t in specs)
