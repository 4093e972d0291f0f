"""CallTally's own settings that an administrator changes from the settings page (or the CLI),
kept in the database: outgoing mail (SMTP), data retention, the logo of reports, and the last
results of the LDAP test and sync.

One small model per concern, each a single row (``load()``): the concerns change at different
times, are audited separately, and a later issue that needs one (the scheduler sends mail, the
retention job deletes calls) reads only its own. The LDAP connection itself is not here: it is
``CALLTALLY_LDAP_*`` in the environment (see :mod:`calltally.directory.ldap.config`), which the
sync command and the service host read too.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class SingleRow(models.Model):
    """A settings model with exactly one row, made with its defaults on first use."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self.pk = 1
        super().save(*args, **kwargs)

    @classmethod
    def load(cls):
        row, _ = cls.objects.get_or_create(pk=1)
        return row


class Security(models.TextChoices):
    NONE = "none", "None (plain SMTP)"
    STARTTLS = "starttls", "STARTTLS"
    TLS = "tls", "TLS from the start (SMTPS)"


class MailSettings(SingleRow):
    """How CallTally sends e-mail (reports, alerts): the SMTP server, its encryption, the sign-in
    and the sender.

    The password is stored encrypted with the storage key (:mod:`calltally.secretstore`) — the
    server needs it replayed, so it cannot be hashed — or not stored at all: ``password_env`` names
    an environment variable that holds it. The last *test e-mail* result is kept for the page.
    """

    host = models.CharField(max_length=255, blank=True, help_text="The SMTP server's name or address. Empty: "
                            "CallTally sends no e-mail.")
    port = models.PositiveIntegerField(default=587, validators=[MinValueValidator(1), MaxValueValidator(65535)],
                                       help_text="587 for STARTTLS, 465 for TLS, 25 for plain SMTP.")
    security = models.CharField(max_length=8, choices=Security.choices, default=Security.STARTTLS)
    verify_certificate = models.BooleanField(default=True, help_text="Check the server's TLS certificate "
                                             "(turn off only for a server with a self-signed one).")
    username = models.CharField(max_length=255, blank=True, help_text="Empty: the server takes mail "
                                "without signing in.")
    password_sealed = models.TextField(blank=True, editable=False,
                                       help_text="The password, encrypted with the storage key.")
    password_env = models.CharField("password variable", max_length=100, blank=True,
                                    help_text="The name of an environment variable holding the password, "
                                              "instead of storing it.")
    from_address = models.EmailField("from", blank=True, help_text="The sender of CallTally's e-mail.")
    reply_to = models.EmailField("reply-to", blank=True)
    timeout = models.PositiveIntegerField(default=20, validators=[MinValueValidator(1), MaxValueValidator(300)],
                                          help_text="Seconds to wait for the server.")
    last_test_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_test_ok = models.BooleanField(null=True, editable=False)
    last_test_message = models.TextField(blank=True, editable=False)

    class Meta:
        verbose_name = "mail settings"
        verbose_name_plural = "mail settings"

    def __str__(self) -> str:
        return f"SMTP {self.host}:{self.port}" if self.host else "SMTP (not set up)"

    @property
    def configured(self) -> bool:
        return bool(self.host and self.from_address)

    @property
    def has_password(self) -> bool:
        return bool(self.password_sealed or self.password_env)


class RetentionSettings(SingleRow):
    """How long CallTally keeps what it records, in days; 0 keeps everything.

    Stored here and shown on the settings page; the daily retention run
    (:func:`calltally.privacy.services.run_retention`) enforces them: it deletes calls and raw spool
    files older than their limit and masks the last ``mask_digits`` digits of the numbers of calls
    older than theirs.
    """

    calls_days = models.PositiveIntegerField("keep calls for (days)", default=0,
                                             help_text="0 keeps calls for ever.")
    raw_days = models.PositiveIntegerField("keep raw records for (days)", default=0,
                                           help_text="The recorder files of the spool; 0 keeps them for ever.")
    mask_after_days = models.PositiveIntegerField("mask numbers after (days)", default=0,
                                                  help_text="Hide the last digits of dialled numbers in calls older "
                                                            "than this; 0 never masks.")
    # How much of a number masking hides: the last digits only, so that a call's country and area
    # (what most questions about old calls ask) stay readable.
    mask_digits = models.PositiveSmallIntegerField("digits to mask", default=4,
                                                   validators=[MinValueValidator(1), MaxValueValidator(15)],
                                                   help_text="How many trailing digits of a number masking hides.")

    class Meta:
        verbose_name = "data retention"
        verbose_name_plural = "data retention"

    def __str__(self) -> str:
        return "data retention"


class ReportLogo(SingleRow):
    """The logo printed on reports: a PNG, JPEG or SVG image, checked and size-bounded on upload
    (:mod:`calltally.system.images`), kept in the database so a backup of it has the logo too."""

    content = models.BinaryField(blank=True, editable=False)
    content_type = models.CharField(max_length=32, blank=True, editable=False)
    filename = models.CharField(max_length=255, blank=True, editable=False)
    width = models.PositiveIntegerField(null=True, editable=False)
    height = models.PositiveIntegerField(null=True, editable=False)
    uploaded_at = models.DateTimeField(null=True, editable=False)

    class Meta:
        verbose_name = "report logo"

    def __str__(self) -> str:
        return self.filename or "no logo"

    @property
    def present(self) -> bool:
        return bool(self.content)


class LdapStatus(SingleRow):
    """The last results of the LDAP *test* and *sync now* of the settings page (the connection
    settings are CALLTALLY_LDAP_* in the environment), so the page shows them after a reload."""

    last_test_at = models.DateTimeField(null=True, editable=False)
    last_test_ok = models.BooleanField(null=True, editable=False)
    last_test_message = models.TextField(blank=True, editable=False)
    last_sync_at = models.DateTimeField(null=True, editable=False)
    last_sync_ok = models.BooleanField(null=True, editable=False)
    last_sync_message = models.TextField(blank=True, editable=False)
    last_sync_report = models.JSONField(default=dict, editable=False)

    class Meta:
        verbose_name = "LDAP status"
        verbose_name_plural = "LDAP status"

    def __str__(self) -> str:
        return "LDAP status"
