"""`calltally ldap sync|test` against a real OpenLDAP server the tests start themselves (see slapd.py)."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from calltally.directory.forms import PersonForm
from calltally.directory.ldap import LdapConfig, LdapConfigError
from calltally.directory.models import CostCenter, Extension, Person

from .slapd import PEOPLE, READER_PASSWORD, free_port

pytestmark = [
    pytest.mark.django_db,
    # ldap3 2.9 uses names pyasn1 and ssl have deprecated (it has its own fallbacks); nothing of ours.
    pytest.mark.filterwarnings("ignore:(tagMap|typeMap) is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:ssl.match_hostname:DeprecationWarning"),
]


def synced(*options) -> dict:
    out = io.StringIO()
    call_command("ldap", "sync", "--json", *options, stdout=out)
    return json.loads(out.getvalue())


def state() -> dict:
    """Everything a sync may change, to compare before and after."""
    return {
        "people": sorted(Person.objects.values_list("username", "first_name", "email", "active", "cost_center__code",
                                                    "manager__username", "ldap_dn")),
        "extensions": sorted(Extension.objects.values_list("site__code", "number", "person__username")),
        "cost_centers": sorted(CostCenter.objects.values_list("code", "name")),
    }


def extension_of(username: str) -> list[str]:
    return sorted(Extension.objects.filter(person__username=username).values_list("number", flat=True))


def test_a_first_sync_creates_people_extensions_cost_centers_and_managers(directory, hq):
    report = synced()
    assert (report["entries"], report["created"], report["updated"], report["deactivated"], report["errors"]) == \
        (4, 4, 0, 0, 0)
    people = {p.username: p for p in Person.objects.select_related("cost_center", "manager", "site")}
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    assert (alice.first_name, alice.last_name, alice.email) == ("Alice", "Rossi", "alice@example.org")
    assert alice.ldap_dn == f"uid=alice,{PEOPLE}" and alice.is_synced
    assert alice.site == hq and alice.active
    assert extension_of("alice") == ["201"]  # ipPhone "+39 02 555 0201", last 3 digits
    assert extension_of("bob") == ["202"]  # no ipPhone: telephoneNumber
    assert extension_of("carol") == ["203"] and extension_of("dave") == []
    assert (bob.manager, carol.manager, alice.manager) == (alice, alice, None)
    assert alice.cost_center.code == "SALES" and bob.cost_center == alice.cost_center
    assert (carol.cost_center.code, carol.cost_center.name) == ("RESEARCH-DEVELOPMENT", "Research & Development")
    assert sorted(report["cost_centers_created"]) == ["RESEARCH-DEVELOPMENT", "SALES"]
    assert report["extensions"] == {"created": 3, "assigned": 0, "released": 0}


def test_a_second_sync_with_no_directory_change_changes_nothing(directory, hq):
    synced()
    before = state()
    report = synced()
    assert (report["created"], report["updated"], report["unchanged"], report["deactivated"]) == (0, 0, 4, 0)
    assert state() == before


def test_changes_in_the_directory_update_people_and_move_extensions(directory, hq):
    synced()
    directory.modify("alice", mail="alice.rossi@example.org", department="Research & Development",
                     ipPhone="+39 02 555 0202")
    directory.modify("bob", telephoneNumber="+39 02 555 0201")  # alice and bob swap phones
    directory.modify("carol", ipPhone="")
    report = synced()
    assert sorted(report["people"]["updated"]) == ["alice", "bob", "carol"]
    assert report["errors"] == 0
    alice = Person.objects.get(username="alice")
    assert alice.email == "alice.rossi@example.org"
    assert alice.cost_center.code == "RESEARCH-DEVELOPMENT"
    assert extension_of("alice") == ["202"] and extension_of("bob") == ["201"]
    assert extension_of("carol") == [] and Extension.objects.get(number="203").person is None  # released, kept


def test_people_gone_from_the_directory_are_made_inactive_and_keep_their_calls(directory, hq):
    from calltally.calls.models import Call
    from calltally.spool.models import SpoolSegment

    synced()
    carol = Person.objects.get(username="carol")
    segment = SpoolSegment.objects.create(site=hq, day=dt.date(2026, 3, 2))
    Call.objects.create(site=hq, segment=segment, raw_offset=0, start=dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC),
                        direction="outbound", disposition="answered", answered=True, extension_number="203",
                        person=carol, currency="EUR")
    directory.delete("carol")
    report = synced()
    assert report["people"]["deactivated"] == ["carol"]
    carol.refresh_from_db()
    assert carol.active is False and carol.ldap_dn  # still known, no longer active
    assert Call.objects.get().person == carol
    assert Extension.objects.get(number="203").person is None
    directory.add("carol", givenName="Carol", sn="Verdi", ipPhone="0203")
    again = synced()
    assert again["people"]["updated"] == ["carol"]
    carol.refresh_from_db()
    assert carol.active is True and extension_of("carol") == ["203"]


def test_a_dry_run_reports_the_changes_and_changes_nothing(directory, hq):
    synced()
    directory.modify("alice", givenName="Alicia")
    directory.delete("dave")
    directory.add("erin", givenName="Erin", department="Legal", ipPhone="0204")
    before = state()
    report = synced("--dry-run")
    assert report["dry_run"] is True
    assert report["people"] == {"created": ["erin"], "updated": ["alice"], "deactivated": ["dave"]}
    assert report["cost_centers_created"] == ["LEGAL"]
    assert state() == before
    out = io.StringIO()
    call_command("ldap", "sync", "--dry-run", stdout=out)
    assert "dry run: nothing was changed." in out.getvalue()


def test_a_wrong_password_is_a_clear_error_and_changes_nothing(directory, hq, monkeypatch):
    synced()
    directory.delete("dave")
    before = state()
    monkeypatch.setenv("CALLTALLY_LDAP_PASSWORD", "not the password")
    with pytest.raises(CommandError) as error:
        synced()
    assert str(error.value) == ("the server refused the bind DN and password (cn=calltally,ou=services,"
                                "dc=example,dc=org): invalid credentials")
    assert "not the password" not in str(error.value)
    assert state() == before


def test_an_unreachable_server_is_a_clear_error_and_changes_nothing(directory, hq, monkeypatch):
    synced()
    before = state()
    url = f"ldap://127.0.0.1:{free_port()}"
    monkeypatch.setenv("CALLTALLY_LDAP_URL", url)
    with pytest.raises(CommandError) as error:
        synced()
    assert str(error.value).startswith(f"cannot reach {url}: ")
    assert "refused" in str(error.value).lower()
    assert state() == before


def test_a_search_that_finds_nobody_deactivates_nobody(directory, hq, monkeypatch):
    synced()
    monkeypatch.setenv("CALLTALLY_LDAP_FILTER", "(uid=nobody-at-all)")
    with pytest.raises(CommandError, match="found nobody; nothing was changed"):
        synced()
    assert Person.objects.filter(active=True).count() == 4
    monkeypatch.setenv("CALLTALLY_LDAP_FILTER", "(objectClass=inetOrgPerson)")
    monkeypatch.setenv("CALLTALLY_LDAP_BASE_DN", "ou=nowhere,dc=example,dc=org")
    with pytest.raises(CommandError, match="base DN 'ou=nowhere,dc=example,dc=org' does not exist"):
        synced()


def test_the_attribute_map_and_a_regex_choose_what_is_read(directory, hq, monkeypatch):
    monkeypatch.setenv("CALLTALLY_LDAP_MAP", "username=uid,extension=telephoneNumber,cost_center=,manager=")
    monkeypatch.setenv("CALLTALLY_LDAP_EXTENSION_REGEX", r"555 0(\d+)$")
    report = synced()
    assert report["created"] == 4 and report["cost_centers_created"] == []
    assert extension_of("bob") == ["202"]
    assert extension_of("alice") == []  # only an ipPhone, which is no longer read
    assert Person.objects.get(username="alice").cost_center is None
    assert "cost_center" not in Person.objects.get(username="alice").synced_fields


def test_entries_that_cannot_be_synced_are_reported_and_the_others_synced(directory, hq):
    owner = Person.objects.create(username="zed", site=hq)
    Extension.objects.create(site=hq, number="203", person=owner)
    directory.add("eve", givenName="Eve", mail="not an address")
    with directory.admin() as connection:
        connection.modify(f"uid=dave,{PEOPLE}", {"sAMAccountName": [("MODIFY_DELETE", [])]})
    report = synced()
    errors = {e["dn"]: e["reason"] for e in report["error_details"]}
    assert errors == {
        f"uid=carol,{PEOPLE}": "extension 203 on site HQ belongs to zed; the person is synced without it",
        f"uid=eve,{PEOPLE}": "email: Enter a valid email address",
        f"uid=dave,{PEOPLE}": "no sAMAccountName to make a username of",
    }
    assert sorted(report["people"]["created"]) == ["alice", "bob", "carol"]
    assert extension_of("zed") == ["203"] and extension_of("carol") == []


def test_a_person_imported_before_is_taken_over_by_username(directory, hq):
    alice = Person.objects.create(username="alice", first_name="Al", site=hq, masked_digits=3)
    report = synced()
    assert report["people"]["updated"] == ["alice"]
    alice.refresh_from_db()
    assert (alice.first_name, alice.masked_digits, alice.ldap_dn) == ("Alice", 3, f"uid=alice,{PEOPLE}")


def test_synced_fields_are_read_only_in_the_forms_and_the_admin(directory, hq, admin_client):
    synced()
    alice = Person.objects.get(username="alice")
    form = PersonForm(instance=alice)
    assert form.fields["first_name"].disabled and form.fields["email"].disabled
    assert form.fields["cost_center"].disabled and form.fields["active"].disabled
    assert not form.fields["masked_digits"].disabled and not form.fields["virtual"].disabled
    data = {**PersonForm.values(alice), "first_name": "Mallory", "masked_digits": 5}
    edited = PersonForm(data, instance=alice)
    assert edited.is_valid(), edited.errors
    edited.save()
    alice.refresh_from_db()
    assert (alice.first_name, alice.masked_digits) == ("Alice", 5)
    page = admin_client.get(reverse("directory:person_edit", args=[alice.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="first_name"' in html and "disabled" in html.split('name="first_name"')[1].split(">")[0]
    assert "Kept by the LDAP directory sync" in html


def test_starttls_and_ldaps_are_used_and_certificates_checked(directory, hq, monkeypatch):
    if not directory.ldaps_url:
        pytest.skip("openssl is not installed: no certificate for the TLS tests")
    monkeypatch.setenv("CALLTALLY_LDAP_CA_FILE", directory.ca_file)
    monkeypatch.setenv("CALLTALLY_LDAP_URL", directory.url.replace("127.0.0.1", "localhost"))
    monkeypatch.setenv("CALLTALLY_LDAP_STARTTLS", "true")
    out = io.StringIO()
    call_command("ldap", "test", stdout=out)
    assert "connected    encrypted (TLS)" in out.getvalue()
    monkeypatch.setenv("CALLTALLY_LDAP_STARTTLS", "false")
    monkeypatch.setenv("CALLTALLY_LDAP_URL", directory.ldaps_url)
    assert synced()["created"] == 4
    monkeypatch.delenv("CALLTALLY_LDAP_CA_FILE")
    with pytest.raises(CommandError, match="TLS with .* failed: .*certificate verify failed"):
        synced()


def test_ldap_test_shows_the_settings_and_people_but_never_the_password(directory, hq, cli):
    out = cli("ldap", "test")
    assert READER_PASSWORD not in out
    assert "password     (set)" in out
    assert "search found 4 entries" in out
    assert "extension='201'" in out or "extension='202'" in out
    data = json.loads(cli("ldap", "test", "--json"))
    assert data["entries"] == 4 and data["encrypted"] is False
    assert READER_PASSWORD not in json.dumps(data)


def test_wrong_settings_are_named_in_the_error():
    with pytest.raises(LdapConfigError, match="CALLTALLY_LDAP_URL is not set"):
        LdapConfig.from_env({})
    base = {"CALLTALLY_LDAP_URL": "ldap://dc1", "CALLTALLY_LDAP_BASE_DN": "dc=example,dc=org"}
    with pytest.raises(LdapConfigError, match="must look like ldap://HOST"):
        LdapConfig.from_env({**base, "CALLTALLY_LDAP_URL": "http://dc1"})
    with pytest.raises(LdapConfigError, match="MAP entry 'phone=ipPhone' must be FIELD=ATTRIBUTE"):
        LdapConfig.from_env({**base, "CALLTALLY_LDAP_MAP": "phone=ipPhone"})
    with pytest.raises(LdapConfigError, match="BIND_DN is set but no password"):
        LdapConfig.from_env({**base, "CALLTALLY_LDAP_BIND_DN": "cn=x"})
    with pytest.raises(LdapConfigError, match="STARTTLS is for ldap:// URLs"):
        LdapConfig.from_env({**base, "CALLTALLY_LDAP_URL": "ldaps://dc1", "CALLTALLY_LDAP_STARTTLS": "yes"})
    with pytest.raises(LdapConfigError, match="EXTENSION_REGEX is not a valid regular expression"):
        LdapConfig.from_env({**base, "CALLTALLY_LDAP_EXTENSION_REGEX": "(("})
    config = LdapConfig.from_env({**base, "CALLTALLY_LDAP_BIND_DN": "cn=x", "CALLTALLY_LDAP_PASSWORD": "s3cret"})
    assert "s3cret" not in repr(config) and "s3cret" not in str(config.describe())


def test_the_password_may_come_from_a_file(tmp_path):
    secret = tmp_path / "ldap-password"
    secret.write_text("from a file\n")
    config = LdapConfig.from_env({"CALLTALLY_LDAP_URL": "ldap://dc1", "CALLTALLY_LDAP_BASE_DN": "dc=x",
                                  "CALLTALLY_LDAP_BIND_DN": "cn=x", "CALLTALLY_LDAP_PASSWORD_FILE": str(secret)})
    assert config.password == "from a file"


def test_extension_numbers_are_extracted_by_digits_or_regex():
    base = {"CALLTALLY_LDAP_URL": "ldap://dc1", "CALLTALLY_LDAP_BASE_DN": "dc=x"}
    assert LdapConfig.from_env(base).extension_from("+39 02 555-0201") == "390255502" "01"
    digits = LdapConfig.from_env({**base, "CALLTALLY_LDAP_EXTENSION_DIGITS": "4"})
    assert digits.extension_from("+39 02 555-0201") == "0201"
    assert digits.extension_from("ext. 12") == "12"
    regex = LdapConfig.from_env({**base, "CALLTALLY_LDAP_EXTENSION_REGEX": r"x(\d+)"})
    assert regex.extension_from("+1 555 0100 x4711") == "4711"
    assert regex.extension_from("+1 555 0100") == ""
