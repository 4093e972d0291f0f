"""The accounts page's table: each sign-in account with its role and what the role is about."""

from __future__ import annotations

import django_tables2 as tables
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse

from calltally.webkit import display
from calltally.webkit.tables import BaseTable, link

from .signin import locked_usernames

# A name, a role or an instant broken over lines is hard to read: the table scrolls instead.
NOWRAP = {"td": {"class": "text-nowrap"}}


class AccountTable(BaseTable):
    """Accounts (Django users with their CallTally account). ``locked``: the usernames the sign-in
    lockout holds now, read once for the whole table."""

    username = tables.Column(verbose_name="Username", attrs=NOWRAP)
    role = tables.Column(verbose_name="Role", accessor="account__role", attrs=NOWRAP)
    person = tables.Column(verbose_name="Person", accessor="account__person",
                           order_by=("account__person__last_name", "account__person__first_name"))
    sites = tables.Column(verbose_name="Sites", accessor="account__sites", orderable=False)
    cost_center = tables.Column(verbose_name="Cost center", accessor="account__cost_center",
                                order_by=("account__cost_center__code",))
    last_login = tables.Column(verbose_name="Last sign-in", attrs=NOWRAP)
    locked = tables.Column(verbose_name="Locked out", accessor="username", orderable=False, empty_values=())
    is_active = tables.BooleanColumn(verbose_name="Active")
    ldap = tables.BooleanColumn(verbose_name="LDAP", accessor="account__ldap")
    must_change = tables.BooleanColumn(verbose_name="Must change password", accessor="account__must_change_password")
    email = tables.Column(verbose_name="E-mail")
    actions = tables.Column(verbose_name="", accessor="pk", orderable=False, empty_values=())

    class Meta(BaseTable.Meta):
        model = get_user_model()
        fields = ()
        sequence = ("pk", "username", "role", "person", "sites", "cost_center", "last_login", "locked",
                    "is_active", "ldap", "must_change", "email", "actions")
        order_by = ("username",)
        hidden_by_default = ("email",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.locked = locked_usernames()

    def render_username(self, value, record):
        return link(reverse("accounts:account_edit", args=[record.pk]), value)

    def render_role(self, value, record):
        return record.account.get_role_display()

    def render_person(self, value):
        name = value.full_name
        return f"{name} ({value.username})" if name != value.username else value.username

    def render_sites(self, value):
        return " ".join(sorted(site.code for site in value.all())) or display.EMPTY

    def render_cost_center(self, value):
        return value.code

    def render_last_login(self, value):
        # Accounts belong to no site: the server's zone, with its offset.
        return display.local_time(value, settings.TIME_ZONE)

    def render_locked(self, value):
        return display.badge("locked", "locked") if value in self.locked else ""

    def render_actions(self, value, record):
        return link(reverse("accounts:account_edit", args=[record.pk]), "Edit")

    def value_locked(self, value):
        return "yes" if value in self.locked else "no"
