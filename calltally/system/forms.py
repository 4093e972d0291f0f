"""The one validation path of CallTally's settings: the settings page and ``calltally smtp``
use these forms, so neither accepts what the other refuses."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from calltally import secretstore

from .images import ImageError, check_image
from .models import MailSettings, ReportLogo, RetentionSettings, Security

ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
HOST = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]|[0-9A-Fa-f:]+")


class MailSettingsForm(forms.ModelForm):
    """The SMTP server, its encryption, the sign-in and the sender.

    The password is never shown: typing one replaces the stored one (encrypted with the storage
    key); *forget the stored password* removes it; naming a variable in ``password_env`` reads it
    from the environment instead, and nothing is stored.
    """

    password = forms.CharField(required=False, strip=False, widget=forms.PasswordInput(
        attrs={"autocomplete": "new-password"}), help_text="Leave empty to keep the stored one. Stored encrypted.")
    forget_password = forms.BooleanField(required=False, label="Forget the stored password")

    class Meta:
        model = MailSettings
        fields = ("host", "port", "security", "verify_certificate", "username", "password", "forget_password",
                  "password_env", "from_address", "reply_to", "timeout")

    def __init__(self, data=None, files=None, *, instance=None, scope=None, **kwargs):
        super().__init__(data, files, instance=instance or MailSettings.load(), **kwargs)
        if self.instance.password_sealed:
            self.fields["password"].help_text = "A password is stored (encrypted). Type one to replace it."

    def clean_host(self) -> str:
        host = self.cleaned_data["host"].strip()
        if host and not HOST.fullmatch(host):
            raise ValidationError(f"{host!r} is not a host name or address.")
        return host

    def clean_password_env(self) -> str:
        name = self.cleaned_data["password_env"].strip()
        if name and not ENV_NAME.fullmatch(name):
            raise ValidationError(f"{name!r} is not an environment variable name (letters, digits and _).")
        return name

    def clean(self):
        data = super().clean()
        if data.get("host") and not data.get("from_address"):
            self.add_error("from_address", "Mail needs a sender address.")
        if data.get("password") and data.get("password_env"):
            self.add_error("password", "Give the password or the variable that holds it, not both.")
        if data.get("password") and data.get("forget_password"):
            self.add_error("forget_password", "Type a new password or forget the stored one, not both.")
        if data.get("password") and not data.get("username"):
            self.add_error("username", "A password needs the username it signs in with.")
        stored = self.instance.password_sealed and not data.get("forget_password")
        if data.get("username") and not (data.get("password") or data.get("password_env") or stored):
            self.add_error("password", "A sign-in needs a password: type it, or name the variable that holds it.")
        if data.get("security") == Security.TLS and data.get("port") in (25, 587):
            self.add_error("port", f"Port {data['port']} speaks plain SMTP first: use STARTTLS with it, or "
                                   "port 465 for TLS from the start.")
        if data.get("security") == Security.STARTTLS and data.get("port") == 465:
            self.add_error("port", "Port 465 expects TLS from the start: choose TLS, or port 587 for STARTTLS.")
        return data

    def save(self, commit: bool = True) -> MailSettings:
        mail = super().save(commit=False)
        data = self.cleaned_data
        if data.get("password"):
            mail.password_sealed = secretstore.encrypt(data["password"])
        elif data.get("forget_password") or data.get("password_env"):
            mail.password_sealed = ""
        if commit:
            mail.save()
        return mail


class RetentionForm(forms.ModelForm):
    """How many days calls, raw records and unmasked numbers are kept (0: for ever)."""

    class Meta:
        model = RetentionSettings
        fields = ("calls_days", "raw_days", "mask_after_days", "mask_digits")

    def __init__(self, data=None, files=None, *, instance=None, scope=None, **kwargs):
        super().__init__(data, files, instance=instance or RetentionSettings.load(), **kwargs)
        # A form posted before the field existed (a bookmarked script) keeps the digits as they are.
        self.fields["mask_digits"].required = False

    def clean_mask_digits(self):
        digits = self.cleaned_data.get("mask_digits")
        return self.instance.mask_digits if digits is None else digits

    def clean(self):
        data = super().clean()
        calls, raw = data.get("calls_days"), data.get("raw_days")
        if calls and raw and raw < calls:
            # Recalculating or reprocessing a call reads its raw record: the record must outlive it.
            self.add_error("raw_days", f"Raw records are what calls are recalculated from: keep them at least as "
                                       f"long as calls ({calls} days), or 0 for ever.")
        mask = data.get("mask_after_days")
        if mask and calls and mask > calls:
            self.add_error("mask_after_days", f"Calls are deleted after {calls} days: masking after {mask} days "
                                              "would never happen.")
        return data


class LogoForm(forms.Form):
    """A new logo for reports (PNG, JPEG or SVG, checked by its content), or removing the one there is."""

    logo = forms.FileField(required=False, label="Logo file",
                           help_text="PNG, JPEG or SVG, at most 512 KB.",
                           widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/svg+xml"}))
    remove = forms.BooleanField(required=False, label="Remove the logo")

    def __init__(self, data=None, files=None, *, instance=None, scope=None, **kwargs):
        self.instance = instance or ReportLogo.load()
        super().__init__(data, files, **kwargs)
        if not self.instance.present:
            del self.fields["remove"]

    def clean(self):
        data = super().clean()
        upload = data.get("logo")
        if upload and data.get("remove"):
            raise ValidationError("Upload a logo or remove it, not both.")
        if not upload and not data.get("remove"):
            raise ValidationError("Choose a file to upload.")
        if upload:
            if upload.size > 4 * 1024 * 1024:
                self.add_error("logo", "The file is far too big for a logo (at most 512 KB).")
                return data
            content = upload.read()
            try:
                self.image = check_image(content)
            except ImageError as exc:
                self.add_error("logo", str(exc))
                return data
            data["content"] = content
        return data

    def save(self) -> ReportLogo:
        logo, data = self.instance, self.cleaned_data
        if data.get("remove"):
            logo.content, logo.content_type, logo.filename = b"", "", ""
            logo.width = logo.height = logo.uploaded_at = None
        else:
            logo.content = data["content"]
            logo.content_type = self.image.content_type
            logo.filename = data["logo"].name[:255]
            logo.width, logo.height = self.image.width, self.image.height
            logo.uploaded_at = timezone.now()
        logo.save()
        return logo


class TestMailForm(forms.Form):
    to = forms.EmailField(label="Send a test e-mail to")
