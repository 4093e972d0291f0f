"""The Django admin pages of CallTally's models answer for a superuser."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "name",
    ["sites_site", "directory_costcenter", "directory_person", "directory_extension", "calls_call",
     "calls_discardedcall"],
)
def test_each_admin_list_answers(admin_client, name):
    response = admin_client.get(reverse(f"admin:{name}_changelist"))
    assert response.status_code == 200


def test_calls_cannot_be_added_by_hand(admin_client):
    assert admin_client.get(reverse("admin:calls_call_add")).status_code == 403


def test_nothing_of_calltallys_is_configured_in_the_admin(admin_client, make_site):
    from django.contrib import admin

    site = make_site("ROM")
    for model, model_admin in admin.site._registry.items():
        if not model.__module__.startswith("calltally."):
            continue
        request = admin_client.get(reverse("admin:index")).wsgi_request
        assert not model_admin.has_add_permission(request), model
        assert not model_admin.has_change_permission(request), model
        assert not model_admin.has_delete_permission(request), model
    assert admin_client.post(reverse("admin:sites_site_change", args=[site.pk]), {"name": "x"}).status_code == 403


def test_an_administrator_who_is_not_a_superuser_is_sent_to_the_admins_sign_in(role_client):
    response = role_client("administrator").get(reverse("admin:index"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_the_admin_shows_a_calls_start_in_its_sites_zone_with_the_offset(admin_client, make_site):
    import datetime as dt

    from calltally.calls.tests.conftest import make_call

    site = make_site("ROM", timezone="Europe/Rome")
    make_call(site, dt.datetime(2026, 3, 2, 8, 15, tzinfo=dt.UTC))
    page = admin_client.get(reverse("admin:calls_call_changelist")).content.decode()
    assert "2026-03-02 09:15:00 +01:00" in page
