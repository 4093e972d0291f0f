"""Account codes: import/export, the list, the unallocated report, and the Miner's AccountBook."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError

from calltally.directory.accounts import AccountBook, AccountRule
from calltally.directory.forms import AccountCodeForm
from calltally.directory.models import AccountCode

pytestmark = pytest.mark.django_db

FILE = ("code,description,site,privacy_digits,cost_center,replace_with_description\n"
        "4711,Client Acme,,0,SALES,yes\n"
        "pin-9,Private calls,HQ,4,,no\n"
        "PIN-9,Branch private,BR,2,,no\n"
        "m100,Matter 100,*,,,\n")


def imported(path, *options) -> tuple[dict, str]:
    out = io.StringIO()
    try:
        call_command("accounts", "import", str(path), "--json", *options, stdout=out)
    except CommandError as exc:
        return json.loads(out.getvalue()), str(exc)
    return json.loads(out.getvalue()), ""


def test_a_file_of_codes_is_imported_with_sites_or_multisite(hq, branch, sales, write):
    report, error = imported(write("accounts.csv", FILE))
    assert error == "" and (report["inserted"], report["rejected"]) == (4, 0)
    acme = AccountCode.objects.get(code="4711")
    assert (acme.site, acme.cost_center, acme.replace_with_description, acme.display) == \
        (None, sales, True, "Client Acme")
    assert AccountCode.objects.get(site=hq).normalized == "PIN-9"
    assert AccountCode.objects.get(code="m100").site is None


def test_an_exported_file_imports_back_as_a_no_op(hq, branch, sales, write, tmp_path):
    imported(write("accounts.csv", FILE))
    path = tmp_path / "export.csv"
    call_command("accounts", "export", "--output", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    report, error = imported(path)
    assert (report["inserted"], report["updated"], report["unchanged"], error) == (0, 0, 4, "")
    out = io.StringIO()
    call_command("accounts", "export", stdout=out)
    assert out.getvalue().splitlines()[0] == "code,description,site,privacy_digits,cost_center,replace_with_description"


def test_codes_match_whatever_their_case_so_a_file_updates_rather_than_duplicates(hq, write):
    AccountCode.objects.create(code="abc", site=hq, description="old")
    report, _ = imported(write("a.csv", "code,site,description\nABC,HQ,new\n"))
    assert (report["inserted"], report["updated"]) == (0, 1)
    code = AccountCode.objects.get()
    assert (code.code, code.description) == ("ABC", "new")


def test_bad_rows_reject_the_file_with_row_numbers_unless_skipped(hq, write):
    path = write("bad.csv", "Account code;Description;Site;Privacy digits;Replace with description\n"
                            "100;Ok;HQ;1;no\n"
                            "200;;XX;1;no\n"
                            "300;;HQ;99;maybe\n"
                            "100;Again;hq;;\n"
                            "Ab c;;;;\n"
                            "400;;;;yes\n")
    report, error = imported(path)
    assert error.startswith("5 rows rejected; nothing imported")
    reasons = {d["row"]: d["reason"] for d in report["details"] if d["action"] == "reject"}
    assert reasons == {
        3: "site: there is no site with code 'XX'",
        4: "replace_with_description: 'maybe' is not yes or no (use yes/no, true/false or 1/0); "
           "privacy_digits: Ensure this value is less than or equal to 20",
        5: "site: there is no site with code 'hq'",
        6: "code: An account code cannot contain blanks or control characters",
        7: "description: Give a description to show in place of the code",
    }
    assert not AccountCode.objects.exists()
    report, error = imported(path, "--skip-invalid")
    assert error == "" and report["inserted"] == 1
    assert list(AccountCode.objects.values_list("code", flat=True)) == ["100"]


def test_the_same_code_twice_in_a_file_is_refused(hq, write):
    report, error = imported(write("dup.csv", "code,site\nx1,HQ\nX1,HQ\nx1,\n"))
    rejected = [d["reason"] for d in report["details"] if d["action"] == "reject"]
    assert rejected == ["code 'X1' for site HQ is also on row 2"]


def test_codes_are_unique_per_site_and_among_multisite_codes_whatever_their_case(hq):
    AccountCode.objects.create(code="abc", site=hq)
    AccountCode.objects.create(code="abc")
    form = AccountCodeForm({"code": "ABC", "site": "HQ", "privacy_digits": 0})
    assert not form.is_valid()
    assert "exists already for site HQ" in form.errors["code"][0]
    assert not AccountCodeForm({"code": "Abc", "site": "", "privacy_digits": 0}).is_valid()
    with pytest.raises(IntegrityError):
        AccountCode.objects.create(code="ABC")


def test_the_book_finds_codes_whatever_their_case_and_a_sites_own_code_wins(hq, branch, sales,
                                                                            django_assert_num_queries):
    AccountCode.objects.create(code="Pin-9", description="Everyone", privacy_digits=1)
    AccountCode.objects.create(code="pin-9", site=hq, description="HQ private", privacy_digits=4,
                               replace_with_description=True)
    AccountCode.objects.create(code="4711", description="Acme", cost_center=sales)
    AccountCode.objects.create(code="777", site=branch)
    with django_assert_num_queries(1):
        book = AccountBook.for_site(hq)
    assert book.lookup("PIN-9") == AccountRule(code="pin-9", description="HQ private", privacy_digits=4,
                                               cost_center_id=None, replace_with_description=True,
                                               display="HQ private")
    assert book.lookup(" 4711 ").cost_center_id == sales.pk
    assert book.lookup("4711").display == "4711"
    assert book.lookup("777") is None  # another site's code
    assert book.lookup("") is None and book.lookup("nope") is None
    assert len(book) == 2 and "pin-9" in book
    branch_book = AccountBook.for_site(branch.pk)
    assert branch_book.lookup("pin-9").description == "Everyone"
    assert branch_book.lookup("777").code == "777"


def test_the_list_shows_a_sites_codes_and_the_multisite_ones(hq, branch, cli):
    AccountCode.objects.create(code="1", site=hq)
    AccountCode.objects.create(code="2", site=branch)
    AccountCode.objects.create(code="3", description="All", replace_with_description=True)
    data = json.loads(cli("accounts", "list", "--site", "HQ", "--json"))
    assert [(d["code"], d["site"], d["display"]) for d in data] == [("3", None, "All"), ("1", "HQ", "1")]
    assert len(json.loads(cli("accounts", "list", "--json"))) == 3
    assert "SHOWN AS" in cli("accounts", "list")


def test_unallocated_codes_are_reported_from_outbound_calls_by_site_and_code(hq, branch, cli):
    from calltally.calls.models import Call
    from calltally.spool.models import SpoolSegment

    segment = SpoolSegment.objects.create(site=hq, day=dt.date(2026, 3, 2))
    other = SpoolSegment.objects.create(site=branch, day=dt.date(2026, 3, 2))
    calls = [(hq, segment, "999", "outbound", True, 9), (hq, segment, "999", "outbound", True, 11),
             (hq, segment, "888", "inbound", True, 10), (hq, segment, "4711", "outbound", False, 10),
             (branch, other, "999", "outbound", True, 12)]
    for offset, (site, seg, code, direction, unallocated, hour) in enumerate(calls):
        Call.objects.create(site=site, segment=seg, raw_offset=offset, direction=direction, disposition="answered",
                            answered=True, extension_number="201", account_code=code,
                            account_unallocated=unallocated, currency="EUR",
                            start=dt.datetime(2026, 3, 2, hour, tzinfo=dt.UTC))
    data = json.loads(cli("accounts", "unallocated", "--json"))
    assert data == [
        {"site": "BR", "account_code": "999", "calls": 1, "first_start": "2026-03-02T12:00:00+00:00",
         "last_start": "2026-03-02T12:00:00+00:00"},
        {"site": "HQ", "account_code": "999", "calls": 2, "first_start": "2026-03-02T09:00:00+00:00",
         "last_start": "2026-03-02T11:00:00+00:00"},
    ]
    assert len(json.loads(cli("accounts", "unallocated", "--site", "HQ", "--json"))) == 1
    text = cli("accounts", "unallocated", "--site", "HQ")
    assert "HQ           999                        2  2026-03-02 10:00  2026-03-02 12:00" in text
