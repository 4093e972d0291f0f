"""Shapes seen on real PBX captures that put wrong figures into reports, end to end.

Each test writes the records as the PBX prints them, imports them and checks
the calls a report would count.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from calltally.calls.models import Call, DiscardedCall
from calltally.directory.models import Extension
from calltally.miner.pipeline import SiteMiner
from calltally.spool.services import spool_file

pytestmark = pytest.mark.django_db

# Asterisk cdr_csv with newcdrcolumns (21 fields): an inbound call to 201 from the trunk rings the
# phone and, through a Local channel, a branch PBX (a follow-me built with a ring strategy). The
# branch answers. All three rows share the linkedid 1772445600.10.
FOLLOW_ME = [
    # The Local channel's own row: a queue/ring-strategy leg no extension of the site owns.
    '"","0612345678","q1","ringstrategy","""Bianchi"" <0612345678>","Local/q1@ringstrategy-00000001;2",'
    '"SIP/branchpbx-00000008","Dial","SIP/branchpbx/301,30","2026-03-02 10:00:02","2026-03-02 10:00:10",'
    '"2026-03-02 10:02:10",128,120,"ANSWERED","DOCUMENTATION","1772445602.12","","","1772445600.10",12',
    # The phone 201 rang 8 s and was not answered.
    '"","0612345678","201","from-pstn","""Bianchi"" <0612345678>","SIP/carrier-00000010","PJSIP/201-00000011",'
    '"Dial","PJSIP/201&Local/q1@ringstrategy,30","2026-03-02 10:00:00","","2026-03-02 10:00:10",10,0,'
    '"NO ANSWER","DOCUMENTATION","1772445600.10","","","1772445600.10",10',
    # The inbound call, bridged to the Local channel that reached the branch.
    '"","0612345678","201","from-pstn","""Bianchi"" <0612345678>","SIP/carrier-00000010",'
    '"Local/q1@ringstrategy-00000001;1","Dial","PJSIP/201&Local/q1@ringstrategy,30","2026-03-02 10:00:00",'
    '"2026-03-02 10:00:10","2026-03-02 10:02:10",130,120,"ANSWERED","DOCUMENTATION","1772445600.10","","",'
    '"1772445600.10",11',
]
# A Local-channel row whose call id no other record has: it belongs to no call.
LONELY_LOCAL = (
    '"","0698765432","q1","ringstrategy","""Verdi"" <0698765432>","Local/q1@ringstrategy-00000009;2",'
    '"SIP/branchpbx-00000019","Dial","SIP/branchpbx/301,30","2026-03-02 11:00:02","2026-03-02 11:00:10",'
    '"2026-03-02 11:01:10",68,60,"ANSWERED","DOCUMENTATION","1772449202.30","","","1772449200.29",30'
)


@pytest.fixture
def hq(make_site, spool):
    site = make_site("HQ", area_code="02")
    Extension.objects.bulk_create([Extension(site=site, number=n) for n in ("201", "202")])
    return site


def spooled(site, tmp_path, lines, name="Master.csv"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    spool_file(site, path)
    return path


def test_a_local_channel_leg_sharing_its_calls_id_is_a_leg_of_that_call_not_a_discard(hq, tmp_path):
    spooled(hq, tmp_path, FOLLOW_ME)
    summary = SiteMiner(hq).mine()
    assert not DiscardedCall.objects.exists()
    call = Call.objects.get()
    assert (call.kind, call.direction, call.extension_number, call.answered, call.talk_seconds) == (
        "merged", "inbound", "201", True, 120)
    assert call.legs().count() == 3
    assert summary.loose_legs == 1 and summary.total_discarded == 0


def test_a_local_channel_leg_mined_before_its_call_joins_it_when_the_call_arrives(hq, tmp_path):
    spooled(hq, tmp_path, FOLLOW_ME)
    miner = SiteMiner(hq)
    miner.mine(batch_size=1, max_batches=1)
    # Alone so far: shown as a discarded call, kept as a leg in case its call arrives.
    assert DiscardedCall.objects.get().reason == "unrecognised"
    miner.mine(batch_size=1)
    assert not DiscardedCall.objects.exists()
    assert Call.objects.get().legs().count() == 3
    segment = hq.spool_segments.get()
    assert (segment.records, segment.calls, segment.discarded) == (3, 3, 0)


def test_a_record_that_belongs_to_no_call_is_still_discarded(hq, tmp_path):
    spooled(hq, tmp_path, [LONELY_LOCAL])
    summary = SiteMiner(hq).mine()
    discard = DiscardedCall.objects.get()
    assert discard.reason == "unrecognised" and "q1" in discard.detail
    assert not Call.objects.exists()
    assert summary.discarded == {"Cannot recognise call type": 1}
    assert hq.spool_segments.get().discarded == 1


def test_reprocessing_keeps_a_lonely_local_leg_discarded_once(hq, tmp_path, cli):
    spooled(hq, tmp_path, [LONELY_LOCAL])
    SiteMiner(hq).mine()
    cli("reprocess", "--site", "HQ")
    assert DiscardedCall.objects.count() == 1 and not Call.objects.exists()


def test_a_local_leg_whose_call_is_discarded_again_becomes_a_discarded_call_again(hq, tmp_path, cli):
    spooled(hq, tmp_path, FOLLOW_ME)
    SiteMiner(hq).mine()
    Extension.objects.filter(site=hq, number="201").delete()
    cli("recalc", "--site", "HQ")
    # The phone's two rows now lack their extension, and the Local leg has no call to join.
    reasons = sorted(DiscardedCall.objects.values_list("reason", flat=True))
    assert reasons == ["extension_not_configured", "extension_not_configured", "unrecognised"]
    assert not Call.objects.exists()


# --- emergency numbers ------------------------------------------------------------------------------

EMERGENCY = (
    '"","201","112","from-internal","""Alice"" <201>","PJSIP/201-00000001","PJSIP/trunk-00000002","Dial",'
    '"PJSIP/112@trunk,60","2026-03-02 10:00:00","2026-03-02 10:00:02","2026-03-02 10:03:02",182,180,'
    '"ANSWERED","DOCUMENTATION","1772442000.1",""'
)
PLAN = """
name = "Carrier 2026"
carrier = "Carrier"
currency = "EUR"
valid_from = "2026-01-01"
default_band = "all"
holiday_band = "all"

[[rates]]
prefix = "39"
destination = "Italy"
rate_per_minute = "0.0300"
connection_fee = "0.0500"
first_increment = 1
next_increment = 1
minimum_duration = 0
minimum_charge = "0"
maximum_charge = ""
"""


def test_an_emergency_call_is_free_and_never_unrated(hq, tmp_path, cli):
    plan = tmp_path / "plan.toml"
    plan.write_text(PLAN)
    cli("tariff", "load", str(plan))
    cli("site", "set", "HQ", "--tariff", "Carrier 2026")
    spooled(hq, tmp_path, [EMERGENCY])
    summary = SiteMiner(hq).mine()
    call = Call.objects.get()
    assert (call.direction, call.category, call.cost, call.unrated) == ("outbound", "emergency", Decimal(0), False)
    assert summary.unrated == 0
    assert json.loads(cli("tariff", "unrated", "--json")) == []
    simulated = json.loads(cli("rate", "--site", "HQ", "112", "--at", "2026-03-02 10:00", "--talk", "180",
                               "--json"))
    assert (simulated["category"], Decimal(simulated["cost"]), simulated["unrated"]) == ("emergency", 0, False)
    assert any("free" in step for step in simulated["steps"])
    compared = json.loads(cli("tariff", "compare", "--from", "2026-03-01", "--to", "2026-03-31", "Carrier 2026",
                              "--json"))
    assert [plan["unrated"] for plan in compared["total"]["plans"]] == [0]


# --- the wrong driver -------------------------------------------------------------------------------


def test_records_read_with_the_wrong_driver_are_reported_with_the_driver_that_reads_them(
        hq, make_site, tmp_path, cli):
    from calltally.drivers.tests.helpers import FIXTURES

    ucm = FIXTURES / "cucm12_cdr.csv"
    right = make_site("RIGHT", driver="cisco_ucm", auto_acquire=True)
    expected = json.loads(cli("import", "--site", "RIGHT", str(ucm), "--json"))
    assert expected["calls"] > 0 and expected["reading_problem"] is None
    hq.driver, hq.auto_acquire = "cisco_cme", True
    hq.save()
    out = cli("import", "--site", "HQ", str(ucm))
    assert "calls stored              0" in out
    assert "cisco_ucm" in out and "calltally site set HQ --driver cisco_ucm" in out
    hq.refresh_from_db()
    assert "cisco_ucm" in hq.reading_problem
    # Fixed as the message says: the records skipped as "not calls" become calls.
    cli("site", "set", "HQ", "--driver", "cisco_ucm")
    recalculated = json.loads(cli("recalc", "--site", "HQ", "--json"))
    assert recalculated["calls"] == expected["calls"]
    assert Call.objects.filter(site=hq).count() == Call.objects.filter(site=right).count()
    hq.refresh_from_db()
    assert hq.reading_problem == ""
    # Recalculated once more, nothing is made twice.
    cli("recalc", "--site", "HQ", "--quiet")
    assert Call.objects.filter(site=hq).count() == Call.objects.filter(site=right).count()
    segment = hq.spool_segments.get()
    assert segment.records == segment.calls + segment.discarded + segment.skipped_internal + segment.skipped_other


# --- references checked per batch ----------------------------------------------------------------


def test_a_person_deleted_while_the_miner_holds_the_directory_is_no_dangling_reference(hq, tmp_path):
    from calltally.directory.models import CostCenter, Person

    sales = CostCenter.objects.create(code="SALES", name="Sales")
    alice = Person.objects.create(username="alice", last_name="Rossi", cost_center=sales)
    Extension.objects.filter(site=hq, number="201").update(person=alice)
    spooled(hq, tmp_path, [EMERGENCY])
    miner = SiteMiner(hq)  # reads the directory: 201 is Alice's, in Sales
    alice.delete()
    sales.delete()
    miner.mine()
    call = Call.objects.get()
    # As the deletions' on_delete=SET_NULL would have left it: no person, no cost center.
    assert (call.extension_number, call.person_id, call.cost_center_id) == ("201", None, None)
    assert call.extension_id is not None
    # The rollups were gathered before the deletions were seen: they follow the call as written.
    from calltally.calls.tests.test_rollups import assert_rollups_match_calls

    assert_rollups_match_calls()
