"""LDAP sign-in against a real OpenLDAP server (the directory tests' private slapd): an account
marked *ldap* signs in with its directory password and no other, and the lockout still counts."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.test import Client, RequestFactory
from django.urls import reverse

from calltally.accounts.models import Account, Role
from calltally.accounts.signin import LdapBackend
from calltally.audit.choices import Action
from calltally.audit.models import AuditEvent
from calltally.directory.models import Person
from calltally.directory.tests.conftest import directory, slapd_server  # noqa: F401 - the fixtures
from calltally.directory.tests.slapd import person_dn

pytestmark = pytest.mark.django_db
DIRECTORY_PASSWORD = "alice's directory pass"
LOCAL_PASSWORD = "a local password 1234"


@pytest.fixture
def with_passwords(directory):  # noqa: F811
    import ldap3

    with directory.admin() as connection:
        connection.modify(person_dn("alice"), {"userPassword": [(ldap3.MODIFY_REPLACE, [DIRECTORY_PASSWORD])]})
    return directory


def ldap_account(username: str, *, person=None, local_password: str | None = None):
    user = get_user_model().objects.create_user(username, password=local_password)
    if local_password is None:
        user.set_unusable_password()
        user.save()
    Account.objects.filter(user=user).update(role=Role.ADMINISTRATOR, ldap=True, person=person)
    return user


def sign_in(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_an_ldap_account_signs_in_with_its_directory_password(with_passwords):
    ldap_account("alice")
    client = Client()
    assert sign_in(client, "alice", DIRECTORY_PASSWORD).status_code == 302
    assert client.get(reverse("home")).status_code == 200
    assert AuditEvent.objects.filter(action=Action.SIGN_IN, username="alice").exists()


def test_the_entry_of_a_linked_person_is_used_whatever_the_account_is_called(with_passwords):
    alice = Person.objects.create(username="alice", ldap_dn=person_dn("alice"))
    ldap_account("a.rossi", person=alice)
    assert sign_in(Client(), "a.rossi", DIRECTORY_PASSWORD).status_code == 302


def test_a_wrong_or_empty_directory_password_is_a_failed_sign_in(with_passwords):
    ldap_account("alice")
    client = Client()
    for password in ("not it", ""):
        response = sign_in(client, "alice", password)
        assert response.status_code == 200 and "_auth_user_id" not in client.session
    # The empty one never reaches the directory: the form wants a password first.
    assert AuditEvent.objects.filter(action=Action.SIGN_IN_FAILED, username="alice").count() == 1
    assert not AuditEvent.objects.filter(action=Action.SIGN_IN).exists()

    with pytest.raises(PermissionDenied):  # an empty password would be an anonymous bind
        LdapBackend().authenticate(RequestFactory().post("/login/"), username="alice", password="")


def test_an_ldap_account_never_signs_in_with_a_local_password(with_passwords):
    ldap_account("alice", local_password=LOCAL_PASSWORD)
    assert sign_in(Client(), "alice", LOCAL_PASSWORD).status_code == 200
    assert sign_in(Client(), "alice", DIRECTORY_PASSWORD).status_code == 302


def test_an_account_not_marked_ldap_keeps_its_local_password(with_passwords):
    get_user_model().objects.create_user("alice", password=LOCAL_PASSWORD)
    assert sign_in(Client(), "alice", DIRECTORY_PASSWORD).status_code == 200
    assert sign_in(Client(), "alice", LOCAL_PASSWORD).status_code == 302


def test_repeated_ldap_failures_lock_the_account_out_even_with_the_directory_password(with_passwords, settings):
    settings.LOGIN_FAILURE_LIMIT = settings.AXES_FAILURE_LIMIT = 2
    ldap_account("alice")
    client = Client()
    assert [sign_in(client, "alice", f"wrong {n}").status_code for n in range(2)] == [200, 429]
    assert sign_in(client, "alice", DIRECTORY_PASSWORD).status_code == 429


def test_without_ldap_settings_an_ldap_account_cannot_sign_in(db, monkeypatch):
    for name in ("CALLTALLY_LDAP_URL", "CALLTALLY_LDAP_BASE_DN"):
        monkeypatch.delenv(name, raising=False)
    ldap_account("alice", local_password=LOCAL_PASSWORD)
    assert sign_in(Client(), "alice", LOCAL_PASSWORD).status_code == 200
    assert AuditEvent.objects.filter(action=Action.SIGN_IN_FAILED, username="alice").exists()
