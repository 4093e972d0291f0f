"""The directory's pages: people, extensions, cost centers and account codes, by role."""

from __future__ import annotations

import datetime as dt
import html
import io
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from calltally.audit.models import AuditEvent
from calltally.calls.choices import Direction, Disposition
from calltally.calls.models import Call
from calltally.directory.models import AccountCode, CostCenter, Extension, ExtensionAlias, Person
from calltally.spool.models import SpoolSegment

pytestmark = pytest.mark.django_db

UTC = dt.UTC


def page(response) -> str:
    assert response.status_code == 200, response.status_code
    return html.unescape(response.content.decode())


def csv_of(response) -> str:
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode()


def url(name: str, *args) -> str:
    return reverse(f"directory:{name}", args=args)


@pytest.fixture
def hq(make_site):
    return make_site("HQ")


@pytest.fixture
def branch(make_site):
    return make_site("BR", timezone="America/New_York", currency="USD")


@pytest.fixture
def tree(db):
    acme = CostCenter.objects.create(code="ACME", name="Acme")
    sales = CostCenter.objects.create(code="SALES", name="Sales", parent=acme)
    emea = CostCenter.objects.create(code="EMEA", name="Sales EMEA", parent=sales)
    board = CostCenter.objects.create(code="BOARD", name="Board")
    return {"acme": acme, "sales": sales, "emea": emea, "board": board}


@pytest.fixture
def people(hq, branch, tree):
    anna = Person.objects.create(username="anna", first_name="Anna", last_name="Rossi", site=hq,
                                 cost_center=tree["sales"])
    bob = Person.objects.create(username="bob", site=hq, cost_center=tree["board"])
    carl = Person.objects.create(username="carl", first_name="Carl", site=branch, cost_center=tree["emea"])
    Extension.objects.create(site=hq, number="101", person=anna)
    Extension.objects.create(site=hq, number="102", person=bob, billing_enabled=False)
    Extension.objects.create(site=branch, number="101", person=carl)
    Extension.objects.create(site=hq, number="555", auto_acquired=True)
    return {"anna": anna, "bob": bob, "carl": carl}


@pytest.fixture
def clients(role_client, hq, people, tree, admin_client):
    return {
        "administrator": admin_client,
        "site-admin": role_client("site-admin", sites=[hq]),
        "manager": role_client("manager", cost_center=tree["acme"]),
        "user": role_client("user", person=people["anna"]),
    }


def make_call(site, person, **extra):
    segment, _ = SpoolSegment.objects.get_or_create(site=site, day=dt.date(2026, 3, 2))
    fields = {"direction": Direction.OUTBOUND, "disposition": Disposition.ANSWERED, "answered": True,
              "extension_number": "101", "remote_number": "+390612345678", "talk_seconds": 60,
              "currency": site.currency, "raw_offset": Call.objects.count() * 100}
    fields.update(extra)
    return Call.objects.create(site=site, segment=segment, start=dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
                               person=person, **fields)


# --- who opens what ------------------------------------------------------------------------

def every_page(people, tree):
    anna, ext = people["anna"], Extension.objects.get(site__code="HQ", number="101")
    code = AccountCode.objects.create(code="77", description="Project", site=anna.site)
    return [url("person_list"), url("person_detail", anna.pk), url("person_add"), url("person_edit", anna.pk),
            url("person_delete", anna.pk), url("person_import"),
            url("extension_list"), url("extension_detail", ext.pk), url("extension_add"),
            url("extension_edit", ext.pk), url("extension_delete", ext.pk), url("extension_import"),
            url("costcenter_list"), url("costcenter_detail", tree["sales"].pk),
            url("accountcode_list"), url("accountcode_add"), url("accountcode_edit", code.pk),
            url("accountcode_delete", code.pk), url("accountcode_import")]


def test_managers_and_users_are_refused_every_directory_page(clients, people, tree):
    for address in every_page(people, tree):
        for role in ("manager", "user"):
            assert clients[role].get(address).status_code == 403, (role, address)


def test_administrators_and_site_administrators_open_every_page_of_their_sites(clients, people, tree):
    for address in every_page(people, tree):
        for role in ("administrator", "site-admin"):
            assert clients[role].get(address).status_code == 200, (role, address)


def test_a_site_administrator_reaches_no_person_or_extension_of_another_site(clients, people):
    site_admin = clients["site-admin"]
    carl = people["carl"]
    carl_ext = Extension.objects.get(site__code="BR")
    for address in (url("person_detail", carl.pk), url("person_edit", carl.pk), url("person_delete", carl.pk),
                    url("extension_detail", carl_ext.pk), url("extension_edit", carl_ext.pk)):
        assert site_admin.get(address).status_code == 404, address
    listing = page(site_admin.get(url("person_list")))
    assert "anna" in listing and "carl" not in listing
    assert '<option value="HQ"' in listing and '<option value="BR"' not in listing  # the site filter
    assert "carl" not in page(site_admin.get(url("person_list") + "?site=BR"))
    assert site_admin.post(url("person_bulk_delete"), {"pk": [carl.pk], "confirm": "1"}).status_code == 404
    assert Person.objects.filter(pk=carl.pk).exists()


def test_a_site_administrators_csv_export_holds_only_their_sites(clients, people):
    exported = csv_of(clients["site-admin"].get(url("person_list") + "?export=csv"))
    assert exported.splitlines()[0].startswith("Username,Name")
    assert "anna" in exported and "bob" in exported and "carl" not in exported
    extensions = csv_of(clients["site-admin"].get(url("extension_list") + "?export=csv"))
    assert "BR" not in extensions and extensions.count("HQ") == 3
    everyone = csv_of(clients["administrator"].get(url("person_list") + "?export=csv"))
    assert "carl" in everyone
    assert AuditEvent.objects.filter(action="export").count() == 3


def test_a_site_administrator_can_only_put_people_on_their_own_sites(clients, people):
    site_admin = clients["site-admin"]
    form = page(site_admin.get(url("person_add")))
    assert 'value="HQ"' in form and 'value="BR"' not in form
    refused = site_admin.post(url("person_add"), {"username": "dora", "site": "BR", "masked_digits": 0,
                                                  "active": "on"})
    assert refused.status_code == 400
    assert "there is no site with code 'BR'" in html.unescape(refused.content.decode())
    added = site_admin.post(url("person_add"), {"username": "dora", "site": "HQ", "masked_digits": 0,
                                                "active": "on"})
    assert added.status_code == 302
    assert Person.objects.get(username="dora").site.code == "HQ"


def test_cost_centers_are_read_by_site_administrators_and_changed_only_by_administrators(clients, tree):
    site_admin = clients["site-admin"]
    listing = page(site_admin.get(url("costcenter_list")))
    assert "EMEA" in listing and "Add cost center" not in listing
    sales = tree["sales"]
    for address in (url("costcenter_add"), url("costcenter_edit", sales.pk), url("costcenter_move", sales.pk),
                    url("costcenter_delete", sales.pk)):
        assert site_admin.get(address).status_code == 403, address
    assert site_admin.post(url("costcenter_move", sales.pk), {"parent": ""}).status_code == 403
    assert CostCenter.objects.get(code="SALES").parent.code == "ACME"


# --- people --------------------------------------------------------------------------------

def test_the_people_list_filters_by_site_cost_center_activity_and_text_and_sorts(clients, people):
    admin = clients["administrator"]
    everyone = page(admin.get(url("person_list")))
    assert "Anna Rossi" in everyone and "101@HQ" in everyone
    by_site = page(admin.get(url("person_list") + "?site=BR"))
    assert "carl" in by_site and "anna" not in by_site
    by_center = page(admin.get(url("person_list") + "?cost_center=BOARD"))
    assert "bob" in by_center and "anna" not in by_center
    Person.objects.filter(username="bob").update(active=False)
    inactive = page(admin.get(url("person_list") + "?active=no"))
    assert "bob" in inactive and "anna" not in inactive
    found = page(admin.get(url("person_list") + "?q=ross"))
    assert "anna" in found and "carl" not in found
    ordered = page(admin.get(url("person_list") + "?sort=-username"))
    assert ordered.index(">carl<") < ordered.index(">bob<") < ordered.index(">anna<")


def test_a_persons_page_shows_their_extensions_and_links_to_their_calls_and_sign_in(clients, people, role_client):
    anna = people["anna"]
    role_client("user", person=anna, username="anna.login")
    shown = page(clients["administrator"].get(url("person_detail", anna.pk)))
    assert "101" in shown and "SALES" in shown
    assert f'{reverse("calls:call_list")}?person=anna' in shown
    assert "anna.login" in shown
    bob = page(clients["administrator"].get(url("person_detail", people["bob"].pk)))
    assert "No CallTally account signs in as bob" in bob


def test_changing_a_persons_cost_center_offers_to_recalculate_their_site_from_this_month(clients, people):
    anna = people["anna"]
    response = clients["site-admin"].post(url("person_edit", anna.pk), {
        "username": "anna", "first_name": "Anna", "last_name": "Rossi", "site": "HQ", "cost_center": "BOARD",
        "masked_digits": 0, "active": "on"}, follow=True)
    shown = page(response)
    first = dt.datetime.now(UTC).astimezone(anna.site.zone).date().replace(day=1)
    assert f'{reverse("jobs:recalculate")}?site=HQ&amp;from={first.isoformat()}' in response.content.decode()
    assert "recalculate HQ from" in shown
    event = AuditEvent.objects.get(action="update", object_type="directory.person")
    assert event.before["cost_center"] != event.after["cost_center"]


def test_a_person_with_calls_is_made_inactive_rather_than_deleted(clients, people, hq):
    anna, bob = people["anna"], people["bob"]
    make_call(hq, anna)
    question = page(clients["administrator"].get(url("person_delete", anna.pk)))
    assert "has calls" in question and "Make anna inactive?" in question
    clients["administrator"].post(url("person_delete", anna.pk))
    anna.refresh_from_db()
    assert not anna.active and not anna.extensions.exists()
    assert Call.objects.get().person_id == anna.pk
    clients["administrator"].post(url("person_delete", bob.pk))
    assert not Person.objects.filter(username="bob").exists()


def test_bulk_edit_moves_people_to_a_cost_center_through_the_person_form(clients, people):
    admin = clients["administrator"]
    chosen = [people["anna"].pk, people["carl"].pk]
    form = admin.post(url("person_bulk_edit"), {"pk": chosen})
    assert "Apply to 2" in page(form)
    done = admin.post(url("person_bulk_edit"), {"pk": chosen, "apply": "1", "cost_center": "BOARD", "active": ""},
                      follow=True)
    assert "2 people changed." in page(done)
    assert set(Person.objects.filter(cost_center__code="BOARD").values_list("username", flat=True)) == {
        "anna", "bob", "carl"}
    assert "recalculate" in page(done)
    refused = admin.post(url("person_bulk_edit"), {"pk": chosen, "apply": "1", "manager": "anna"}, follow=True)
    assert "anna: manager: A person cannot be their own manager" in page(refused)


# --- extensions ----------------------------------------------------------------------------

def test_the_extension_list_shows_owner_billing_and_origin_and_filters(clients, people):
    admin = clients["administrator"]
    shown = page(admin.get(url("extension_list")))
    assert "Anna Rossi" in shown and "bob" in shown
    assert 'badge-no">off<' in shown  # billing disabled on 102
    filtered = page(admin.get(url("extension_list") + "?number=10&site=HQ"))
    assert ">101<" in filtered and ">102<" in filtered and ">555<" not in filtered
    assert "No extensions match these filters" in page(admin.get(url("extension_list") + "?number=9"))
    unassigned = page(admin.get(url("extension_list") + "?assigned=no"))
    assert ">555<" in unassigned and ">101<" not in unassigned


def test_an_extension_is_added_with_aliases_and_refused_when_an_alias_is_taken(clients, people):
    admin = clients["administrator"]
    added = admin.post(url("extension_add"), {"site": "HQ", "number": "103", "person": "anna",
                                              "aliases": "0612345103 0612345104", "billing_enabled": "on"})
    assert added.status_code == 302
    extension = Extension.objects.get(site__code="HQ", number="103")
    assert sorted(extension.aliases.values_list("number", flat=True)) == ["0612345103", "0612345104"]
    taken = admin.post(url("extension_add"), {"site": "HQ", "number": "104", "aliases": "0612345103"})
    assert "0612345103 is already an alias of extension 103 on site HQ" in page_400(taken)


def test_bulk_edit_unassigns_extensions_or_gives_them_an_owner_but_not_both(clients, people):
    admin = clients["administrator"]
    chosen = list(Extension.objects.filter(site__code="HQ", number__in=["101", "102"]).values_list("pk", flat=True))
    both = admin.post(url("extension_bulk_edit"), {"pk": chosen, "apply": "1", "person": "carl", "unassign": "on"})
    assert "Either give an owner or unassign them, not both." in page(both)
    done = admin.post(url("extension_bulk_edit"), {"pk": chosen, "apply": "1", "unassign": "on",
                                                   "billing_enabled": ""}, follow=True)
    assert "2 extensions changed." in page(done)
    assert not Extension.objects.filter(pk__in=chosen, person__isnull=False).exists()
    assert Extension.objects.get(site__code="HQ", number="102").billing_enabled is False  # left as it was


def page_400(response) -> str:
    assert response.status_code == 400
    return html.unescape(response.content.decode())


def test_an_extension_number_is_refused_on_the_web_with_the_words_of_the_command_line(clients, hq, cli):
    refused = clients["administrator"].post(url("extension_add"), {"site": "HQ", "number": "12 34"})
    web_error = re.search(r'invalid-feedback d-block">([^<]+)<', page_400(refused)).group(1)
    with pytest.raises(CommandError) as cli_error:
        cli("extension", "add", "--site", "HQ", "12 34")
    assert str(cli_error.value) == f"number: {web_error.rstrip('.')}"
    assert not Extension.objects.filter(number="12 34").exists()


# --- cost centers --------------------------------------------------------------------------

def test_the_cost_center_list_is_a_tree_with_people_counts(clients, people, tree):
    shown = page(clients["administrator"].get(url("costcenter_list")))
    order = [shown.index(f">{code}</a></span>") for code in ("ACME", "SALES", "EMEA", "BOARD")]
    assert order == sorted(order)
    assert 'class="tree-depth-2' in shown  # EMEA, below SALES below ACME
    rows = csv_of(clients["administrator"].get(url("costcenter_list") + "?export=csv")).splitlines()
    assert rows[0] == "Code,Name,Parent,Manager,People,Extensions"
    assert rows[2] == "SALES,Sales,ACME,,1,0"


def test_moving_a_cost_center_below_itself_is_refused_with_the_message_of_the_command_line(clients, tree, cli):
    admin = clients["administrator"]
    refused = admin.post(url("costcenter_move", tree["acme"].pk), {"parent": "EMEA"})
    message = ("A cost center cannot be below itself: EMEA is below ACME. Move ACME under another cost center, "
               "or make it a root.")
    assert message in page_400(refused)
    with pytest.raises(CommandError) as cli_error:
        cli("costcenter", "set", "ACME", "--parent", "EMEA")
    assert str(cli_error.value) == "parent: " + message.rstrip(".")
    assert CostCenter.objects.get(code="ACME").parent is None


def test_a_cost_center_moves_with_everything_below_it_and_keeps_its_manager(clients, tree, people):
    CostCenter.objects.filter(code="SALES").update(manager=people["anna"])
    assert 'name="manager"' not in page(clients["administrator"].get(url("costcenter_move", tree["sales"].pk)))
    moved = clients["administrator"].post(url("costcenter_move", tree["sales"].pk), {"parent": "BOARD"},
                                          follow=True)
    assert "SALES moved below BOARD, with everything below it." in page(moved)
    assert [c.code for c in CostCenter.objects.get(code="EMEA").ancestors()] == ["SALES", "BOARD"]
    assert CostCenter.objects.get(code="SALES").manager.username == "anna"
    assert AuditEvent.objects.filter(action="update", object_type="directory.costcenter").count() == 1


def test_a_cost_center_with_calls_or_children_is_not_deleted(clients, tree, people, hq):
    admin = clients["administrator"]
    assert "cannot be deleted" in page(admin.get(url("costcenter_delete", tree["sales"].pk)))
    admin.post(url("costcenter_delete", tree["sales"].pk))
    make_call(hq, people["bob"], cost_center=tree["board"])
    admin.post(url("costcenter_delete", tree["board"].pk))
    assert CostCenter.objects.filter(code__in=["SALES", "BOARD"]).count() == 2
    admin.post(url("costcenter_delete", tree["emea"].pk))
    assert not CostCenter.objects.filter(code="EMEA").exists()
    assert Person.objects.get(username="carl").cost_center is None


# --- account codes -------------------------------------------------------------------------

@pytest.fixture
def codes(hq, branch, tree):
    return [
        AccountCode.objects.create(code="4711", description="Client Rossi", site=hq, cost_center=tree["sales"]),
        AccountCode.objects.create(code="9876", description="CEO line", site=hq, replace_with_description=True),
        AccountCode.objects.create(code="5555", description="Shared PIN", site=None, replace_with_description=True),
        AccountCode.objects.create(code="1200", description="Branch project", site=branch, privacy_digits=3),
    ]


def test_account_codes_are_filtered_by_site_and_any_field_and_sorted_by_any_column(clients, codes):
    admin = clients["administrator"]
    on_hq = page(admin.get(url("accountcode_list") + "?site=HQ"))
    assert "4711" in on_hq and "5555" in on_hq and "1200" not in on_hq  # a site's codes and multisite ones
    assert "1200" in page(admin.get(url("accountcode_list") + "?privacy_digits=3"))
    described = page(admin.get(url("accountcode_list") + "?description=rossi"))
    assert "4711" in described and "9876" not in described
    assert "4711" in page(admin.get(url("accountcode_list") + "?cost_center=SALES"))
    shown_as = page(admin.get(url("accountcode_list") + "?replace_with_description=yes"))
    assert "9876" in shown_as and "4711" not in shown_as
    for column in ("code", "description", "site", "privacy_digits", "cost_center", "replace_with_description",
                   "created"):
        for direction in ("", "-"):
            assert admin.get(url("accountcode_list") + f"?sort={direction}{column}").status_code == 200
    by_description = page(admin.get(url("accountcode_list") + "?sort=description"))
    positions = [by_description.index(text) for text in ("Branch project", "CEO line", "Client Rossi",
                                                         "Shared PIN")]
    assert positions == sorted(positions)


def test_a_code_shown_as_its_description_is_seen_only_by_who_manages_it(clients, codes):
    admin_page = page(clients["administrator"].get(url("accountcode_list")))
    assert "9876" in admin_page and "5555" in admin_page
    site_admin = clients["site-admin"]
    theirs = page(site_admin.get(url("accountcode_list")))
    assert "9876" in theirs  # their site's: they manage it
    assert "5555" not in theirs and "Shared PIN" in theirs  # every site's: an administrator's
    assert "1200" not in theirs  # another site's
    exported = csv_of(site_admin.get(url("accountcode_list") + "?export=csv"))
    assert "5555" not in exported and "Shared PIN" in exported
    shared = codes[2]
    assert site_admin.get(url("accountcode_edit", shared.pk)).status_code == 403
    assert site_admin.get(url("accountcode_import") + "?export=csv").content.decode().count("\n") == 3


def test_a_code_shown_as_its_description_cannot_be_found_by_search_or_sort_by_who_may_not_read_it(clients, codes,
                                                                                                  hq):
    site_admin = clients["site-admin"]
    for query in ("?code=55", "?q=5555", "?q=55"):
        assert "Shared PIN" not in page(site_admin.get(url("accountcode_list") + query)), query
    assert "Shared PIN" in page(site_admin.get(url("accountcode_list") + "?q=shared"))
    assert "Shared PIN" in page(clients["administrator"].get(url("accountcode_list") + "?code=55"))
    AccountCode.objects.create(code="5554", description="Probe below", site=hq)
    AccountCode.objects.create(code="5556", description="Probe above", site=hq)
    for direction in ("", "-"):
        ordered = page(site_admin.get(url("accountcode_list") + f"?sort={direction}code"))
        between = ordered.index("Probe below") < ordered.index("Shared PIN") < ordered.index("Probe above")
        reverse_between = ordered.index("Probe above") < ordered.index("Shared PIN") < ordered.index("Probe below")
        assert not between and not reverse_between


def test_saving_an_account_code_is_audited_and_offers_a_recalculation(clients, codes):
    pin = codes[1]
    response = clients["site-admin"].post(url("accountcode_edit", pin.pk), {
        "code": "9876", "description": "CEO", "site": "HQ", "privacy_digits": 2, "cost_center": "",
        "replace_with_description": "on"}, follow=True)
    assert "Account code changed." in page(response) and "recalculate HQ from" in page(response)
    event = AuditEvent.objects.get(action="update", object_type="directory.accountcode")
    assert (event.before["description"], event.after["description"]) == ("CEO line", "CEO")


def test_a_site_administrator_bulk_changes_their_codes_but_not_those_of_every_site(clients, codes):
    site_admin = clients["site-admin"]
    assert "Edit selected" in page(site_admin.get(url("accountcode_list")))
    theirs = [codes[0].pk, codes[1].pk]
    done = site_admin.post(url("accountcode_bulk_edit"), {"pk": theirs, "apply": "1", "privacy_digits": "4"},
                           follow=True)
    assert "2 account codes changed." in page(done)
    assert sorted(AccountCode.objects.filter(privacy_digits=4).values_list("code", flat=True)) == ["4711", "9876"]
    refused = site_admin.post(url("accountcode_bulk_delete"), {"pk": [codes[0].pk, codes[2].pk], "confirm": "1"})
    assert refused.status_code == 403
    assert "5555" not in refused.content.decode()
    assert AccountCode.objects.count() == 4


def test_a_site_administrator_bulk_edits_the_people_of_their_sites(clients, people):
    site_admin = clients["site-admin"]
    assert "Edit selected" in page(site_admin.get(url("person_list")))
    done = site_admin.post(url("person_bulk_edit"), {"pk": [people["anna"].pk, people["bob"].pk], "apply": "1",
                                                     "active": "no"}, follow=True)
    assert "2 people changed." in page(done)
    assert list(Person.objects.filter(active=False).order_by("username").values_list("username", flat=True)) == [
        "anna", "bob"]


def test_a_site_administrator_cannot_add_a_code_for_every_site(clients, hq):
    refused = clients["site-admin"].post(url("accountcode_add"), {"code": "1", "site": "", "privacy_digits": 0})
    assert "This field is required." in page_400(refused)
    assert not AccountCode.objects.exists()


# --- the number of queries does not grow with the rows ---------------------------------------

def queries(client, address) -> int:
    client.get(address)  # the first request of a session loads what later ones find cached
    with CaptureQueriesContext(connection) as captured:
        assert client.get(address).status_code == 200
    return len(captured)


@pytest.mark.parametrize("listing", ["person_list", "extension_list", "accountcode_list", "costcenter_list"])
def test_a_list_page_needs_as_many_queries_for_thirty_rows_as_for_three(admin_client, hq, listing):
    counts = []
    made = 0
    for total in (3, 30):
        while made < total:
            center = CostCenter.objects.create(code=f"CC{made}", name=f"Center {made}")
            person = Person.objects.create(username=f"p{made}", site=hq, cost_center=center)
            extension = Extension.objects.create(site=hq, number=f"{200 + made}", person=person, cost_center=center)
            ExtensionAlias.objects.create(extension=extension, number=f"0612{made:04d}")
            AccountCode.objects.create(code=f"A{made}", site=hq, cost_center=center)
            made += 1
        counts.append(queries(admin_client, url(listing)))
    assert counts[0] == counts[1], counts


def test_a_cli_extension_add_keeps_the_aliases_an_extension_has(hq, cli):
    extension = Extension.objects.create(site=hq, number="201")
    ExtensionAlias.objects.create(extension=extension, number="0612345201")
    out = io.StringIO()
    call_command("extension", "add", "--site", "HQ", "201", "--no-billing", stdout=out)
    extension.refresh_from_db()
    assert not extension.billing_enabled
    assert list(extension.aliases.values_list("number", flat=True)) == ["0612345201"]
