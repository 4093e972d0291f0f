"""Web security, through real requests: sign-in lockout, audit of sign-ins, password hashing,
the proxy settings, idle sign-out, the first administrator's forced password change, and the
error pages that say what to do without showing a traceback."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_not_required
from django.test import Client
from django.urls import include, path, reverse

from calltally.accounts.models import Account
from calltally.accounts.services import ensure_first_admin
from calltally.audit.choices import Action
from calltally.audit.models import AuditEvent
from calltally.web import errors
from calltally.web.sessions import LAST_SEEN

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


def boom(request):
    raise RuntimeError("secret internals: /etc/calltally/db-password")


# This module doubles as a URLconf for the 500-page test: CallTally's pages and one that fails.
urlpatterns = [path("boom/", login_not_required(boom)), path("", include("calltally.urls"))]
handler500 = "calltally.web.errors.server_error"


@pytest.fixture
def alice(db):
    user = get_user_model().objects.create_user("alice", password=PASSWORD)
    Account.objects.filter(user=user).update(role="administrator")
    return user


def sign_in(client, username, password, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def actions(username=None):
    events = AuditEvent.objects.order_by("when", "id")
    if username is not None:
        events = events.filter(username=username)
    return list(events.values_list("action", flat=True))


def test_a_sign_in_and_a_sign_out_are_audited_with_the_address(client, alice):
    response = sign_in(client, "alice", PASSWORD, REMOTE_ADDR="192.0.2.10")
    assert response.status_code == 302
    client.post(reverse("logout"), REMOTE_ADDR="192.0.2.10")
    events = list(AuditEvent.objects.order_by("id"))
    assert [event.action for event in events] == [Action.SIGN_IN, Action.SIGN_OUT]
    assert {event.username for event in events} == {"alice"}
    assert {event.address for event in events} == {"192.0.2.10"}
    assert events[0].user == alice


def test_a_failed_sign_in_is_audited_with_the_name_typed_and_never_the_password(client, alice):
    response = sign_in(client, "alice", "wrong guess 1")
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content
    event = AuditEvent.objects.get()
    assert (event.action, event.username) == (Action.SIGN_IN_FAILED, "alice")
    assert "wrong guess" not in json.dumps([event.details, event.before, event.after])


def test_repeated_failures_lock_the_account_out_even_with_the_right_password(client, alice, settings, caplog):
    settings.LOGIN_FAILURE_LIMIT = settings.AXES_FAILURE_LIMIT = 3
    caplog.set_level(logging.WARNING, logger="calltally.security")
    statuses = [sign_in(client, "alice", f"wrong {n}").status_code for n in range(3)]
    assert statuses == [200, 200, 429]
    right = sign_in(client, "alice", PASSWORD)
    assert right.status_code == 429
    assert b"Sign-in locked" in right.content
    assert int(right["Retry-After"]) > 0
    assert "_auth_user_id" not in client.session
    assert actions("alice").count(Action.LOCKED_OUT) == 1
    assert Action.SIGN_IN not in actions("alice")
    warnings = [r.getMessage() for r in caplog.records if r.name == "calltally.security"]
    assert len(warnings) == 1
    assert "locked out" in warnings[0] and "'alice'" in warnings[0]


def test_the_lockout_is_per_address(client, alice, settings):
    settings.LOGIN_FAILURE_LIMIT = settings.AXES_FAILURE_LIMIT = 2
    for n in range(2):
        sign_in(client, "alice", f"wrong {n}", REMOTE_ADDR="192.0.2.66")
    assert sign_in(client, "alice", PASSWORD, REMOTE_ADDR="192.0.2.66").status_code == 429
    assert sign_in(Client(), "alice", PASSWORD, REMOTE_ADDR="192.0.2.7").status_code == 302


def test_a_success_clears_the_failures_counted_so_far(client, alice, settings):
    settings.LOGIN_FAILURE_LIMIT = settings.AXES_FAILURE_LIMIT = 3
    sign_in(client, "alice", "wrong 1")
    sign_in(client, "alice", "wrong 2")
    assert sign_in(client, "alice", PASSWORD).status_code == 302
    client.post(reverse("logout"))
    sign_in(client, "alice", "wrong 3")
    sign_in(client, "alice", "wrong 4")
    assert sign_in(client, "alice", PASSWORD).status_code == 302


def test_passwords_are_stored_as_argon2_hashes(client, db):
    user = get_user_model().objects.create_user("bruno", password=PASSWORD)
    assert user.password.startswith("argon2$")
    assert PASSWORD not in user.password


def test_an_old_pbkdf2_hash_is_upgraded_to_argon2_at_the_next_sign_in(client, db):
    from django.contrib.auth.hashers import make_password

    user = get_user_model().objects.create_user("carla")
    get_user_model().objects.filter(pk=user.pk).update(password=make_password(PASSWORD, hasher="pbkdf2_sha256"))
    assert sign_in(client, "carla", PASSWORD).status_code == 302
    user.refresh_from_db()
    assert user.password.startswith("argon2$")


def settings_under(env: dict) -> dict:
    """Some settings as the settings module computes them from the environment, in a fresh process."""
    code = ("import json, calltally.settings as s; print(json.dumps({name: getattr(s, name, None) for name in "
            "('SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SECURE_HSTS_SECONDS', 'SECURE_PROXY_SSL_HEADER', "
            "'SECURE_SSL_REDIRECT', 'SESSION_IDLE_MINUTES', 'AXES_FAILURE_LIMIT', 'ALLOWED_HOSTS')}))")
    variables = {key: value for key, value in os.environ.items() if not key.startswith("CALLTALLY_")
                 or key in ("CALLTALLY_DATA_DIR",)}
    variables.update(env)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=variables, timeout=60,
                          check=True)
    return json.loads(done.stdout)


def test_behind_a_tls_proxy_cookies_are_secure_and_hsts_is_sent_and_not_otherwise(tmp_path):
    direct = settings_under({"CALLTALLY_DATA_DIR": str(tmp_path)})
    assert not direct["SESSION_COOKIE_SECURE"] and not direct["SECURE_HSTS_SECONDS"]
    assert direct["SECURE_PROXY_SSL_HEADER"] is None
    proxied = settings_under({"CALLTALLY_DATA_DIR": str(tmp_path), "CALLTALLY_BEHIND_PROXY": "true",
                              "CALLTALLY_SESSION_IDLE_MINUTES": "5", "CALLTALLY_LOGIN_FAILURE_LIMIT": "7"})
    assert proxied["SESSION_COOKIE_SECURE"] is True and proxied["CSRF_COOKIE_SECURE"] is True
    assert proxied["SECURE_HSTS_SECONDS"] == 365 * 24 * 3600
    assert proxied["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert proxied["SECURE_SSL_REDIRECT"] is False
    assert (proxied["SESSION_IDLE_MINUTES"], proxied["AXES_FAILURE_LIMIT"]) == (5, 7)


@pytest.fixture
def behind_proxy(settings):
    settings.BEHIND_PROXY = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_HSTS_SECONDS = 31536000


def test_behind_the_proxy_the_session_cookie_is_secure_and_hsts_is_sent_over_https(client, alice, behind_proxy):
    response = sign_in(client, "alice", PASSWORD, HTTP_X_FORWARDED_PROTO="https",
                       HTTP_X_FORWARDED_FOR="198.51.100.4, 10.0.0.1", REMOTE_ADDR="10.0.0.1")
    assert response.status_code == 302
    cookie = response.cookies["sessionid"]
    assert cookie["secure"] is True and cookie["httponly"] is True
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    # The proxy's X-Forwarded-For names the client; the audit trail keeps that address, not the proxy's.
    assert AuditEvent.objects.get(action=Action.SIGN_IN).address == "198.51.100.4"


def test_without_the_proxy_setting_a_forwarded_address_is_not_believed(client, alice):
    sign_in(client, "alice", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.4", REMOTE_ADDR="192.0.2.1")
    assert AuditEvent.objects.get(action=Action.SIGN_IN).address == "192.0.2.1"


def test_every_page_carries_a_content_security_policy_without_inline_scripts(client, alice):
    response = client.get(reverse("login"))
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert response["X-Frame-Options"] == "DENY"


def test_an_idle_session_ends_and_the_sign_out_is_audited_as_idle(client, alice, settings):
    settings.SESSION_IDLE_MINUTES = 10
    client.force_login(alice)
    assert client.get(reverse("password_change")).status_code == 200
    session = client.session
    session[LAST_SEEN] = time.time() - 11 * 60
    session.save()
    response = client.get(reverse("password_change"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")
    assert "_auth_user_id" not in client.session
    event = AuditEvent.objects.get(action=Action.SIGN_OUT)
    assert event.details == {"reason": "idle"}
    page = client.get(response["Location"])
    assert b"signed out after 10 minutes without activity" in page.content


def test_a_session_used_within_the_idle_time_stays_open(client, alice, settings):
    settings.SESSION_IDLE_MINUTES = 10
    client.force_login(alice)
    client.get(reverse("password_change"))
    session = client.session
    session[LAST_SEEN] = time.time() - 9 * 60
    session.save()
    assert client.get(reverse("password_change")).status_code == 200
    assert not AuditEvent.objects.filter(action=Action.SIGN_OUT).exists()


def test_the_first_administrator_signs_in_with_admin_admin_and_must_change_the_password_first(client):
    assert ensure_first_admin() is True
    assert ensure_first_admin() is False
    response = sign_in(client, "admin", "admin")
    assert response.status_code == 302
    # Every page sends it to the password form until it has chosen one.
    for page in (reverse("home"), "/admin/"):
        answer = client.get(page)
        assert answer.status_code == 302 and answer["Location"] == reverse("password_change")
    form = client.get(reverse("password_change"))
    assert b"must choose a new password" in form.content
    refused = client.post(reverse("password_change"), {"old_password": "admin", "new_password1": "admin",
                                                       "new_password2": "admin"})
    assert refused.status_code == 200 and not refused.context["form"].is_valid()
    changed = client.post(reverse("password_change"), {"old_password": "admin", "new_password1": PASSWORD,
                                                       "new_password2": PASSWORD})
    assert changed.status_code == 302
    assert Account.objects.get(user__username="admin").must_change_password is False
    assert client.get(reverse("password_change_done")).status_code == 200
    client.post(reverse("logout"))
    assert sign_in(client, "admin", "admin").status_code == 200
    assert sign_in(client, "admin", PASSWORD).status_code == 302


def test_an_unknown_host_name_gets_a_page_naming_the_setting_and_one_log_line(client, caplog, db):
    caplog.set_level(logging.WARNING, logger="calltally.security")
    host = f"pbx-{time.monotonic_ns()}.example.net"
    first = client.get("/login/", HTTP_HOST=host + ":8000")
    second = client.get("/login/", HTTP_HOST=host + ":8000")
    for response in (first, second):
        assert response.status_code == 400
        assert b"CALLTALLY_ALLOWED_HOSTS" in response.content
        assert host.encode() in response.content
    lines = [r.getMessage() for r in caplog.records if r.name == "calltally.security" and host in r.getMessage()]
    assert len(lines) == 1
    assert "CALLTALLY_ALLOWED_HOSTS=" in lines[0] and "localhost" in lines[0]


def test_unknown_host_names_stop_being_logged_after_a_hundred(monkeypatch):
    monkeypatch.setitem(errors._logged, "host", set())
    fresh = [errors.first_time("host", f"h{n}.example") for n in range(errors.REMEMBERED + 5)]
    assert fresh.count(True) == errors.REMEMBERED
    assert errors.first_time("host", "h0.example") is False


@pytest.mark.urls("calltally.web.tests.test_security")
def test_the_500_page_shows_no_traceback_and_the_log_has_it(db, caplog):
    client = Client(raise_request_exception=False)
    caplog.set_level(logging.ERROR, logger="django.request")
    response = client.get("/boom/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong" in body
    assert "secret internals" not in body and "Traceback" not in body and "RuntimeError" not in body
    assert any("secret internals" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)


def test_a_form_from_an_unknown_origin_is_refused_with_the_setting_to_change(db, caplog):
    caplog.set_level(logging.WARNING, logger="calltally.security")
    client = Client(enforce_csrf_checks=True)
    client.get(reverse("login"))
    token = client.cookies["csrftoken"].value
    origin = f"https://calltally-{time.monotonic_ns()}.example.com"
    response = client.post(reverse("login"), {"username": "x", "password": "y", "csrfmiddlewaretoken": token},
                           HTTP_ORIGIN=origin)
    assert response.status_code == 403
    assert b"CALLTALLY_CSRF_TRUSTED_ORIGINS" in response.content or b"CALLTALLY_BEHIND_PROXY" in response.content
    assert any(origin in r.getMessage() and "CALLTALLY_CSRF_TRUSTED_ORIGINS" in r.getMessage()
               for r in caplog.records)
