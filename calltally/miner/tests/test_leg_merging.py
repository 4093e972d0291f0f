"""Call-leg merging end to end: records → legs + one merged call, through the real Miner."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from calltally.calls.models import Call, DiscardedCall
from calltally.directory.models import Extension
from calltally.miner.pipeline import SiteMiner
from calltally.sites.models import Site
from calltally.spool.services import spool_file

pytestmark = pytest.mark.django_db

IPO_SMDR = Path(__file__).parents[2] / "drivers" / "tests" / "fixtures" / "avaya_ipo_smdr.txt"
CME_SYSLOG = Path(__file__).parents[2] / "drivers" / "tests" / "fixtures" / "cisco_cme_syslog.txt"
CUCM12 = Path(__file__).parents[2] / "drivers" / "tests" / "fixtures" / "cucm12_cdr.csv"

# Asterisk cdr_csv with newcdrcolumns: a call from outside to ring group 600, which rings
# phones 201, 202 and 203 at once; 202 answers. One row per phone, one linkedid.
HEAD = '"","0612345678","600","from-pstn","""Bianchi"" <0612345678>","PJSIP/trunk-00000010",'
RING_GROUP = "\n".join([
    HEAD + '"PJSIP/201-00000011","Dial","PJSIP/201&PJSIP/202&PJSIP/203,30","2026-03-02 11:00:00","",'
           '"2026-03-02 11:00:09",9,0,"NO ANSWER","DOCUMENTATION","1772445600.10","","","1772445600.10",11',
    HEAD + '"PJSIP/202-00000012","Dial","PJSIP/201&PJSIP/202&PJSIP/203,30","2026-03-02 11:00:00",'
           '"2026-03-02 11:00:09","2026-03-02 11:04:09",249,240,"ANSWERED","DOCUMENTATION","1772445600.10","","",'
           '"1772445600.10",12',
    HEAD + '"PJSIP/203-00000013","Dial","PJSIP/201&PJSIP/202&PJSIP/203,30","2026-03-02 11:00:00","",'
           '"2026-03-02 11:00:09",9,0,"NO ANSWER","DOCUMENTATION","1772445600.10","","","1772445600.10",13',
    # A call of its own: 201 calls out.
    '"","201","00223456789","from-internal","""Alice"" <201>","PJSIP/201-00000020","PJSIP/trunk-00000021","Dial",'
    '"PJSIP/00223456789@trunk,60","2026-03-02 12:00:00","2026-03-02 12:00:05","2026-03-02 12:02:05",125,120,'
    '"ANSWERED","DOCUMENTATION","1772449200.20","","","1772449200.20",21',
]) + "\n"

PLN_PLAN = """
name = "Orange 2026"
carrier = "Orange"
currency = "PLN"
valid_from = "2026-01-01"
default_band = "all"

[[rates]]
prefix = "48"
destination = "Poland"
rate_per_minute = { all = "0.1000" }
connection_fee = "0.2000"
first_increment = 60
next_increment = 60
"""


@pytest.fixture
def asterisk(make_site, spool, tmp_path):
    site = make_site("HQ")
    Extension.objects.bulk_create([Extension(site=site, number=n) for n in ("201", "202", "203")])
    path = tmp_path / "Master.csv"
    path.write_text(RING_GROUP)
    return site, path


def test_a_ring_group_to_three_phones_answered_by_one_is_one_answered_inbound_call(asterisk, cli):
    site, path = asterisk
    summary = json.loads(cli("import", "--site", "HQ", str(path), "--json"))
    assert (summary["calls"], summary["merged_calls"], summary["merged_legs"]) == (4, 1, 3)
    call = Call.objects.get(direction="inbound")
    assert (call.kind, call.answered, call.disposition, call.talk_seconds, call.ring_seconds) == (
        "merged", True, "answered", 240, 9)
    assert (call.extension_number, call.remote_number) == ("202", "0612345678")
    # Where the call ended up: the phone that answered.
    assert (call.final_called, call.dest_device) == ("202", "PJSIP/202")
    # The two phones that only rang are no missed calls …
    assert not Call.objects.filter(answered=False).exists()
    assert Call.objects.count() == 2
    # … but every leg is kept for the call's detail.
    legs = list(call.legs())
    assert [(leg.kind, leg.extension_number, leg.answered) for leg in legs] == [
        ("leg", "201", False), ("leg", "202", True), ("leg", "203", False)]
    assert all(leg.merged_call() == call for leg in legs)
    assert Call.objects.get(direction="outbound").kind == "call"


def test_a_ring_group_nobody_answers_is_one_missed_call(asterisk, cli):
    site, path = asterisk
    path.write_text(RING_GROUP.replace('"2026-03-02 11:00:09","2026-03-02 11:04:09",249,240,"ANSWERED"',
                                       '"","2026-03-02 11:00:09",9,0,"NO ANSWER"'))
    cli("import", "--site", "HQ", str(path))
    missed = Call.objects.get(direction="inbound")
    assert (missed.kind, missed.answered, missed.disposition, missed.extension_number) == (
        "merged", False, "no_answer", "201")


def test_legs_read_in_separate_batches_merge_the_same_as_in_one(asterisk):
    site, path = asterisk
    spool_file(site, path)
    summary = SiteMiner(site).mine(batch_size=1)
    assert summary.total_calls == 4
    call = Call.objects.get(direction="inbound")
    assert (call.kind, call.extension_number, call.talk_seconds) == ("merged", "202", 240)
    assert Call.rows.filter(kind="merged").count() == 1
    assert Call.rows.filter(kind="leg").count() == 3


def test_a_site_that_does_not_merge_keeps_one_call_per_record(asterisk, cli):
    site, path = asterisk
    cli("site", "set", "HQ", "--no-merge-legs")
    cli("import", "--site", "HQ", str(path))
    assert Call.objects.count() == Call.rows.count() == 4
    assert Call.objects.filter(direction="inbound", answered=False).count() == 2


def test_an_ip_office_transfer_is_one_call_charged_to_the_originator_priced_once(ipo, cli, tmp_path):
    plan = tmp_path / "plan.toml"
    plan.write_text(PLN_PLAN)
    cli("tariff", "load", str(plan))
    cli("site", "set", "WAW", "--tariff", "Orange 2026")
    cli("import", "--site", "WAW", str(IPO_SMDR))
    call = Call.objects.get(pbx_call_id="1000107")
    legs = list(call.legs())
    assert [(leg.extension_number, leg.talk_seconds) for leg in legs] == [("4001", 50), ("4002", 175)]
    assert (call.kind, call.direction, call.extension_number, call.talk_seconds) == ("merged", "outbound", "4001", 225)
    # 225 s in 60 s increments: 4 minutes, one connection fee; the legs alone would pay two.
    assert call.cost == Decimal("0.6000") and call.billed_seconds == 240
    assert sum(leg.cost for leg in legs) == Decimal("0.8000")


def test_with_last_extension_pays_the_transfer_is_charged_to_the_extension_it_ended_on(ipo, cli):
    cli("import", "--site", "WAW", str(IPO_SMDR))
    merged_id = Call.objects.get(pbx_call_id="1000107").pk
    out = cli("site", "set", "WAW", "--transfer-billing", "last-extension")
    assert "calltally recalc --site WAW" in out
    assert Site.objects.get(code="WAW").transfer_billing == "last_extension"
    # The rule applies to calls made from now on, and to older ones once recalculated.
    assert Call.objects.get(pbx_call_id="1000107").extension_number == "4001"
    cli("recalc", "--site", "WAW")
    call = Call.objects.get(pbx_call_id="1000107")
    assert (call.pk, call.extension_number, call.talk_seconds) == (merged_id, "4002", 225)
    assert Call.rows.filter(kind="merged").count() == 2
    assert Call.objects.count() == 11


def test_a_leg_made_again_by_reprocessing_joins_its_call(ipo, cli):
    Extension.objects.filter(site=ipo, number="4002").delete()
    cli("import", "--site", "WAW", str(IPO_SMDR))
    # 4002's segment of the transfer is discarded; the other segment is a call of its own.
    assert DiscardedCall.objects.filter(extension_number="4002").exists()
    alone = Call.objects.get(pbx_call_id="1000107")
    assert (alone.kind, alone.talk_seconds) == ("call", 50)
    Extension.objects.create(site=ipo, number="4002")
    cli("reprocess", "--site", "WAW")
    merged = Call.objects.get(pbx_call_id="1000107")
    assert (merged.kind, merged.talk_seconds, merged.extension_number) == ("merged", 225, "4001")
    assert Call.rows.filter(pbx_call_id="1000107", kind="leg").count() == 2


def test_a_recalculation_that_makes_a_leg_disappear_undoes_its_merge(ipo, cli):
    cli("import", "--site", "WAW", str(IPO_SMDR))
    assert Call.objects.get(pbx_call_id="1000107").kind == "merged"
    Extension.objects.filter(site=ipo, number="4002").delete()
    cli("recalc", "--site", "WAW")
    alone = Call.objects.get(pbx_call_id="1000107")
    assert (alone.kind, alone.extension_number, alone.talk_seconds) == ("call", "4001", 50)
    assert not Call.rows.filter(pbx_call_id="1000107", kind__in=["leg", "merged"]).exists()


def test_the_two_legs_of_a_cisco_gateway_call_make_one_call(make_site, spool, cli):
    site = make_site("GW", driver="cisco_cme", internal_digits_min=4, internal_digits_max=4)
    Extension.objects.bulk_create([Extension(site=site, number=n) for n in ("1001", "1002", "1003")])
    cli("import", "--site", "GW", str(CME_SYSLOG))
    pair = Call.objects.get(pbx_call_id="6C4B1C0A 2D1211D6 8006E7D2 8F1B0A71")
    assert (pair.kind, pair.direction, pair.extension_number, pair.talk_seconds) == (
        "merged", "outbound", "1001", 120)
    assert pair.legs().count() == 2


def test_a_cisco_transfer_is_one_call_by_global_call_id(make_site, spool, cli, tmp_path):
    """An inbound call answered by 1002 for 60 s, then transferred to 1003 for 120 s:
    Unified CM writes two CDRs with one globalCallID_callId."""
    import csv

    rows = list(csv.reader(CUCM12.read_text().splitlines()))
    header, types, template = rows[0], rows[1], rows[3]  # template: the inbound call to 1002
    column = {name: index for index, name in enumerate(header)}

    def cdr(**values):
        row = list(template)
        for name, value in values.items():
            row[column[name]] = str(value)
        return row

    answered = cdr(globalCallID_callId=401, dateTimeOrigination=1772442000, dateTimeConnect=1772442005,
                   dateTimeDisconnect=1772442065, duration=60, destCallTerminationOnBehalfOf=10)
    transferred = cdr(globalCallID_callId=401, dateTimeOrigination=1772442065, dateTimeConnect=1772442066,
                      dateTimeDisconnect=1772442186, duration=120, originalCalledPartyNumber=1002,
                      finalCalledPartyNumber=1003, lastRedirectDn=1002, destDeviceName="SEP0011AABBCC03",
                      joinOnBehalfOf=10)
    path = tmp_path / "cdr_transfer.csv"
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows([header, types, answered, transferred])
    site = make_site("ROME", driver="cisco_ucm", internal_digits_min=4, internal_digits_max=4)
    Extension.objects.bulk_create([Extension(site=site, number=n) for n in ("1002", "1003")])
    cli("import", "--site", "ROME", str(path))
    call = Call.objects.get()
    assert (call.kind, call.direction, call.extension_number, call.talk_seconds, call.remote_number) == (
        "merged", "inbound", "1002", 180, "0612345678")
    assert [leg.extension_number for leg in call.legs()] == ["1002", "1003"]
    cli("site", "set", "ROME", "--transfer-billing", "last-extension")
    cli("recalc", "--site", "ROME")
    assert Call.objects.get().extension_number == "1003"


def test_an_id_shared_by_more_records_than_a_call_has_is_not_merged_on(asterisk, monkeypatch, caplog):
    """A PBX (or a mapping) that writes one value for every call must not fold them into one."""
    from calltally.miner import legs as rules

    site, path = asterisk
    monkeypatch.setattr(rules, "MAX_ROWS_PER_KEY", 5)
    spool_file(site, path)
    SiteMiner(site).mine()
    assert Call.objects.get(direction="inbound").kind == "merged"  # three rows: a call
    # Three more rows with the same id arrive: six is too many, the merge is undone.
    more = path.with_name("more.csv")
    more.write_text("\n".join(RING_GROUP.splitlines()[:3]).replace("11:00:", "11:30:") + "\n")
    spool_file(site, more, source="more")
    SiteMiner(site).mine()
    assert not Call.rows.filter(kind__in=["leg", "merged"]).exists()
    assert Call.objects.filter(direction="inbound").count() == 6
    assert "more than 5 records share the call id '1772445600.10'" in caplog.text


@pytest.mark.parametrize(("share", "calls"), [(True, 1), (False, 2)])
def test_a_generic_csv_site_merges_on_its_call_id_column_when_told_to(make_site, spool, cli, tmp_path, share, calls):
    options = {"header": True, "fields": {"start": "when", "calling": "from", "called": "to",
                                          "talk_seconds": "talk", "pbx_call_id": "call"}}
    if share:
        options["legs_share_call_id"] = True
    site = make_site("GEN", driver="generic_csv", driver_options=options)
    Extension.objects.bulk_create([Extension(site=site, number=n) for n in ("201", "202")])
    path = tmp_path / "calls.csv"
    path.write_text("when,from,to,talk,call\n"
                    "2026-03-02 10:00:00,0612345678,201,0,A1\n"
                    "2026-03-02 10:00:00,0612345678,202,95,A1\n")
    cli("import", "--site", "GEN", str(path))
    assert Call.objects.count() == calls
    if share:
        call = Call.objects.get()
        assert (call.kind, call.extension_number, call.talk_seconds) == ("merged", "202", 95)
