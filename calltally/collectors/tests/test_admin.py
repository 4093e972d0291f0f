"""The admin's connection pages: superusers only, read only, and no stored secret shown back."""

from __future__ import annotations

import pytest
from django.urls import reverse

from calltally.collectors.models import Connection

from .test_secrets import SFTP_PASSWORD


@pytest.fixture
def site(make_site):
    return make_site("HQ")


@pytest.fixture
def sftp(site, cli):
    cli("connection", "add", "--site", "HQ", "--kind", "sftp-pull", "--option", "host=pbx.example",
        "--option", "username=cdr", "--option", f"password={SFTP_PASSWORD}", "--option", "remote_path=/cdr",
        "--option", "known_hosts=")
    return Connection.objects.get(site=site)


def test_the_admin_opens_to_superusers_only(site, client, django_user_model):
    client.force_login(django_user_model.objects.create_user("operator", password="op-Pa55-word", is_staff=True))
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_a_connection_is_shown_in_the_admin_but_never_added_changed_or_deleted_there(sftp, admin_client):
    assert admin_client.get(reverse("admin:collectors_connection_add")).status_code == 403
    assert admin_client.get(reverse("admin:collectors_connection_delete", args=[sftp.pk])).status_code == 403
    page = admin_client.get(reverse("admin:collectors_connection_change", args=[sftp.pk]))
    assert page.status_code == 200
    assert b"pbx.example" in page.content and b"Save" not in page.content
    refused = admin_client.post(reverse("admin:collectors_connection_change", args=[sftp.pk]),
                                {"site": sftp.site_id, "enabled": "", "options": "{}"})
    assert refused.status_code == 403
    sftp.refresh_from_db()
    assert sftp.enabled


def test_the_admin_never_shows_a_connections_secret(sftp, admin_client):
    for url in (reverse("admin:collectors_connection_changelist"),
                reverse("admin:collectors_connection_change", args=[sftp.pk])):
        assert SFTP_PASSWORD.encode() not in admin_client.get(url).content
