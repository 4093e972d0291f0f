"""Who may open which page: sign-in, an account with no scope, forced password change, /healthz."""

from __future__ import annotations

import pytest
from django.urls import reverse

from calltally.accounts.models import Account

from .conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def data_pages(rome_call):
    """The shell's landing page and the calls' pages, with real objects behind the ones that need them
    (each app's tests check its own pages)."""
    return [
        reverse("home"),
        reverse("calls:call_list"),
        reverse("calls:call_detail", args=[rome_call.pk]),
        reverse("calls:raw_record", args=[rome_call.pk]),
        reverse("calls:discarded_list"),
    ]


def test_it_redirects_anonymous_users_to_login(client, data_pages):
    for url in [*data_pages, reverse("password_change"), reverse("password_change_done")]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == f"{reverse('login')}?next={url}", url


def test_the_login_page_signs_a_user_in_and_goes_to_the_page_asked_for(client, rome):
    make_user("operator", staff=True)
    page = client.get(reverse("login") + "?next=/sites/")
    assert page.status_code == 200
    assert b"Sign in" in page.content

    credentials = {"username": "operator", "password": PASSWORD, "next": "/sites/"}
    response = client.post(reverse("login"), credentials)
    assert response.status_code == 302
    assert response["Location"] == "/sites/"
    assert client.get("/sites/").status_code == 200


def test_a_wrong_password_shows_an_error_on_the_login_page(client, db):
    make_user("operator", staff=True)
    response = client.post(reverse("login"), {"username": "operator", "password": "nope"})
    assert response.status_code == 200
    assert b"alert-error" in response.content


def test_logging_out_takes_a_post_and_returns_to_the_login_page(staff_client):
    assert staff_client.get(reverse("logout")).status_code == 405
    response = staff_client.post(reverse("logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert staff_client.get(reverse("home")).status_code == 302


def test_a_signed_in_account_that_sees_nothing_gets_a_403_that_says_why(plain_client, data_pages):
    # A user with no directory person linked: their own calls are no calls.
    for url in data_pages:
        response = plain_client.get(url)
        assert response.status_code == 403, url
        assert b"administrator must" in response.content, url
        # No call data and no links to pages the account cannot open.
        assert b"Rome office" not in response.content
        assert reverse("calls:call_list").encode() not in response.content


def test_an_account_that_sees_nothing_may_still_change_its_password(plain_client):
    assert plain_client.get(reverse("password_change")).status_code == 200


def test_an_account_that_must_change_its_password_is_sent_to_the_form_from_every_page(client, data_pages):
    user = make_user("admin", staff=True, must_change=True)
    client.force_login(user)
    for url in [*data_pages, reverse("login"), reverse("password_change_done")]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == reverse("password_change"), url
    form = client.get(reverse("password_change"))
    assert form.status_code == 200
    assert b"must choose a new password" in form.content


def test_changing_the_password_releases_the_account(client, data_pages):
    user = make_user("admin", staff=True, must_change=True)
    client.force_login(user)
    new_password = "a much better secret 42"
    response = client.post(reverse("password_change"), {
        "old_password": PASSWORD, "new_password1": new_password, "new_password2": new_password,
    })
    assert response.status_code == 302
    assert response["Location"] == reverse("password_change_done")
    assert Account.objects.get(user=user).must_change_password is False

    # Still signed in (the session survives the change) and free to go anywhere.
    done = client.get(reverse("password_change_done"))
    assert done.status_code == 200
    assert b"Password changed" in done.content
    for url in data_pages:
        assert client.get(url).status_code == 200, url
    user.refresh_from_db()
    assert user.check_password(new_password)


def test_a_rejected_new_password_keeps_the_account_locked(client, rome):
    user = make_user("admin", staff=True, must_change=True)
    client.force_login(user)
    response = client.post(reverse("password_change"), {
        "old_password": PASSWORD, "new_password1": "123", "new_password2": "123",
    })
    assert response.status_code == 200
    assert Account.objects.get(user=user).must_change_password is True
    assert client.get(reverse("home"))["Location"] == reverse("password_change")


def test_changing_the_password_works_for_an_account_without_flags(staff_client, staff_user):
    new_password = "another long passphrase 7"
    response = staff_client.post(reverse("password_change"), {
        "old_password": PASSWORD, "new_password1": new_password, "new_password2": new_password,
    })
    assert response.status_code == 302
    assert not Account.objects.filter(user=staff_user, must_change_password=True).exists()


def test_healthz_answers_ok_without_login(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"
    assert response["Content-Type"].startswith("text/plain")
    assert reverse("healthz") == "/healthz"


def test_the_stylesheet_is_served_without_login(client, db):
    # WhiteNoise answers before the login middleware; the login page needs its CSS.
    response = client.get("/static/calltally/calltally.css")
    assert response.status_code == 200
