"""Outgoing mail against a real SMTP server: the settings page and `calltally smtp` share one form,
the password is stored encrypted or read from a variable, and a failure is explained in words."""

from __future__ import annotations

import pytest
from django.core.management.base import CommandError
from django.urls import reverse

from calltally import secretstore
from calltally.audit.choices import Action
from calltally.audit.models import AuditEvent
from calltally.conftest import SMTP_PASSWORD as PASSWORD
from calltally.conftest import SMTP_USERNAME as USERNAME
from calltally.conftest import free_port
from calltally.system.forms import MailSettingsForm
from calltally.system.mail import MailError, deliver, send_test
from calltally.system.models import MailSettings, Security
from calltally.system.services import save_settings

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def storage_key(monkeypatch):
    from cryptography.fernet import Fernet

    monkeypatch.setenv(secretstore.KEY_VARIABLE, Fernet.generate_key().decode())


@pytest.fixture
def admin(role_client):
    return role_client("administrator", username="boss")


def configure(**fields) -> MailSettings:
    data = {"host": "127.0.0.1", "port": 25, "security": Security.NONE, "verify_certificate": True,
            "username": "", "password": "", "password_env": "", "from_address": "calltally@example.org",
            "reply_to": "", "timeout": 5}
    data.update(fields)
    form = MailSettingsForm(data)
    assert form.is_valid(), form.errors
    return save_settings(None, form)


def test_a_test_email_reaches_a_plain_smtp_server(smtp_server):
    server = smtp_server()
    mail = configure(port=server.port, reply_to="help@example.org")
    assert "sent to ops@example.org" in send_test(mail, "ops@example.org")
    [message] = server.messages
    assert message["To"] == "ops@example.org" and message["From"] == "calltally@example.org"
    assert message["Reply-To"] == "help@example.org"
    assert "SMTP settings work" in message.get_payload()


def test_the_password_is_stored_encrypted_and_signs_in(smtp_server):
    server = smtp_server(auth=True)
    mail = configure(port=server.port, username=USERNAME, password=PASSWORD)
    assert PASSWORD not in mail.password_sealed and secretstore.decrypt(mail.password_sealed) == PASSWORD
    send_test(mail, "ops@example.org")
    assert server.logins == [USERNAME] and len(server.messages) == 1
    event = AuditEvent.objects.get(action=Action.CONFIGURATION)
    assert PASSWORD not in str(event.after) and mail.password_sealed not in str(event.after)
    assert event.after["password"] == "[redacted]" and event.before["password"] == ""


def test_the_password_may_come_from_an_environment_variable_instead(smtp_server, monkeypatch):
    server = smtp_server(auth=True)
    configure(port=server.port, username=USERNAME, password=PASSWORD)
    mail = configure(port=server.port, username=USERNAME, password_env="CT_SMTP_PASSWORD")
    assert mail.password_sealed == ""  # nothing stored once a variable holds it
    with pytest.raises(MailError, match="CT_SMTP_PASSWORD is not set"):
        send_test(mail, "ops@example.org")
    monkeypatch.setenv("CT_SMTP_PASSWORD", PASSWORD)
    send_test(mail, "ops@example.org")
    assert len(server.messages) == 1


def test_a_wrong_password_is_explained_as_a_refused_sign_in(smtp_server):
    server = smtp_server(auth=True)
    mail = configure(port=server.port, username=USERNAME, password="not it")
    with pytest.raises(MailError, match=r"refused the sign-in as reports@example.org: wrong username or password"):
        send_test(mail, "ops@example.org")
    assert server.messages == []


def test_a_closed_port_is_explained_as_a_refused_connection(db):
    mail = configure(port=free_port())
    with pytest.raises(MailError, match="refused the connection: no mail server listens on that port"):
        send_test(mail, "ops@example.org")


def test_starttls_with_a_self_signed_certificate_is_a_tls_failure_until_checking_is_off(smtp_server):
    server = smtp_server(starttls=True)
    mail = configure(port=server.port, security=Security.STARTTLS)
    with pytest.raises(MailError, match="TLS failed with .*certificate is not trusted"):
        send_test(mail, "ops@example.org")
    mail = configure(port=server.port, security=Security.STARTTLS, verify_certificate=False)
    send_test(mail, "ops@example.org")
    assert len(server.messages) == 1


def test_starttls_against_a_server_without_it_says_so(smtp_server):
    server = smtp_server()
    mail = configure(port=server.port, security=Security.STARTTLS)
    with pytest.raises(MailError, match="does not offer STARTTLS"):
        send_test(mail, "ops@example.org")


def test_tls_from_the_start_works_and_tls_against_a_plain_server_is_explained(smtp_server):
    secure = smtp_server(tls=True)
    send_test(configure(port=secure.port, security=Security.TLS, verify_certificate=False), "ops@example.org")
    assert len(secure.messages) == 1
    plain = smtp_server()
    with pytest.raises(MailError, match="TLS failed|closed the connection"):
        send_test(configure(port=plain.port, security=Security.TLS, verify_certificate=False), "ops@example.org")


def test_smtp_set_and_test_on_the_command_line(cli, smtp_server, monkeypatch):
    server = smtp_server(auth=True)
    monkeypatch.setenv("CT_SMTP_PASSWORD", PASSWORD)
    out = cli("smtp", "set", "--host", "127.0.0.1", "--port", str(server.port), "--username", USERNAME,
              "--password-env", "CT_SMTP_PASSWORD", "--from", "calltally@example.org")
    assert "signs in as reports@example.org (password from $CT_SMTP_PASSWORD)" in out
    assert "sent to ops@example.org" in cli("smtp", "test", "ops@example.org")
    assert len(server.messages) == 1
    assert "last test" in cli("smtp", "show") and "ok" in cli("smtp", "show")
    monkeypatch.setenv("CT_SMTP_PASSWORD", "wrong")
    with pytest.raises(CommandError, match="not sent: .*wrong username or password"):
        cli("smtp", "test", "ops@example.org")
    assert MailSettings.load().last_test_ok is False


def test_the_command_and_the_page_refuse_the_same_settings_with_the_same_reason(cli, admin):
    with pytest.raises(CommandError) as refused:
        cli("smtp", "set", "--host", "mail.example.org", "--port", "587", "--tls", "--from", "c@example.org")
    page = admin.post(reverse("system:settings_section", args=["mail"]), {
        "host": "mail.example.org", "port": "587", "security": "tls", "verify_certificate": "on",
        "from_address": "c@example.org", "timeout": "20"})
    assert page.status_code == 400
    [page_error] = page.context["mail_form"].errors["port"]
    assert page_error in str(refused.value)
    for bad in (["--port", "70000"], ["--password-env", "NOT A NAME"]):
        args = {"--host": "mail.example.org", "--port": "25", "--from": "c@example.org"}
        args.update(dict(zip(bad[::2], bad[1::2], strict=True)))
        with pytest.raises(CommandError):
            cli("smtp", "set", *[item for pair in args.items() for item in pair])
    assert MailSettings.load().host == ""


def test_the_settings_page_saves_mail_settings_and_sends_the_test_email(admin, smtp_server):
    server = smtp_server(auth=True)
    response = admin.post(reverse("system:settings_section", args=["mail"]), {
        "host": "127.0.0.1", "port": str(server.port), "security": "none", "username": USERNAME,
        "password": PASSWORD, "from_address": "calltally@example.org", "timeout": "5"})
    assert response.status_code == 302 and response["Location"].endswith("#mail")
    page = admin.get(reverse("system:settings"))
    assert PASSWORD.encode() not in page.content
    assert b"A password is stored" in page.content
    # Saved again without typing the password: it is kept.
    admin.post(reverse("system:settings_section", args=["mail"]), {
        "host": "127.0.0.1", "port": str(server.port), "security": "none", "username": USERNAME,
        "from_address": "calltally@example.org", "timeout": "5"})
    answer = admin.post(reverse("system:settings_section", args=["mail-test"]), {"to": "ops@example.org"},
                        follow=True)
    assert b"Test e-mail sent to ops@example.org" in answer.content
    assert len(server.messages) == 1
    assert b"Last test" in answer.content
    assert AuditEvent.objects.filter(action=Action.CONFIGURATION, details__test="smtp").exists()


def test_a_report_is_delivered_with_its_attachment_to_several_recipients(smtp_server):
    server = smtp_server()
    configure(port=server.port)
    deliver(["a@example.org", "b@example.org"], "March calls", "Attached.",
            [("march.csv", b"site,cost\nROM,1.25\n", "text/csv")])
    [received] = server.messages
    assert received["To"] == "a@example.org, b@example.org" and received["Subject"] == "March calls"
    [attachment] = [part for part in received.walk() if part.get_filename()]
    assert attachment.get_filename() == "march.csv"
    assert attachment.get_payload(decode=True) == b"site,cost\nROM,1.25\n"
