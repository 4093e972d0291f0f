"""`calltally users import|export`: people with their extensions from CSV, TSV and XLSX files."""

from __future__ import annotations

import io
import json

import openpyxl
import pytest
import xlsxwriter
from django.core.management import call_command
from django.core.management.base import CommandError

from calltally.directory import tabular
from calltally.directory.importers import import_people
from calltally.directory.models import Extension, ExtensionAlias, Person

pytestmark = pytest.mark.django_db

HEADER = "username,first_name,last_name,email,site,extension,billing_enabled,cost_center,masked_digits\n"


def run(*args) -> tuple[str, str]:
    """A command's standard output and, when it fails, its error message."""
    out = io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=io.StringIO())
    except CommandError as exc:
        return out.getvalue(), str(exc)
    return out.getvalue(), ""


def imported(path, *options) -> dict:
    out, error = run("users", "import", str(path), "--json", *options)
    report = json.loads(out)
    report["command_error"] = error
    return report


def people() -> dict[str, Person]:
    return {p.username: p for p in Person.objects.select_related("site", "cost_center")}


def numbers(username: str) -> list[str]:
    return sorted(Extension.objects.filter(person__username=username).values_list("number", flat=True))


def test_a_comma_separated_file_creates_people_and_their_extensions(hq, sales, write):
    path = write("people.csv", HEADER + "alice,Alice,Rossi,alice@example.org,HQ,201,yes,SALES,3\n"
                                        "bob,Bob,Bianchi,,HQ,202,no,,\n")
    report = imported(path)
    assert (report["inserted"], report["updated"], report["rejected"]) == (2, 0, 0)
    assert report["applied"] is True
    found = people()
    alice = found["alice"]
    assert (alice.first_name, alice.last_name, alice.email) == ("Alice", "Rossi", "alice@example.org")
    assert (alice.site.code, alice.cost_center.code, alice.masked_digits) == ("HQ", "SALES", 3)
    assert numbers("alice") == ["201"]
    assert Extension.objects.get(number="202").billing_enabled is False
    assert found["bob"].cost_center is None and found["bob"].masked_digits == 0


def test_a_semicolon_file_from_excel_with_bom_quotes_and_crlf_is_read(hq, sales, write):
    content = ("\ufeffUsername;First name;Last name;E-mail;Site;First extension number;"
               "Enable billing for first extension number;Cost center;Masked digits\r\n"
               'alice;Alice;"Rossi; Jr.";alice@example.org;HQ;201;Yes;SALES;2\r\n'
               '"bob";"Bob ""Bobby""";"Bianchi\r\nSecond line";;HQ;202;False;;\r\n'
               "\r\n")
    report = imported(write("excel.csv", content))
    assert report["format"] == "csv"
    assert (report["inserted"], report["rejected"]) == (2, 0)
    found = people()
    assert found["alice"].last_name == "Rossi; Jr."
    assert found["bob"].first_name == 'Bob "Bobby"'
    assert found["bob"].last_name == "Bianchi\r\nSecond line"
    assert Extension.objects.get(number="202").billing_enabled is False


def test_excel_sep_line_and_utf16_unicode_text_are_understood(hq, write):
    report = imported(write("sep.csv", "sep=;\nusername;first_name;site;extension\nzoe;Zoë;HQ;210\n"))
    assert report["inserted"] == 1 and people()["zoe"].first_name == "Zoë"
    utf16 = write("unicode.txt", "username\tfirst_name\tsite\textension\nyann\tYánn\tHQ\t211\n".encode("utf-16"))
    assert imported(utf16)["inserted"] == 1
    assert people()["yann"].first_name == "Yánn"


def test_a_tsv_file_is_read(hq, write):
    report = imported(write("people.tsv", "username\tlast_name\tsite\textension\nalice\tRossi, A.\tHQ\t201\n"))
    assert report["format"] == "tsv"
    assert people()["alice"].last_name == "Rossi, A."
    assert numbers("alice") == ["201"]


def test_an_xlsx_workbook_is_read_with_numbers_and_booleans_as_excel_stores_them(hq, sales, tmp_path):
    path = tmp_path / "people.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Username", "First name", "Last name", "Site", "Extension", "Billing enabled", "Masked digits",
                  "Cost center"])
    sheet.append(["alice", "Alice", "Rossi", "HQ", 201, True, 2, "SALES"])
    sheet.append([])
    sheet.append(["bob", "Bob", None, "HQ", 202.0, False, None, None])
    workbook.save(path)
    report = imported(path)
    assert report["format"] == "xlsx"
    assert (report["inserted"], report["rejected"]) == (2, 0)
    assert numbers("alice") == ["201"] and numbers("bob") == ["202"]
    assert people()["alice"].masked_digits == 2
    assert Extension.objects.get(number="202").billing_enabled is False


def test_rows_are_numbered_as_a_spreadsheet_shows_them_in_xlsx_files(hq, tmp_path):
    path = tmp_path / "people.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, ["username", "email", "site"])
    sheet.write_row(1, 0, ["alice", "alice@example.org", "HQ"])
    sheet.write_row(4, 0, ["bob", "not an address", "HQ"])
    workbook.close()
    report = imported(path)
    assert report["details"][-1] == {"row": 5, "key": "bob", "action": "reject",
                                     "reason": "email: Enter a valid email address"}


def test_headers_match_whatever_their_case_and_common_aliases(hq, sales, write):
    content = ("USER NAME,Given Name,Surname,Mail,Site code,Department,First Extension Number,"
               "Enable Billing For First Extension Number,Second extension number,"
               "Enable billing for second extension number,DID numbers,Privacy digits\n"
               "alice,Alice,Rossi,a@example.org,HQ,SALES,201,no,251,yes,0255501 0255502,4\n")
    report = imported(write("aliases.csv", content))
    assert (report["inserted"], report["rejected"], report["unknown_columns"]) == (1, 0, [])
    alice = people()["alice"]
    assert (alice.first_name, alice.last_name, alice.cost_center.code, alice.masked_digits) == \
        ("Alice", "Rossi", "SALES", 4)
    assert numbers("alice") == ["201", "251"]
    first = Extension.objects.get(number="201")
    assert first.billing_enabled is False
    assert sorted(first.aliases.values_list("number", flat=True)) == ["0255501", "0255502"]


def test_unknown_columns_are_reported_and_ignored(hq, write):
    report = imported(write("extra.csv", "username,site,favourite colour\nalice,HQ,blue\n"))
    assert report["inserted"] == 1
    assert report["unknown_columns"] == ["favourite colour"]


def test_a_dry_run_reports_what_would_change_and_changes_nothing(hq, write):
    Person.objects.create(username="alice", first_name="Al", site=hq)
    path = write("people.csv", HEADER + "alice,Alice,Rossi,,HQ,201,yes,,\n"
                                        "bob,Bob,,,HQ,202,yes,,\n"
                                        "carol,Carol,,,XX,203,yes,,\n")
    report = imported(path, "--dry-run", "--skip-invalid")
    assert (report["inserted"], report["updated"], report["rejected"], report["applied"]) == (1, 1, 1, False)
    details = {d["row"]: d for d in report["details"]}
    assert details[2]["action"] == "update"
    assert set(details[2]["changes"]) >= {"first_name", "last_name", "extension 201 added"}
    assert details[3]["action"] == "insert"
    assert details[4] == {"row": 4, "key": "carol", "action": "reject",
                          "reason": "site: there is no site with code 'XX'"}
    assert Person.objects.get(username="alice").first_name == "Al"
    assert not Person.objects.filter(username="bob").exists()
    assert not Extension.objects.exists()
    text, _ = run("users", "import", str(path), "--dry-run", "--skip-invalid")
    assert "row 4 (carol): rejected: site: there is no site with code 'XX'" in text
    assert "row 3 (bob): insert: extension 202 added" in text
    assert "dry run: nothing was changed." in text


def test_one_bad_row_rejects_the_whole_file_with_its_row_number_and_reason(hq, write):
    path = write("people.csv", HEADER + "alice,Alice,,,HQ,201,yes,,\n"
                                        "bob,Bob,,bob-at-example,HQ,202,maybe,NOPE,-1\n"
                                        "carol,Carol,,,HQ,203,yes,,\n")
    report = imported(path)
    assert report["applied"] is False
    assert report["command_error"].startswith("1 row rejected; nothing imported")
    rejected = [d for d in report["details"] if d["action"] == "reject"]
    assert rejected == [{
        "row": 3, "key": "bob", "action": "reject",
        "reason": "email: Enter a valid email address; cost_center: there is no cost center with code 'NOPE'; "
                  "masked_digits: Ensure this value is greater than or equal to 0; "
                  "billing_enabled: 'maybe' is not yes or no (use yes/no, true/false or 1/0)",
    }]
    assert not Person.objects.exists()
    assert not Extension.objects.exists()


def test_skip_invalid_imports_the_good_rows_and_reports_the_bad_ones(hq, write):
    path = write("people.csv", HEADER + "alice,Alice,,,HQ,201,yes,,\n"
                                        ",Nobody,,,HQ,209,yes,,\n"
                                        "alice,Again,,,HQ,205,yes,,\n"
                                        "carol,Carol,,,HQ,201,yes,,\n"
                                        "dave,Dave,,,HQ,204!,yes,,\n")
    report = imported(path, "--skip-invalid")
    assert report["applied"] is True and report["command_error"] == ""
    reasons = {d["row"]: d["reason"] for d in report["details"] if d["action"] == "reject"}
    assert reasons[3] == "username is empty"
    assert reasons[4] == "username 'alice' is also on row 2"
    assert reasons[5] == "extension 201 on site HQ is also on row 2"
    assert reasons[6].startswith("extension 204!: number: Use up to 32 digits")
    assert set(people()) == {"alice"}
    assert people()["alice"].first_name == "Alice"


def test_an_extension_of_someone_not_in_the_file_is_not_taken_from_them(hq, write):
    bob = Person.objects.create(username="bob", site=hq)
    Extension.objects.create(site=hq, number="201", person=bob)
    report = imported(write("people.csv", "username,site,extension\nalice,HQ,201\n"))
    assert report["details"][0]["reason"] == ("extension 201 on site HQ belongs to bob (not in this file); "
                                              "list it on their row or free it first")
    assert Extension.objects.get(number="201").person == bob


def test_an_extension_moves_when_its_owners_row_no_longer_lists_it(hq, write):
    bob = Person.objects.create(username="bob", site=hq)
    Extension.objects.create(site=hq, number="201", person=bob)
    report = imported(write("people.csv", "username,site,extension\nalice,HQ,201\nbob,HQ,202\n"))
    assert (report["inserted"], report["updated"], report["rejected"]) == (1, 1, 0)
    assert numbers("alice") == ["201"] and numbers("bob") == ["202"]


def test_extensions_a_row_no_longer_lists_are_released_not_deleted(hq, write):
    alice = Person.objects.create(username="alice", site=hq)
    Extension.objects.create(site=hq, number="201", person=alice)
    Extension.objects.create(site=hq, number="205", person=alice)
    report = imported(write("people.csv", "username,site,extension\nalice,HQ,201\n"))
    assert report["details"][0]["changes"] == ["extension 205 released"]
    assert report["extensions"] == {"created": 0, "updated": 0, "released": 1}
    assert numbers("alice") == ["201"]
    assert Extension.objects.get(number="205").person is None


def test_a_file_without_extension_columns_leaves_extensions_alone(hq, write):
    alice = Person.objects.create(username="alice", site=hq)
    Extension.objects.create(site=hq, number="201", person=alice)
    report = imported(write("people.csv", "username,first_name\nalice,Alice\n"))
    assert report["updated"] == 1
    assert numbers("alice") == ["201"]


def test_columns_missing_from_the_file_keep_their_values(hq, sales, write):
    Person.objects.create(username="alice", first_name="Alice", email="a@example.org", site=hq, cost_center=sales,
                          masked_digits=3)
    report = imported(write("people.csv", "username,last_name\nalice,Rossi\n"))
    assert report["details"][0]["changes"] == ["last_name"]
    alice = people()["alice"]
    assert (alice.email, alice.cost_center, alice.masked_digits) == ("a@example.org", sales, 3)


def test_extensions_may_be_on_another_site_than_their_person(hq, branch, write):
    report = imported(write("people.csv", "username,site,extension,extension_site,extension_2\n"
                                          "alice,HQ,201,BR,201\n"))
    assert report["rejected"] == 0
    assert sorted(Extension.objects.values_list("site__code", "number")) == [("BR", "201"), ("HQ", "201")]


def test_aliases_clashing_with_extension_numbers_are_rejected(hq, write):
    Extension.objects.create(site=hq, number="250")
    report = imported(write("people.csv", "username,site,extension,aliases\nalice,HQ,201,250\n"))
    assert report["details"][0]["reason"] == "alias 250 is an extension number of site HQ"


def test_delete_existing_removes_people_missing_from_the_file_and_keeps_those_with_calls(hq, write):
    from calltally.calls.models import Call
    from calltally.spool.models import SpoolSegment

    gone = Person.objects.create(username="gone", site=hq)
    Extension.objects.create(site=hq, number="299", person=gone)
    kept = Person.objects.create(username="kept", site=hq)
    Extension.objects.create(site=hq, number="298", person=kept)
    segment = SpoolSegment.objects.create(site=hq, day="2026-03-02")
    Call.objects.create(site=hq, segment=segment, raw_offset=0, start="2026-03-02T10:00:00Z", direction="outbound",
                        disposition="answered", answered=True, extension_number="298", person=kept, currency="EUR")
    path = write("people.csv", "username,site,extension\nalice,HQ,201\n")
    dry = imported(path, "--delete-existing", "--dry-run")
    assert (dry["deleted"], dry["deactivated"]) == (1, 1)
    assert Person.objects.count() == 2
    report = imported(path, "--delete-existing")
    assert (report["inserted"], report["deleted"], report["deactivated"]) == (1, 1, 1)
    assert set(people()) == {"alice", "kept"}
    assert people()["kept"].active is False
    assert Call.objects.get().person.username == "kept"  # history stays
    assert Extension.objects.get(number="298").person is None
    assert Extension.objects.get(number="299").person is None


def test_people_synced_from_ldap_keep_their_directory_values(hq, write):
    Person.objects.create(username="alice", first_name="Alice", site=hq, ldap_dn="uid=alice,dc=example,dc=org",
                          ldap_values={"username": "alice", "first_name": "Alice"})
    report = imported(write("people.csv", "username,first_name,masked_digits\nalice,Alicia,4\n"))
    assert report["details"][0]["changes"] == ["masked_digits"]
    assert report["details"][0]["notes"] == ["first_name kept by the LDAP sync; the file's value is ignored"]
    alice = people()["alice"]
    assert (alice.first_name, alice.masked_digits) == ("Alice", 4)


@pytest.mark.parametrize("file_format", ["csv", "tsv", "xlsx"])
def test_an_exported_file_imports_back_as_a_no_op(hq, branch, sales, tmp_path, file_format):
    alice = Person.objects.create(username="alice", first_name="Alice", last_name="D'Arco, jr", email="a@example.org",
                                  site=hq, cost_center=sales, masked_digits=2)
    first = Extension.objects.create(site=hq, number="0201", person=alice)
    ExtensionAlias.objects.create(extension=first, number="0255501")
    Extension.objects.create(site=branch, number="301", person=alice, billing_enabled=False)
    Person.objects.create(username="room-1", last_name="Meeting room", virtual=True, active=False)
    Extension.objects.create(site=hq, number="299")  # unassigned: not in a people file
    path = tmp_path / f"people.{file_format}"
    run("users", "export", "--format", file_format, "--output", str(path))
    report = imported(path)
    assert (report["inserted"], report["updated"], report["unchanged"], report["rejected"]) == (0, 0, 2, 0)
    assert report["extensions"] == {"created": 0, "updated": 0, "released": 0}
    if file_format == "xlsx":
        sheet = openpyxl.load_workbook(path).active
        assert [c.value for c in sheet[1]][:4] == ["username", "first_name", "last_name", "email"]
        assert sheet["J2"].value == "0201"  # a text cell: the leading zero stays


def test_the_csv_export_goes_to_standard_output_with_the_import_columns(hq, cli):
    alice = Person.objects.create(username="alice", first_name="Alice", site=hq)
    Extension.objects.create(site=hq, number="201", person=alice)
    out = cli("users", "export")
    lines = out.splitlines()
    assert lines[0] == ("username,first_name,last_name,email,site,cost_center,masked_digits,active,virtual,"
                        "extension,billing_enabled,aliases")
    assert lines[1] == "alice,Alice,,,HQ,,0,yes,no,201,yes,"


def test_files_that_are_not_tables_are_refused_with_a_clear_message(hq, write, tmp_path):
    cases = {
        "binary.csv": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "is not utf-8 text: byte 0x89"),
        "latin1.csv": ("username,first_name\nzoe,Zoë\n".encode("latin-1"),
                       "is not utf-8 text: byte 0xeb on line 2 cannot be read"),
        "fake.xlsx": (b"username,site\nalice,HQ\n", "is no XLSX workbook"),
        "broken.xlsx": (b"PK\x03\x04 this is not really a zip", "is not a readable XLSX workbook"),
        "old.xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "Excel 97-2003"),
        "empty.csv": (b"  \n", "is empty"),
        "nouser.csv": (b"first_name,last_name\nA,B\n", "has no username column"),
    }
    for name, (content, message) in cases.items():
        out, error = run("users", "import", str(write(name, content)))
        assert message in error, (name, error)
    _, error = run("users", "import", str(tmp_path / "missing.csv"))
    assert "cannot read" in error
    assert not Person.objects.exists()


def test_a_file_in_another_encoding_is_read_when_told_which(hq, write):
    path = write("latin1.csv", "username,first_name\nzoe,Zoë\n".encode("cp1252"))
    _, error = run("users", "import", str(path), "--encoding", "cp1252")
    assert error == ""
    assert people()["zoe"].first_name == "Zoë"


def test_files_over_the_size_limit_are_refused(hq, write, monkeypatch):
    monkeypatch.setattr(tabular, "MAX_FILE_BYTES", 100)
    _, error = run("users", "import", str(write("big.csv", "username\n" + "someone\n" * 50)))
    assert "files over 0 MB are refused" in error or "are refused" in error
    assert not Person.objects.exists()


def test_a_5000_row_file_imports_in_one_go(hq, sales, tmp_path):
    path = tmp_path / "many.csv"
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(HEADER)
        for n in range(5000):
            handle.write(f"user{n},First{n},Last{n},user{n}@example.org,HQ,{10000 + n},{'yes' if n % 2 else 'no'},"
                         f"{'SALES' if n % 3 else ''},{n % 4}\n")
    report = import_people(path)
    assert (report.count("insert"), len(report.rejected), report.applied) == (5000, 0, True)
    assert Person.objects.count() == 5000
    assert Extension.objects.count() == 5000
    again = import_people(path)
    assert (again.count("insert"), again.count("update"), again.count("unchanged")) == (0, 0, 5000)
