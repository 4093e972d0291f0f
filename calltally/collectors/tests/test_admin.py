"""The admin's connection pages: superusers only; a secret is set, replaced or cleared in a field of its
own and never shown back."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from calltally.collectors import schema
from calltally.collectors.models import Connection

from .test_secrets import LOGIN_SCRIPT, PRIVATE_KEY, SFTP_PASSWORD, leaked


@pytest.fixture
def site(make_site):
    return make_site("HQ")


@pytest.fixture
def admin_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", password="root-Pa55-word"))
    return client


def change_url(connection: Connection) -> str:
    return reverse("admin:collectors_connection_change", args=[connection.pk])


def post_change(client, connection: Connection, options: dict, **fields) -> object:
    data = {"site": connection.site_id, "enabled": "on", "options": json.dumps(options), **fields}
    return client.post(change_url(connection), data)


def opened(connection: Connection) -> dict:
    connection.refresh_from_db()
    return schema.opened(connection.kind, connection.parameters, connection.pk)


def test_the_connection_pages_are_for_superusers_only(site, client, django_user_model):
    connection = Connection.objects.create(site=site, kind="tcp-listen", parameters={"port": 1150})
    client.force_login(django_user_model.objects.create_user("operator", password="op-Pa55-word", is_staff=True))
    assert b"collectors/connection" not in client.get(reverse("admin:index")).content
    assert client.get(reverse("admin:collectors_connection_changelist")).status_code == 403
    assert client.get(change_url(connection)).status_code == 403


def test_a_connection_added_with_a_secret_keeps_it_sealed_and_only_says_it_is_set(site, admin_client):
    response = admin_client.post(reverse("admin:collectors_connection_add"), {
        "site": site.pk, "kind": "sftp-pull", "enabled": "on",
        "options": json.dumps({"host": "pbx.example", "username": "cdr", "known_hosts": "ignore"}),
        "new_password": SFTP_PASSWORD,
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    connection = Connection.objects.get()
    assert schema.is_sealed(connection.parameters["password"]) and opened(connection)["password"] == SFTP_PASSWORD
    page = admin_client.get(change_url(connection)).content
    assert not leaked(page) and b"Set. Type a new value to replace it" in page and b"pbx.example" in page
    listing = admin_client.get(reverse("admin:collectors_connection_changelist")).content
    assert b"password=(set)" in listing and not leaked(listing)


def test_an_empty_secret_field_keeps_the_secret_a_typed_one_replaces_it_and_the_box_clears_it(site, admin_client):
    connection = Connection.objects.create(site=site, kind="sftp-pull", parameters={
        "host": "pbx.example", "username": "cdr", "password": SFTP_PASSWORD, "known_hosts": "ignore"})
    options = {"host": "pbx.example", "username": "cdr", "known_hosts": "ignore", "interval": 30}
    assert post_change(admin_client, connection, options).status_code == 302
    assert opened(connection)["password"] == SFTP_PASSWORD and opened(connection)["interval"] == 30
    assert post_change(admin_client, connection, options, new_private_key=PRIVATE_KEY).status_code == 302
    assert opened(connection)["private_key"] == PRIVATE_KEY
    assert post_change(admin_client, connection, options, clear_password="on").status_code == 302
    assert "password" not in opened(connection) and opened(connection)["private_key"] == PRIVATE_KEY
    # Clearing the last way to log in is refused, as `connection set` refuses it.
    response = post_change(admin_client, connection, options, clear_private_key="on")
    assert response.status_code == 200 and b"give a password" in response.content
    assert not leaked(response.content)


def test_a_secret_typed_in_the_options_box_is_refused_and_a_wrong_one_is_not_sent_back(site, admin_client):
    connection = Connection.objects.create(site=site, kind="tcp-connect", parameters={
        "host": "pbx", "port": 1752, "login_script": LOGIN_SCRIPT})
    response = post_change(admin_client, connection, {"host": "pbx", "port": 1752, "login_script": "x"})
    assert response.status_code == 200 and b"login_script is a secret: set it in its own field" in response.content
    response = post_change(admin_client, connection, {"host": "pbx", "port": 1752},
                           new_login_script="expect:Password:|not-a-step-but-a-Pa55word")
    assert response.status_code == 200 and b"step 2 must be" in response.content
    assert b"not-a-step-but-a-Pa55word" not in response.content
    assert opened(connection)["login_script"] == LOGIN_SCRIPT
