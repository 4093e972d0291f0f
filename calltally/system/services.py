"""What the settings page and the ``smtp`` command do: save a settings form with its audit
record, send the test e-mail and keep its result, test the LDAP directory and sync it now."""

from __future__ import annotations

from django.utils import timezone

from calltally.audit import services as audit
from calltally.audit.choices import Action
from calltally.directory.ldap import LdapClient, LdapConfig, LdapConfigError, LdapError, sync_directory

from .mail import MailError, send_test
from .models import LdapStatus, MailSettings, ReportLogo


def settings_snapshot(obj) -> dict:
    """A settings row for the audit log: its fields, a stored password only as set or not
    (and even that is redacted by the audit log), a logo without its bytes."""
    values = audit.snapshot(obj, exclude=("password_sealed", "content", "last_test_at", "last_test_ok",
                                          "last_test_message"))
    if isinstance(obj, MailSettings):
        values["password"] = "set" if obj.password_sealed else ""
    if isinstance(obj, ReportLogo):
        values["size"] = len(obj.content or b"")
    return values


def save_settings(request, form, **details):
    """Save a valid settings form and audit it, before and after; returns the saved row."""
    instance = getattr(form, "instance", None)
    before = settings_snapshot(type(instance).load()) if instance is not None else None
    saved = form.save()
    audit.record(request, Action.CONFIGURATION, obj=saved, before=before, after=settings_snapshot(saved),
                 **details)
    return saved


def test_mail(request, to: str, **details) -> tuple[bool, str]:
    """Send the test e-mail; (sent?, what to say). The result is kept on the settings row."""
    mail = MailSettings.load()
    try:
        ok, text = True, send_test(mail, to)
    except MailError as exc:
        ok, text = False, str(exc)
    MailSettings.objects.filter(pk=mail.pk).update(last_test_at=timezone.now(), last_test_ok=ok,
                                                   last_test_message=text)
    audit.record(request, Action.CONFIGURATION, obj=mail, test="smtp", to=to, ok=ok, result=text, **details)
    return ok, text


def ldap_config() -> tuple[LdapConfig | None, str]:
    """The effective CALLTALLY_LDAP_* configuration, or None and why there is none."""
    try:
        return LdapConfig.from_env(), ""
    except LdapConfigError as exc:
        return None, str(exc)


def test_ldap(request) -> tuple[bool, str]:
    """Connect, bind and count the entries the sync would read; the result is kept."""
    config, problem = ldap_config()
    if config is None:
        ok, text = False, problem
    else:
        try:
            with LdapClient(config) as client:
                identity = client.whoami()
                encrypted = client.encrypted
                count = sum(1 for _ in client.search())
        except LdapError as exc:
            ok, text = False, str(exc)
        else:
            ok = True
            text = (f"bound to {config.url} as {identity} ({'encrypted' if encrypted else 'NOT encrypted'}); "
                    f"the search finds {count} entr{'y' if count == 1 else 'ies'}")
    LdapStatus.load()
    LdapStatus.objects.filter(pk=1).update(last_test_at=timezone.now(), last_test_ok=ok, last_test_message=text)
    audit.record(request, Action.CONFIGURATION, test="ldap", ok=ok, result=text)
    return ok, text


def sync_ldap(request) -> tuple[bool, str]:
    """Sync the people from the directory now; the result (and its report) is kept."""
    config, problem = ldap_config()
    report = {}
    if config is None:
        ok, text = False, problem
    else:
        try:
            result = sync_directory(config)
        except (LdapConfigError, LdapError) as exc:
            ok, text = False, str(exc)
        else:
            ok, report = True, result.as_dict()
            text = (f"{result.entries} entries: {len(result.created)} created, {len(result.updated)} updated, "
                    f"{result.unchanged} unchanged, {len(result.deactivated)} deactivated, "
                    f"{len(result.errors)} errors")
    LdapStatus.load()
    LdapStatus.objects.filter(pk=1).update(last_sync_at=timezone.now(), last_sync_ok=ok, last_sync_message=text,
                                           last_sync_report=report)
    audit.record(request, Action.CONFIGURATION, sync="ldap", ok=ok, result=text)
    return ok, text
