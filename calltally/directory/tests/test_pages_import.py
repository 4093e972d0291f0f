"""Importing people, extensions and account codes from the web: a preview first, then a confirmation."""

from __future__ import annotations

import html
import io
import re

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from calltally.audit.models import AuditEvent
from calltally.directory import tabular
from calltally.directory.models import AccountCode, CostCenter, Extension, Person

pytestmark = pytest.mark.django_db

PEOPLE = ("username,first_name,last_name,site,cost_center,extension\n"
          "anna,Anna,Rossi,HQ,SALES,201\n"
          "bruno,Bruno,Bianchi,NOPE,SALES,202\n"
          "carla,Carla,Verdi,HQ,,203\n")


def url(name: str) -> str:
    return reverse(f"directory:{name}")


def upload(client, address, name: str, content: str | bytes, **fields):
    data = content.encode() if isinstance(content, str) else content
    return client.post(address, {"file": SimpleUploadedFile(name, data), "upload": "1", **fields})


def text(response) -> str:
    return html.unescape(response.content.decode())


def token(response) -> str:
    return re.search(r'name="token" value="([^"]+)"', response.content.decode()).group(1)


@pytest.fixture
def hq(make_site):
    return make_site("HQ")


@pytest.fixture
def sales(db):
    return CostCenter.objects.create(code="SALES", name="Sales")


def test_a_people_file_with_a_bad_row_is_previewed_with_its_row_and_reason_and_nothing_is_written(
        admin_client, hq, sales, tmp_path):
    preview = upload(admin_client, url("person_import"), "people.csv", PEOPLE)
    shown = text(preview)
    assert preview.status_code == 200
    assert "nothing is written yet" in shown
    assert re.search(r'<td class="num">3</td>\s*<td><span class="badge badge-error">rejected</span>'
                     r"<div class=\"small\">site: there is no site with code 'NOPE'</div>", shown)
    assert "Import the valid rows, skip the 1 rejected" in shown
    assert not Person.objects.exists() and not Extension.objects.exists()
    # The same reason, word for word, as the command line gives for the same file.
    path = tmp_path / "people.csv"
    path.write_text(PEOPLE)
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("users", "import", str(path), stdout=out)
    cli_line = next(line for line in out.getvalue().splitlines() if line.startswith("row 3"))
    assert cli_line == "row 3 (bruno): rejected: site: there is no site with code 'NOPE'"


def test_the_corrected_file_is_uploaded_again_and_imported_on_confirmation(admin_client, hq, sales):
    upload(admin_client, url("person_import"), "people.csv", PEOPLE)
    fixed = upload(admin_client, url("person_import"), "people.csv", PEOPLE.replace("NOPE", "HQ"))
    shown = text(fixed)
    assert "rejected</span>" not in shown and "Import 3 rows" in shown
    assert not Person.objects.exists()
    done = admin_client.post(url("person_import"), {"confirm": "all", "token": token(fixed)})
    result = text(done)
    assert "Imported people.csv" in result
    assert re.search(r"<strong>3</strong> created", done.content.decode())
    assert sorted(Person.objects.values_list("username", flat=True)) == ["anna", "bruno", "carla"]
    assert Extension.objects.get(number="202").person.username == "bruno"
    event = AuditEvent.objects.get(action="configuration")
    assert event.details["what"] == "people import" and event.details["inserted"] == 3
    # The same file again changes nothing.
    again = upload(admin_client, url("person_import"), "people.csv", PEOPLE.replace("NOPE", "HQ"))
    assert "The file changes nothing" in text(again)


def test_the_valid_rows_can_be_imported_alone_and_the_rejected_ones_are_named(admin_client, hq, sales):
    preview = upload(admin_client, url("person_import"), "people.csv", PEOPLE)
    done = admin_client.post(url("person_import"), {"confirm": "valid-rows", "token": token(preview)})
    assert "Row 3 (bruno): site: there is no site with code 'NOPE'" in text(done)
    assert sorted(Person.objects.values_list("username", flat=True)) == ["anna", "carla"]


def test_a_confirmation_without_its_upload_imports_nothing(admin_client, hq, sales):
    preview = upload(admin_client, url("person_import"), "people.csv", PEOPLE.replace("NOPE", "HQ"))
    stale = admin_client.post(url("person_import"), {"confirm": "all", "token": token(preview) + "x"}, follow=True)
    assert "no longer waiting to be imported" in text(stale)
    assert not Person.objects.exists()


def test_a_file_that_is_no_table_is_refused_with_the_reason(admin_client, hq):
    refused = upload(admin_client, url("person_import"), "people.xls", b"\xd0\xcf\x11\xe0" + b"\0" * 100)
    assert refused.status_code == 400
    assert "old Excel 97-2003 workbook" in text(refused)
    no_username = upload(admin_client, url("person_import"), "people.csv", "name,site\nanna,HQ\n")
    assert "has no username column" in text(no_username)


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(admin_client, hq, monkeypatch):
    from calltally.directory import views

    monkeypatch.setattr(views, "MAX_FILE_BYTES", 100)
    refused = upload(admin_client, url("person_import"), "people.csv", "username\n" + "someone\n" * 50)
    assert refused.status_code == 400 and "files over" in text(refused)


def test_a_site_administrators_import_may_not_touch_another_sites_people(role_client, hq, make_site, sales):
    branch = make_site("BR")
    Person.objects.create(username="carl", site=branch)
    client = role_client("site-admin", sites=[hq])
    preview = upload(client, url("person_import"), "people.csv",
                     "username,site\nanna,HQ\nbeppe,BR\ncarl,HQ\n")
    shown = text(preview)
    assert "site: your account does not administer site BR" in shown
    assert "carl is not on one of your sites; your account cannot change them" in shown
    assert "Remove the people who are not in the file" not in shown  # an administrator's option


def test_an_xlsx_file_is_previewed_and_imported(admin_client, hq, sales, tmp_path):
    path = tmp_path / "people.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["username", "site", "extension"])
    sheet.append(["anna", "HQ", 201])
    workbook.save(path)
    preview = upload(admin_client, url("extension_import"), "people.xlsx", path.read_bytes())
    assert "XLSX" in text(preview)
    admin_client.post(url("extension_import"), {"confirm": "all", "token": token(preview)})
    assert Extension.objects.get(number="201").person.username == "anna"


def test_an_account_code_file_is_checked_like_the_command_line_checks_it(admin_client, hq, tmp_path):
    content = "code,description,site,privacy_digits,replace_with_description\n1234,Rossi,HQ,2,no\n9999,,*,21,yes\n"
    preview = upload(admin_client, url("accountcode_import"), "codes.csv", content)
    shown = text(preview)
    path = tmp_path / "codes.csv"
    path.write_text(content)
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("accounts", "import", str(path), stdout=out)
    reason = next(line for line in out.getvalue().splitlines() if line.startswith("row 3")).split("rejected: ")[1]
    assert "privacy_digits" in reason and reason in shown
    assert not AccountCode.objects.exists()
    fixed = upload(admin_client, url("accountcode_import"), "codes.csv",
                   content.replace(",21,yes", ",2,no").replace("9999,,", "9999,Shared,"))
    done = admin_client.post(url("accountcode_import"), {"confirm": "all", "token": token(fixed)})
    assert "Imported codes.csv" in text(done)
    assert AccountCode.objects.count() == 2


def test_the_people_file_exported_from_the_page_imports_back_unchanged(admin_client, hq, sales):
    anna = Person.objects.create(username="anna", first_name="Anna", site=hq, cost_center=sales)
    Extension.objects.create(site=hq, number="0201", person=anna)
    exported = admin_client.get(url("person_import") + "?export=csv")
    assert exported["Content-Disposition"].startswith('attachment; filename="people-')
    content = exported.content.decode("utf-8-sig")
    assert content.splitlines()[1].startswith("anna,Anna,,,HQ,SALES,0,yes,no,0201")
    again = upload(admin_client, url("person_import"), "people.csv", content)
    assert "The file changes nothing" in text(again)
    workbook = admin_client.get(url("person_import") + "?export=xlsx")
    path_rows = tabular.read_xlsx(workbook.content, "people.xlsx").rows
    assert path_rows[0][1][9] == "0201"
