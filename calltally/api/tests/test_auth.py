"""Tokens and sign-in: every endpoint wants an account; a token is shown once and stored hashed."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from calltally.api.models import ApiToken
from calltally.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

ENDPOINTS = ["/api/", "/api/schema/", "/api/calls/", "/api/calls/1/", "/api/sites/", "/api/sites/ROM/",
             "/api/connections/", "/api/people/", "/api/extensions/", "/api/cost-centers/", "/api/account-codes/",
             "/api/tariff-plans/", "/api/tariff-assignments/", "/api/accounts/"]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_every_endpoint_refuses_a_request_without_credentials_with_401(client, path):
    response = client.get(path, HTTP_ACCEPT="application/json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_an_unknown_token_is_refused_with_401():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token ct_not-a-real-one")
    assert client.get("/api/calls/").status_code == 401


def test_a_user_with_no_person_is_refused_with_403_saying_why(token_client, world):
    client = token_client("user")
    response = client.get("/api/calls/")
    assert response.status_code == 403
    assert "directory person" in response.json()["detail"]


def test_the_tokens_page_shows_a_new_key_once_and_stores_only_its_digest(role_client):
    web = role_client("user")
    response = web.post(reverse("api:token_list"), {"name": "nightly export"})
    assert response.status_code == 302
    page = web.get(reverse("api:token_list")).content.decode()
    key = re.search(r'id="new-token">(ct_[^<]+)<', page).group(1)
    again = web.get(reverse("api:token_list")).content.decode()
    assert key not in again and "nightly export" in again
    token = ApiToken.objects.get(user=web.user)
    assert token.digest == hashlib.sha256(key.encode()).hexdigest()
    assert key not in (token.digest, token.prefix, token.name) and key.startswith(token.prefix)
    created = AuditEvent.objects.get(object_type="api.apitoken", action="create")
    assert key not in str(created.after) and created.username == web.user.username


def test_a_token_acts_as_its_account_until_revoked_on_the_page(role_client, world):
    web = role_client("user", person=world["alice"])
    web.post(reverse("api:token_list"), {"name": "script"})
    key = re.search(r'id="new-token">(ct_[^<]+)<', web.get(reverse("api:token_list")).content.decode()).group(1)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert [c["person"] for c in api.get("/api/calls/").json()["results"]] == ["alice"]
    assert ApiToken.objects.get().last_used is not None
    token = ApiToken.objects.get()
    assert web.post(reverse("api:token_list"), {"revoke": token.pk}).status_code == 302
    assert api.get("/api/calls/").status_code == 401
    assert AuditEvent.objects.filter(object_type="api.apitoken", action="delete").exists()


def test_an_account_cannot_revoke_another_accounts_token(role_client):
    owner, other = role_client("user"), role_client("user")
    owner.post(reverse("api:token_list"), {"name": "mine"})
    token = ApiToken.objects.get()
    assert other.post(reverse("api:token_list"), {"revoke": token.pk}).status_code == 404
    assert ApiToken.objects.filter(pk=token.pk).exists()


def test_a_token_without_a_name_is_refused_on_the_page(role_client):
    web = role_client("user")
    response = web.post(reverse("api:token_list"), {"name": "  "})
    assert response.status_code == 400 and not ApiToken.objects.exists()


def test_the_command_creates_lists_and_revokes_tokens(cli, role_client, world, capsys):
    user = role_client("user", person=world["alice"], username="carla").user
    key = cli("api", "token", "create", "carla", "--name", "billing sync").strip()
    assert key.startswith("ct_")
    token = ApiToken.objects.get(user=user)
    assert token.digest == hashlib.sha256(key.encode()).hexdigest()
    listed = cli("api", "token", "list", "carla")
    assert "billing sync" in listed and token.prefix in listed and key not in listed
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert api.get("/api/calls/").status_code == 200
    cli("api", "token", "revoke", "carla", token.prefix)
    assert api.get("/api/calls/").status_code == 401
    trail = AuditEvent.objects.filter(object_type="api.apitoken").order_by("id")
    assert [(e.action, e.details.get("via")) for e in trail] == [("create", "command line"),
                                                                  ("delete", "command line")]
    assert key not in str(list(trail.values_list("before", "after")))


def test_the_session_of_a_signed_in_browser_reads_the_api(role_client, world):
    web = role_client("user", person=world["alice"])
    response = web.get("/api/calls/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200 and len(response.json()["results"]) == 1


def test_a_session_write_needs_the_csrf_token(role_client, world):
    from django.test import Client

    web = role_client("administrator")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(web.user)
    response = strict.patch("/api/sites/ROM/", {"name": "Roma"}, content_type="application/json")
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]
