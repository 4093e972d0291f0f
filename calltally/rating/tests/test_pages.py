"""The tariff pages: who opens them, and that each does what the matching command does."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from calltally.audit.models import AuditEvent
from calltally.rating.comparison import compare
from calltally.rating.models import Holiday, PlanAssignment, Rate, TariffPlan, TariffVersion
from calltally.rating.planfile import parse_plan, plan_from_data
from calltally.rating.services import assign_plan, plan_spec

from .conftest import local, plan_text

pytestmark = pytest.mark.django_db

CARRIER = plan_text("Carrier 2026", """
    [[rates]]
    prefix = "*"
    destination = "Rest of the world"
    rate_per_minute = "0.9000"
    first_increment = 60
    next_increment = 60

    [[rates]]
    prefix = "39"
    destination = "Italy fixed"
    category = "national"
    rate_per_minute = { peak = "0.0300", offpeak = "0.0150" }
    connection_fee = "0.0500"
    first_increment = 30
    next_increment = 6

    [[rates]]
    prefix = "3902"
    destination = "Milan"
    category = "local"
    rate_per_minute = { peak = "0.0300", offpeak = "0.0100" }
    connection_fee = "0.0500"
    first_increment = 30
    next_increment = 6

    [[rates]]
    prefix = "393"
    destination = "Italy mobile"
    category = "mobile"
    rate_per_minute = "0.1200"
    minimum_charge = "0.1000"
""")
CHEAP = plan_text("Cheap", """
    [[rates]]
    prefix = "39"
    destination = "Italy"
    rate_per_minute = "0.0200"
""")


@pytest.fixture
def hq(make_site, load_plan):
    site = make_site("HQ", area_code="02")
    load_plan(CARRIER)
    assign_plan(site, "Carrier 2026")
    return site


@pytest.fixture
def rome(make_site):
    return make_site("RM", name="Rome")


@pytest.fixture
def clients(role_client, hq, rome):
    """One signed-in client per role; the site administrator runs HQ only."""
    return {
        "administrator": role_client("administrator"),
        "site-admin": role_client("site-admin", sites=[hq]),
        "manager": role_client("manager"),
        "user": role_client("user"),
    }


def plan_of(name="Carrier 2026") -> TariffPlan:
    return TariffPlan.objects.get(name=name)


def text_of(response) -> str:
    return response.content.decode()


def upload(client, name: str, content: str, **fields):
    return client.post(reverse("rating:plan_import"), {
        "file": SimpleUploadedFile(name, content.encode(), content_type="application/octet-stream"), **fields})


# --- who opens what ------------------------------------------------------------------------------------------


def read_pages():
    plan = plan_of()
    version = plan.versions.get()
    return [reverse("rating:plan_list"), reverse("rating:plan_detail", args=[plan.pk]),
            reverse("rating:rate_list", args=[version.pk]), reverse("rating:version_toml", args=[version.pk]),
            reverse("rating:version_csv", args=[version.pk]), reverse("rating:assignment_list"),
            reverse("rating:assignment_add"), reverse("rating:simulator"), reverse("rating:holiday_list"),
            reverse("rating:holiday_add"), reverse("rating:comparison")]


def plan_changing_pages():
    plan = plan_of()
    version = plan.versions.get()
    return [reverse("rating:plan_add"), reverse("rating:plan_import"), reverse("rating:plan_edit", args=[plan.pk]),
            reverse("rating:plan_delete", args=[plan.pk]), reverse("rating:version_edit", args=[version.pk]),
            reverse("rating:version_delete", args=[version.pk])]


def test_an_administrator_opens_every_tariff_page(clients):
    for url in read_pages() + plan_changing_pages():
        assert clients["administrator"].get(url).status_code == 200, url


def test_a_site_administrator_reads_the_plans_but_may_not_change_them(clients):
    client = clients["site-admin"]
    for url in read_pages():
        assert client.get(url).status_code == 200, url
    for url in plan_changing_pages():
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"name": "Taken over"}).status_code == 403, url
    assert plan_of().versions.count() == 1
    page = text_of(client.get(reverse("rating:plan_detail", args=[plan_of().pk])))
    assert "Delete plan" not in page and "Upload rate deck" not in page


@pytest.mark.parametrize("role", ["manager", "user"])
def test_managers_and_users_have_no_tariff_pages(clients, role):
    for url in read_pages() + plan_changing_pages():
        assert clients[role].get(url).status_code == 403, url


# --- plans and their rates ------------------------------------------------------------------------------------


def test_the_plan_list_names_each_plan_its_versions_and_the_sites_using_it(clients, load_plan):
    load_plan(CHEAP)
    page = text_of(clients["administrator"].get(reverse("rating:plan_list")))
    assert "Carrier 2026" in page and "Cheap" in page
    assert "HQ" in page and "not assigned" in page
    exported = clients["administrator"].get(reverse("rating:plan_list") + "?q=cheap&export=csv")
    rows = list(csv.reader(io.StringIO(b"".join(exported.streaming_content).decode())))
    assert [row[0] for row in rows] == ["Plan", "Cheap"]


def test_a_site_administrator_sees_only_their_own_sites_among_a_plans_users(clients, rome):
    assign_plan(rome, "Carrier 2026")
    page = text_of(clients["site-admin"].get(reverse("rating:plan_list")))
    assert "HQ" in page and "RM" not in page


def count_queries(client, url) -> int:
    """The queries of a second visit: the first one also saves the session."""
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_plan_list_issues_as_many_queries_for_30_plans_as_for_3(clients, load_plan, rome):
    client = clients["administrator"]
    url = reverse("rating:plan_list") + "?per_page=50"

    def add_plans(first, last):
        for number in range(first, last):
            version = load_plan(plan_text(f"Plan {number:02d}", '[[rates]]\nprefix = "39"\nrate_per_minute = "1"\n'))
            assign_plan(rome, version.plan.name, pattern=f"^trunk{number}")

    add_plans(0, 2)  # with the fixture's plan: 3
    few = count_queries(client, url)
    add_plans(2, 29)
    assert TariffPlan.objects.count() == 30
    assert count_queries(client, url) == few


def test_the_rate_list_issues_as_many_queries_for_30_rates_as_for_3(clients, load_plan):
    client = clients["administrator"]

    def version_with(count):
        rates = "".join(f'[[rates]]\nprefix = "4{n:03d}"\nrate_per_minute = "0.01"\n' for n in range(count))
        return load_plan(plan_text(f"Deck {count}", rates))

    small, large = version_with(3), version_with(30)
    assert count_queries(client, reverse("rating:rate_list", args=[small.pk])) == count_queries(
        client, reverse("rating:rate_list", args=[large.pk]))


def test_rates_are_found_by_prefix_and_by_the_number_they_would_price(clients):
    version = plan_of().versions.get()
    url = reverse("rating:rate_list", args=[version.pk])
    client = clients["site-admin"]
    page = text_of(client.get(url + "?prefix=39"))
    assert "Italy fixed" in page and "Milan" in page and "Rest of the world" not in page
    page = text_of(client.get(url + "?number=390223456789"))
    # The number starts with 39 and 3902, and "*" prices anything: those three, not the mobiles.
    assert "Milan" in page and "Italy fixed" in page and "Rest of the world" in page and "Italy mobile" not in page
    exported = client.get(url + "?prefix=393&export=csv")
    rows = list(csv.reader(io.StringIO(b"".join(exported.streaming_content).decode())))
    assert rows[1][:3] == ["393", "Italy mobile", "mobile"] and len(rows) == 2
    assert "0.1200" in rows[1]


def test_the_plan_detail_shows_versions_bands_rate_counts_and_where_the_plan_is_used(clients):
    page = text_of(clients["administrator"].get(reverse("rating:plan_detail", args=[plan_of().pk])))
    assert "From 2026-01-01" in page
    assert "peak mon,tue,wed,thu,fri 08:00 19:00" in page
    assert "Rates (6)" in page  # 39 and 3902 per band, * and 393 for all bands
    assert "Site <strong>HQ</strong>: default plan" in page


# --- creating and changing plans: the plan file's rules --------------------------------------------------------


def plan_form(**changes):
    data = {"name": "Office", "carrier": "Telco", "currency": "EUR", "valid_from": "2026-02-01", "valid_to": "",
            "rounding_decimals": "4", "markup_percent": "0", "directions": ["outbound"], "public_holidays": "on",
            "default_band": "offpeak", "holiday_band": "offpeak", "bands": "peak mon-fri 08:00 19:00"}
    data.update(changes)
    return data


def test_a_new_plan_is_stored_as_its_plan_file_would_be(clients):
    response = clients["administrator"].post(reverse("rating:plan_add"), plan_form())
    plan = plan_of("Office")
    assert response.status_code == 302 and response["Location"] == reverse("rating:plan_detail", args=[plan.pk])
    version = plan.versions.get()
    expected = plan_from_data({
        "name": "Office", "carrier": "Telco", "currency": "EUR", "valid_from": "2026-02-01",
        "default_band": "offpeak", "holiday_band": "offpeak",
        "bands": [{"name": "peak", "days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "19:00"}],
    })
    assert plan_spec(version) == expected


def cli_problem(cli, tmp_path, text) -> str:
    path = tmp_path / "plan.toml"
    path.write_text(text)
    with pytest.raises(Exception) as raised:
        cli("tariff", "load", str(path))
    return str(raised.value)


def test_a_plan_form_refuses_what_tariff_load_refuses_with_the_same_words(clients, cli, tmp_path):
    response = clients["administrator"].post(reverse("rating:plan_add"), plan_form(
        currency="Euro", markup_percent="2000", bands="peak mon-fri 19:00 08:00"))
    assert response.status_code == 400
    page = text_of(response)
    refused = cli_problem(cli, tmp_path, plan_text("Office", "", extra='markup_percent = "2000"\n', currency="Euro",
                                                   bands='default_band = "offpeak"\n[[bands]]\nname = "peak"\n'
                                                   'days = ["mon"]\nstart = "19:00"\nend = "08:00"\n'))
    for message in ("&#x27;Euro&#x27; is not a currency; use a three-letter ISO 4217 code",
                    "&#x27;2000&#x27; must be between -100 and 1000", "08:00 is not after start 19:00"):
        assert message in page
        assert message.replace("&#x27;", "'") in refused
    assert not TariffPlan.objects.filter(name="Office").exists()


def test_editing_a_version_is_refused_when_its_rates_no_longer_fit_the_bands(clients):
    version = plan_of().versions.get()
    url = reverse("rating:version_edit", args=[version.pk])
    data = plan_form(name="Carrier 2026", carrier="Carrier", valid_from="2026-01-01", default_band="night",
                     holiday_band="", bands="day mon-fri 08:00 19:00")
    response = clients["administrator"].post(url, data)
    assert response.status_code == 400
    assert "is not a band of this plan" in text_of(response)
    assert TariffVersion.objects.get(pk=version.pk).default_band == "offpeak"


def test_editing_a_version_keeps_its_rates_and_offers_to_recalculate_its_sites(clients):
    version = plan_of().versions.get()
    data = plan_form(name="Carrier 2026", carrier="Carrier", valid_from="2026-01-01", valid_to="2026-12-31",
                     markup_percent="5", bands="peak mon-fri 08:00 18:00")
    response = clients["administrator"].post(reverse("rating:version_edit", args=[version.pk]), data, follow=True)
    version.refresh_from_db()
    assert version.valid_to == dt.date(2026, 12, 31) and version.markup_percent == Decimal(5)
    assert version.rates.count() == 6
    assert "peak mon,tue,wed,thu,fri 08:00 18:00" in text_of(response)
    assert recalc_link("HQ", "2026-01-01") in text_of(response)


def recalc_link(code: str, day: str) -> str:
    return f'{reverse("jobs:recalculate")}?site={code}&amp;from={day}'


def test_a_plan_is_renamed_with_its_carrier(clients):
    plan = plan_of()
    response = clients["administrator"].post(reverse("rating:plan_edit", args=[plan.pk]),
                                             {"name": "Carrier 2027", "carrier": "Other"}, follow=True)
    plan.refresh_from_db()
    assert (plan.name, plan.carrier.name) == ("Carrier 2027", "Other")
    assert recalc_link("HQ", "2026-01-01") in text_of(response)
    refused = clients["administrator"].post(reverse("rating:plan_edit", args=[plan.pk]),
                                            {"name": " ", "carrier": "Other"})
    assert refused.status_code == 400 and plan_of("Carrier 2027")


# --- files -------------------------------------------------------------------------------------------------


BAD_PLAN = plan_text("Broken", """
    [[rates]]
    prefix = "39"
    rate_per_minute = { peak = "0.0300", offpeak = "0,015" }
""")


def test_an_uploaded_plan_file_with_a_bad_line_is_refused_whole_naming_the_line(clients):
    response = upload(clients["administrator"], "broken.toml", BAD_PLAN)
    assert response.status_code == 400
    line = next(n for n, text in enumerate(BAD_PLAN.splitlines(), 1) if "0,015" in text)
    assert f"line {line}: [[rates]] #1 (prefix 39): rate_per_minute: offpeak: &#x27;0,015&#x27; is not an amount" \
        in text_of(response)
    assert "nothing was changed" in text_of(response)
    assert not TariffPlan.objects.filter(name="Broken").exists()


def test_an_uploaded_rate_deck_with_a_bad_row_changes_nothing_and_names_the_row(clients):
    plan = plan_of()
    before = list(Rate.objects.order_by("prefix", "band").values_list("prefix", "band", "rate_per_minute"))
    deck = "prefix,destination,band,rate_per_minute\n39,Italy,,0.0200\n44,UK,,0,09\n"
    response = upload(clients["administrator"], "deck.csv", deck, plan=plan.pk)
    assert response.status_code == 400
    assert "line 3: 5 fields where the header has 4" in text_of(response)
    deck = "prefix,destination,band,rate_per_minute\n39,Italy,,0.0200\n44,UK,,0;09\n"
    response = upload(clients["administrator"], "deck.csv", deck, plan=plan.pk)
    assert "line 3: rate_per_minute: &#x27;0;09&#x27; is not an amount" in text_of(response)
    assert list(Rate.objects.order_by("prefix", "band").values_list("prefix", "band", "rate_per_minute")) == before


def test_a_rate_deck_with_a_date_becomes_a_new_version_and_offers_to_recalculate_from_it(clients):
    plan = plan_of()
    deck = "prefix,destination,rate_per_minute\n39,Italy,0.0200\n"
    response = upload(clients["administrator"], "july.csv", deck, plan=plan.pk, valid_from="2026-07-01")
    assert response.status_code == 302
    new = plan.versions.get(valid_from=dt.date(2026, 7, 1))
    assert list(new.rates.values_list("prefix", "rate_per_minute")) == [("39", Decimal("0.02"))]
    assert new.bands.count() == 1  # the bands of the version before it
    page = text_of(clients["administrator"].get(response["Location"]))
    assert recalc_link("HQ", "2026-07-01") in page


def test_checking_a_file_stores_nothing(clients):
    response = upload(clients["administrator"], "cheap.toml", CHEAP, check_only="on")
    assert response.status_code == 200 and "is valid" in text_of(response)
    assert not TariffPlan.objects.filter(name="Cheap").exists()


def test_a_downloaded_plan_file_loads_back_to_the_same_plan(clients):
    client = clients["site-admin"]
    version = plan_of().versions.get()
    response = client.get(reverse("rating:version_toml", args=[version.pk]))
    assert response["Content-Disposition"] == 'attachment; filename="Carrier-2026-2026-01-01.toml"'
    downloaded = response.content.decode()
    loaded, stored = parse_plan(downloaded), plan_spec(version)
    loaded.rates.sort()
    stored.rates.sort()
    assert loaded == stored
    assert AuditEvent.objects.filter(action="download", username=client.user.username).exists()
    # Loaded back through the upload page, it changes nothing: the next download is the same file.
    assert upload(clients["administrator"], "again.toml", downloaded).status_code == 302
    assert TariffVersion.objects.count() == 1
    again = client.get(reverse("rating:version_toml", args=[plan_of().versions.get().pk])).content.decode()
    assert again == downloaded


def test_a_downloaded_rate_deck_loads_back_to_the_same_rates(clients, cli, tmp_path):
    version = plan_of().versions.get()
    deck = clients["administrator"].get(reverse("rating:version_csv", args=[version.pk])).content.decode()
    path = tmp_path / "deck.csv"
    path.write_text(deck)
    assert deck == cli("tariff", "rates-export", "Carrier 2026")
    before = plan_spec(version).rates
    assert upload(clients["administrator"], "deck.csv", deck, plan=version.plan_id).status_code == 302
    assert sorted(plan_spec(plan_of().versions.get()).rates) == sorted(before)


# --- deleting -----------------------------------------------------------------------------------------------


def test_a_plan_in_use_is_not_deleted_and_the_page_says_where_it_is_used(clients):
    plan = plan_of()
    url = reverse("rating:plan_delete", args=[plan.pk])
    assert "assigned to site <strong>HQ</strong>" in text_of(clients["administrator"].get(url))
    response = clients["administrator"].post(url, follow=True)
    assert TariffPlan.objects.filter(pk=plan.pk).exists()
    assert "is assigned to site HQ; unassign it first" in text_of(response)


def test_a_plan_no_site_uses_is_deleted_after_confirmation(clients):
    plan = plan_of()
    PlanAssignment.objects.all().delete()
    assert "data-confirm" not in text_of(clients["administrator"].get(reverse("rating:plan_delete", args=[plan.pk])))
    response = clients["administrator"].post(reverse("rating:plan_delete", args=[plan.pk]))
    assert response.status_code == 302 and not TariffPlan.objects.exists() and not Rate.objects.exists()
    assert AuditEvent.objects.get(action="delete").object_text == "Carrier 2026"


# --- assignments ------------------------------------------------------------------------------------------


def test_a_site_administrator_assigns_plans_to_their_own_site_only(clients, rome, load_plan):
    load_plan(CHEAP)
    client = clients["site-admin"]
    cheap = plan_of("Cheap")
    response = client.post(reverse("rating:assignment_add"), {"site": rome.pk, "plan": cheap.pk, "pattern": "",
                                                              "priority": 0})
    assert response.status_code == 400 and not PlanAssignment.objects.filter(site=rome).exists()
    response = client.post(reverse("rating:assignment_add"), {"site": client_site(client), "plan": cheap.pk,
                                                              "pattern": "^SIP/cheap", "priority": 5}, follow=True)
    assert PlanAssignment.objects.get(pattern="^SIP/cheap").plan == cheap
    assert recalc_link("HQ", "2026-01-01") in text_of(response)
    other = assign_plan(rome, "Cheap")
    assert client.get(reverse("rating:assignment_edit", args=[other.pk])).status_code == 404
    assert client.post(reverse("rating:assignment_delete", args=[other.pk])).status_code == 404
    # As a word: the page's CSRF token may hold the letters "RM" (a random failure once).
    assert not re.search(r"\bRM\b", text_of(client.get(reverse("rating:assignment_list"))))


def client_site(client) -> int:
    return client.user.account.sites.get().pk


def test_an_assignment_pattern_is_refused_as_tariff_assign_refuses_it(clients, cli):
    response = clients["administrator"].post(reverse("rating:assignment_add"), {
        "site": client_site(clients["site-admin"]), "plan": plan_of().pk, "pattern": "SIP/(", "priority": 1})
    assert response.status_code == 400
    with pytest.raises(Exception) as refused:
        cli("tariff", "assign", "--site", "HQ", "Carrier 2026", "--pattern", "SIP/(")
    message = str(refused.value)
    assert message.startswith("pattern 'SIP/(' is not a valid regular expression")
    assert message.replace("'", "&#x27;") in text_of(response)


def test_adding_a_default_plan_replaces_the_sites_default_plan_as_the_command_does(clients, load_plan, hq):
    load_plan(CHEAP)
    response = clients["administrator"].post(reverse("rating:assignment_add"), {
        "site": hq.pk, "plan": plan_of("Cheap").pk, "pattern": "", "priority": 0}, follow=True)
    assert list(PlanAssignment.objects.filter(site=hq).values_list("plan__name", flat=True)) == ["Cheap"]
    assert "It replaces Carrier 2026 as site HQ&#x27;s default plan" in text_of(response)


def test_removing_an_assignment_asks_first_and_offers_to_recalculate(clients, hq):
    assignment = PlanAssignment.objects.get(site=hq)
    url = reverse("rating:assignment_delete", args=[assignment.pk])
    assert "Delete" in text_of(clients["site-admin"].get(url))
    response = clients["site-admin"].post(url, follow=True)
    assert not PlanAssignment.objects.exists()
    assert recalc_link("HQ", "2026-01-01") in text_of(response)


# --- the simulator ----------------------------------------------------------------------------------------------


def test_the_simulator_shows_what_calltally_rate_prints_for_the_same_call(clients, cli, hq):
    printed = cli("rate", "--site", "HQ", "00223456789", "--at", "2026-03-02 10:15", "--talk", "125")
    response = clients["site-admin"].get(reverse("rating:simulator"), {
        "site": hq.pk, "number": "00223456789", "at": "2026-03-02T10:15", "talk": "125", "direction": "",
        "device": ""})
    page = text_of(response).replace("&#x27;", "'").replace("&gt;", ">")
    assert "cost     0.1130 EUR" in printed
    assert re.search(r'id="simulated-cost">€0.113<', page)
    steps = [line.split(". ", 1)[1] for line in printed.splitlines() if re.match(r"\s+\d+\. ", line)]
    assert len(steps) == 11
    for step in steps:
        assert step in page
    for line in printed.splitlines()[:7]:
        label, value = line.split(None, 1)
        assert f"<dt class=\"col-sm-2\">{label}</dt><dd class=\"col-sm-10 font-monospace\">{value}</dd>" in page
    assert "2026-03-02 10:15:00 +01:00 (Europe/Rome)" in page


def test_the_simulator_offers_only_the_sites_the_account_runs(clients, rome):
    response = clients["site-admin"].get(reverse("rating:simulator"), {
        "site": rome.pk, "number": "0612345678", "at": "2026-03-02T10:15", "talk": "60"})
    assert "Select a valid choice" in text_of(response)
    assert 'id="simulated-cost"' not in text_of(response)


# --- holidays -------------------------------------------------------------------------------------------------


def test_the_holiday_page_shows_a_sites_public_and_added_holidays(clients, hq):
    Holiday.objects.create(date=dt.date(2026, 12, 7), name="Sant'Ambrogio", site=hq)
    page = text_of(clients["site-admin"].get(reverse("rating:holiday_list"), {"site": hq.pk, "year": 2026}))
    assert "2026-04-06 (Mon)" in page  # Easter Monday, from the holidays package
    assert "Sant&#x27;Ambrogio" in page and 'badge-added">added' in page


def test_a_site_administrator_adds_a_holiday_for_their_site_and_not_for_every_site(clients, hq, rome):
    client = clients["site-admin"]
    response = client.post(reverse("rating:holiday_add"), {"date": "2026-06-24", "name": "San Giovanni",
                                                           "where": "every"})
    assert response.status_code == 400 and not Holiday.objects.exists()
    response = client.post(reverse("rating:holiday_add"), {"date": "2026-06-24", "name": "San Giovanni",
                                                           "where": "site", "site": rome.pk})
    assert response.status_code == 400 and not Holiday.objects.exists()
    response = client.post(reverse("rating:holiday_add"), {"date": "2026-06-24", "name": "San Giovanni",
                                                           "where": "site", "site": hq.pk}, follow=True)
    assert Holiday.objects.get().site == hq
    assert recalc_link("HQ", "2026-06-24") in text_of(response)
    every = Holiday.objects.create(date=dt.date(2026, 8, 14), name="Closure")
    assert client.post(reverse("rating:holiday_delete", args=[every.pk])).status_code == 403
    assert clients["administrator"].post(reverse("rating:holiday_delete", args=[every.pk])).status_code == 302
    assert list(Holiday.objects.values_list("name", flat=True)) == ["San Giovanni"]


def test_a_holiday_country_is_checked_as_the_command_checks_it(clients, cli):
    response = clients["administrator"].post(reverse("rating:holiday_add"), {
        "date": "2026-06-24", "where": "country", "country": "ITA"})
    assert response.status_code == 400
    with pytest.raises(Exception) as refused:
        cli("tariff", "holiday-add", "2026-06-24", "--country", "ITA")
    assert str(refused.value).replace("'", "&#x27;") in text_of(response)


# --- the comparison -------------------------------------------------------------------------------------------


def test_the_comparison_shows_what_tariff_compare_computes_in_the_plans_currency(clients, hq, load_plan,
                                                                                   make_call):
    load_plan(CHEAP)
    for minutes in (1, 2, 3):
        make_call(hq, local(hq, "2026-03-02 10:15"), e164="+390223456789", talk=60 * minutes, cost="0.1000",
                  category="local", destination="Milan")
    expected = compare([hq], dt.date(2026, 3, 1), dt.date(2026, 3, 31), ["Carrier 2026", "Cheap"])
    response = clients["site-admin"].get(reverse("rating:comparison"), {
        "first": "2026-03-01", "last": "2026-03-31", "plans": [plan_of().pk, plan_of("Cheap").pk]})
    page = text_of(response)
    # Peak, prefix 3902: 0.05 + 0.03 a minute → 0.08 + 0.11 + 0.14; Cheap: 0.02 a minute.
    assert expected.total.costs == [Decimal("0.3300"), Decimal("0.1200")]
    assert "€0.33" in page and "€0.12" in page and "€0.30" in page  # the plans' totals, the actual
    assert "-€0.03" in page and "€0.18" in page  # the savings: Carrier 2026 is dearer, Cheap saves 0.18
    exported = clients["site-admin"].get(reverse("rating:comparison"), {
        "first": "2026-03-01", "last": "2026-03-31", "plans": [plan_of("Cheap").pk], "export": "csv"})
    rows = list(csv.reader(io.StringIO(exported.content.decode())))
    assert rows[-1] == ["TOTAL", "", "3", "0.3000", "0.1200", "0.1800", "0"]


def test_the_comparison_prices_only_the_sites_the_account_runs(clients, rome, make_call):
    make_call(rome, local(rome, "2026-03-02 10:15"), e164="+390612345678", talk=60, cost="1")
    response = clients["site-admin"].get(reverse("rating:comparison"), {
        "first": "2026-03-01", "last": "2026-03-31", "plans": [plan_of().pk], "sites": [rome.pk]})
    assert response.status_code == 200 and "Select a valid choice" in text_of(response)
    page = text_of(clients["site-admin"].get(reverse("rating:comparison"), {
        "first": "2026-03-01", "last": "2026-03-31", "plans": [plan_of().pk]}))
    assert "No calls in this period" in page



def test_the_assignment_and_holiday_lists_issue_as_many_queries_for_30_rows_as_for_3(clients, load_plan, make_site):
    client = clients["administrator"]
    load_plan(CHEAP)
    sites = [make_site(f"S{n:02d}") for n in range(30)]

    def fill(first, last):
        for site in sites[first:last]:
            assign_plan(site, "Cheap")
            Holiday.objects.create(date=dt.date(2026, 6, 2), name=f"Day of {site.code}", site=site)

    fill(0, 2)  # with HQ's assignment: 3 rows
    few = [count_queries(client, reverse(name)) for name in ("rating:assignment_list", "rating:holiday_list")]
    fill(2, 29)
    assert PlanAssignment.objects.count() == 30 and Holiday.objects.count() == 29
    many = [count_queries(client, reverse(name)) for name in ("rating:assignment_list", "rating:holiday_list")]
    assert many == few


def test_the_assignment_export_holds_only_the_sites_the_account_runs(clients, rome):
    assign_plan(rome, "Carrier 2026")
    exported = clients["site-admin"].get(reverse("rating:assignment_list") + "?export=csv")
    rows = list(csv.reader(io.StringIO(b"".join(exported.streaming_content).decode())))
    assert [row[:2] for row in rows] == [["Site", "Plan"], ["HQ", "Carrier 2026"]]
    everything = clients["administrator"].get(reverse("rating:assignment_list") + "?export=csv")
    assert len(list(csv.reader(io.StringIO(b"".join(everything.streaming_content).decode())))) == 3
