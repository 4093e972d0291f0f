"""Account codes and privacy while mining real driver input (Asterisk cdr_csv)."""

import json
import logging
from pathlib import Path

import pytest

from calltally.calls.models import Call
from calltally.directory.models import AccountCode, CostCenter, Extension, Person

ACCOUNTS = Path(__file__).parent / "fixtures" / "asterisk-accounts.csv"
pytestmark = pytest.mark.django_db


@pytest.fixture
def hq(make_site, spool):
    site = make_site("HQ")
    sales = CostCenter.objects.create(code="SALES", name="Sales")
    alice = Person.objects.create(username="alice", cost_center=sales, site=site, masked_digits=2)
    bruno = Person.objects.create(username="bruno", cost_center=sales, site=site)
    Extension.objects.create(site=site, number="201", person=alice)
    Extension.objects.create(site=site, number="202", person=bruno)
    legal = CostCenter.objects.create(code="LEGAL", name="Legal")
    shared = CostCenter.objects.create(code="SHARED", name="Shared services")
    local = CostCenter.objects.create(code="LOCAL", name="Local projects")
    AccountCode.objects.create(site=site, code="PROJ42", description="Project 42", privacy_digits=3,
                               cost_center=legal, replace_with_description=True)
    AccountCode.objects.create(site=None, code="DUP", description="Multisite dup", cost_center=shared)
    AccountCode.objects.create(site=site, code="dup", description="HQ dup", cost_center=local)
    AccountCode.objects.create(site=None, code="ALL1", description="Everywhere", cost_center=shared)
    return site


def calls(cli):
    cli("import", "--site", "HQ", str(ACCOUNTS))
    return {c.pbx_call_id: c for c in Call.objects.select_related("cost_center")}


def test_a_code_matches_case_insensitively_and_charges_its_cost_center_with_its_description(hq, cli):
    call = calls(cli)["1772442000.1"]
    assert call.account_code == "proj42"  # the original is kept as dialled
    assert call.account == "Project 42"
    assert call.cost_center.code == "LEGAL"
    assert not call.account_unallocated


def test_the_account_code_masks_the_last_digits_of_the_outside_number_at_the_source(hq, cli):
    call = calls(cli)["1772442000.1"]
    # Alice hides 2 digits, the code 3: the larger wins, in every stored number.
    assert call.remote_number == "0223456***"
    assert call.dialled_number.endswith("***") and call.e164.endswith("***")
    assert "789" not in json.dumps(cli("calls", "export", "--format", "json"))


def test_a_sites_own_code_wins_over_a_multisite_one(hq, cli):
    assert calls(cli)["1772442600.3"].cost_center.code == "LOCAL"


def test_a_multisite_code_applies_on_every_site(hq, cli):
    call = calls(cli)["1772443200.5"]
    assert (call.account, call.cost_center.code) == ("ALL1", "SHARED")


def test_an_unknown_outbound_code_is_kept_flagged_and_logged(hq, cli, caplog):
    with caplog.at_level(logging.WARNING, logger="calltally.miner"):
        call = calls(cli)["1772443800.7"]
    assert (call.account, call.account_unallocated, call.cost_center.code) == ("nope", True, "SALES")
    assert any("'nope'" in r.getMessage() and "HQ" in r.getMessage() for r in caplog.records)


def test_inbound_calls_are_untouched_by_account_codes(hq, cli):
    call = calls(cli)["1772444400.9"]
    assert call.direction == "inbound"
    assert call.cost_center.code == "SALES"
    assert call.remote_number == "0698765432"
    assert not call.account_unallocated


def test_the_persons_masked_digits_apply_without_a_code(hq, cli):
    assert calls(cli)["1772445000.11"].remote_number == "02987654**"


def test_recalculation_applies_a_code_added_later(hq, cli):
    calls(cli)
    AccountCode.objects.create(site=hq, code="NOPE", description="Found later", cost_center=CostCenter.objects.get(
        code="LEGAL"), privacy_digits=4)
    cli("recalc", "--site", "HQ", "--quiet")
    call = Call.objects.get(pbx_call_id="1772443800.7")
    assert (call.account, call.account_unallocated, call.cost_center.code) == ("NOPE", False, "LEGAL")
    assert call.account_code == "nope"
    assert call.remote_number.endswith("****")


def test_a_call_to_an_alias_number_belongs_to_its_extension(make_site, spool, cli):
    from calltally.directory.models import ExtensionAlias

    site = make_site("HQ")
    extension = Extension.objects.create(site=site, number="201", person=Person.objects.create(username="alice"))
    ExtensionAlias.objects.create(extension=extension, site=site, number="0298765000")
    line = ('"","0612345678","0298765000","from-pstn","x","PJSIP/carrier-1","PJSIP/201-2","Dial","",'
            '"2026-03-02 10:00:00","2026-03-02 10:00:05","2026-03-02 10:01:05",65,60,"ANSWERED",'
            '"DOCUMENTATION","1.1",""')
    spool.append("HQ", [line.encode()], "test")
    cli("reprocess")  # nothing discarded yet: a no-op
    from calltally.miner.pipeline import SiteMiner

    SiteMiner(site).mine()
    call = Call.objects.get()
    assert (call.direction, call.extension_number, call.person.username) == ("inbound", "201", "alice")
