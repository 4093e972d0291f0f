"""The directory's forms, as the admin and the web UI use them (one row at a time, with queries)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from calltally.directory.forms import CostCenterForm, ExtensionForm, PersonForm
from calltally.directory.models import AccountCode, CostCenter, Extension, ExtensionAlias, Person

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["costcenter", "person", "extension", "accountcode"])
def test_each_admin_list_and_add_page_answers(admin_client, hq, name):
    assert admin_client.get(reverse(f"admin:directory_{name}_changelist")).status_code == 200
    # Inspected there, never added there: the directory pages and commands validate and audit.
    assert admin_client.get(reverse(f"admin:directory_{name}_add")).status_code == 403


def test_related_rows_are_chosen_by_code_with_a_message_naming_a_wrong_one(hq, sales):
    form = PersonForm({"username": "alice", "site": "HQ", "cost_center": "SALES", "masked_digits": 2,
                       "active": True})
    assert form.is_valid(), form.errors
    alice = form.save()
    assert (alice.site, alice.cost_center, alice.masked_digits) == (hq, sales, 2)
    wrong = PersonForm({"username": "bob", "site": "ROME", "masked_digits": 0})
    assert not wrong.is_valid()
    assert wrong.error_text() == "site: there is no site with code 'ROME'"
    taken = PersonForm({"username": "alice", "masked_digits": 0})
    assert not taken.is_valid() and "already exists" in taken.error_text()
    assert not PersonForm({"username": "al ice", "masked_digits": 0}).is_valid()
    assert not PersonForm({"username": "x", "masked_digits": 21}).is_valid()


def test_an_unbound_form_shows_the_related_rows_by_code(hq, sales):
    alice = Person.objects.create(username="alice", site=hq, cost_center=sales)
    form = PersonForm(instance=alice)
    assert (form["site"].value(), form["cost_center"].value()) == ("HQ", "SALES")


def test_extension_aliases_are_saved_and_may_not_clash_with_numbers_of_the_site(hq, branch):
    form = ExtensionForm({"site": "HQ", "number": "201", "billing_enabled": True, "aliases": "0255501, 0255502"})
    assert form.is_valid(), form.errors
    extension = form.save()
    assert sorted(extension.aliases.values_list("number", flat=True)) == ["0255501", "0255502"]
    assert ExtensionAlias.objects.first().site == hq
    edit = ExtensionForm({"site": "HQ", "number": "201", "billing_enabled": True, "aliases": "0255502"},
                         instance=extension)
    assert edit.is_valid(), edit.errors
    edit.save()
    assert list(extension.aliases.values_list("number", flat=True)) == ["0255502"]
    clash = ExtensionForm({"site": "HQ", "number": "0255502", "billing_enabled": True, "aliases": ""})
    assert not clash.is_valid()
    assert clash.error_text() == "number: 0255502 is an alias of extension 201 on site HQ"
    reuse = ExtensionForm({"site": "HQ", "number": "202", "billing_enabled": True, "aliases": "201 0255502"})
    assert not reuse.is_valid()
    assert reuse.error_text() == ("aliases: 201 is an extension of site HQ, 0255502 is already an alias of "
                                  "extension 201 on site HQ")
    elsewhere = ExtensionForm({"site": "BR", "number": "0255502", "billing_enabled": True, "aliases": ""})
    assert elsewhere.is_valid(), elsewhere.errors  # numbers are unique per site only
    duplicate = ExtensionForm({"site": "HQ", "number": "201", "billing_enabled": True, "aliases": ""})
    assert not duplicate.is_valid()


def test_a_cost_center_form_refuses_a_loop(db):
    top = CostCenter.objects.create(code="TOP", name="Top")
    CostCenter.objects.create(code="LOW", name="Low", parent=top)
    form = CostCenterForm({"code": "TOP", "name": "Top", "parent": "LOW"}, instance=top)
    assert not form.is_valid()
    assert form.error_text() == ("parent: A cost center cannot be below itself: LOW is below TOP. "
                                 "Move TOP under another cost center, or make it a root")


def test_the_admin_shows_extensions_kept_by_ldap_read_only(admin_client, hq):
    alice = Person.objects.create(username="alice", site=hq, ldap_dn="uid=alice,dc=example,dc=org",
                                  ldap_values={"username": "alice", "extension": "201", "extension_site": "HQ"})
    extension = Extension.objects.create(site=hq, number="201", person=alice)
    page = admin_client.get(reverse("admin:directory_person_change", args=[alice.pk])).content.decode()
    assert 'name="extensions-0-number"' not in page  # the inline shows it, but not as a field
    form = ExtensionForm(instance=extension)
    assert form.fields["number"].disabled and form.fields["person"].disabled
    assert not form.fields["billing_enabled"].disabled


def test_an_account_code_shows_its_description_only_when_asked(db):
    assert AccountCode(code="1", description="Acme").display == "1"
    assert AccountCode(code="1", description="Acme", replace_with_description=True).display == "Acme"
