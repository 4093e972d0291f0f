from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from calltally.directory.models import CostCenter, Person
from calltally.sites.models import Site


class Role(models.TextChoices):
    """What a sign-in account may do and see (docs/accounts.md)."""

    ADMINISTRATOR = "administrator", "Administrator"  # everything
    SITE_ADMIN = "site-admin", "Site administrator"  # configuration and operations of their sites
    MANAGER = "manager", "Manager"  # read-only: the calls and reports of their cost-center subtree
    USER = "user", "User"  # their own calls only


class Account(models.Model):
    """What CallTally knows of a sign-in account beyond Django's user: its role and
    what the role is about (the sites a site administrator runs, the cost center a
    manager answers for, the directory person whose calls are the account's own),
    and whether it must choose a new password before anything else.

    Every user has one (made with the user; see ``signals``). A superuser is always an
    administrator.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.USER)
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="accounts",
        help_text="The directory person this account is: a user sees this person's calls.",
    )
    sites = models.ManyToManyField(
        Site, blank=True, related_name="administrators", help_text="The sites a site administrator runs.",
    )
    cost_center = models.ForeignKey(
        CostCenter, null=True, blank=True, on_delete=models.SET_NULL, related_name="manager_accounts",
        help_text="A manager sees this cost center and everything below it (without one: the cost centers "
                  "the person manages).",
    )
    must_change_password = models.BooleanField(
        default=False, help_text="The account must choose a new password before anything else.",
    )
    ldap = models.BooleanField(default=False, help_text="Signs in with the directory's (LDAP) password.")

    class Meta:
        ordering = ["user__username"]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"

    def clean(self) -> None:
        """What each role needs to be about. (The sites of a site administrator are checked by the
        form that sets them: a many-to-many field is saved after the account.)"""
        if self.role == Role.USER and self.person_id is None:
            raise ValidationError({"person": "A user sees their own calls: link the account to a directory person."})
        if self.role == Role.MANAGER and self.cost_center_id is None and not self._manages_something():
            raise ValidationError({"cost_center": "A manager needs a cost center, or a linked person who manages one."})

    def _manages_something(self) -> bool:
        return self.person_id is not None and CostCenter.objects.filter(manager_id=self.person_id).exists()
