"""The accounts pages (administrators only): list, add, change (with the password reset and the
lifting of a sign-in lockout) and delete sign-in accounts.

They go through :class:`.forms.AccountForm`, the form ``calltally account`` uses, so the page
and the command accept and refuse the same accounts.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse

from calltally.audit import services as audit
from calltally.audit.choices import Action
from calltally.webkit.views import ObjectDeleteView, ObjectEditView, ObjectListView, Page

from .filtersets import AccountFilterSet
from .forms import AccountPageForm
from .models import Account
from .services import account_of
from .signin import locked_usernames, unlock
from .tables import AccountTable


def account_snapshot(user) -> dict:
    """What the audit log keeps of an account: never its password, not even hashed."""
    account_of(user)  # made if missing
    # Read afresh: the user's cached account is the one from before a save.
    account = Account.objects.select_related("person", "cost_center").prefetch_related("sites").get(user=user)
    return {
        "username": user.username, "email": user.email, "active": user.is_active, "superuser": user.is_superuser,
        "role": account.role, "person": account.person.username if account.person else None,
        "sites": sorted(site.code for site in account.sites.all()),
        "cost_center": account.cost_center.code if account.cost_center else None,
        "ldap": account.ldap, "must_change_password": account.must_change_password,
    }


class AccountPage(Page):
    """What the accounts pages share: Django's users, with their accounts, for administrators."""

    model = get_user_model()
    url_base = "accounts:account"
    audience = "administrator"

    @property
    def verbose_name(self) -> str:
        return "account"

    @property
    def verbose_name_plural(self) -> str:
        return "accounts"

    def base_queryset(self):
        return get_user_model().objects.select_related(
            "account", "account__person", "account__cost_center").prefetch_related("account__sites")

    def may_change(self, obj=None) -> bool:
        return self.scope.is_administrator


class AccountListView(AccountPage, ObjectListView):
    title = "Accounts"
    table_class = AccountTable
    filterset_class = AccountFilterSet
    bulk_actions = ()
    export_name = "accounts.csv"
    empty_hint = "Add an account for each person who signs in to CallTally, with the role it needs."


class AccountEditView(AccountPage, ObjectEditView):
    form_class = AccountPageForm
    template_name = "accounts/account_edit.html"

    def make_form(self, data=None, files=None):
        return self.form_class(data, files, instance=self.object, scope=self.scope, editor=self.request.user)

    def snapshot(self, obj) -> dict:
        return account_snapshot(obj)

    def detail_url(self, obj):
        return None

    def success_url(self, obj) -> str:
        return self.url("list")

    def context(self, **extra) -> dict:
        if "cancel_url" in extra:
            extra["cancel_url"] = extra["cancel_url"] or self.url("list")
        obj = extra.get("object")
        if obj is not None:
            extra.update(locked=obj.username in locked_usernames([obj.username]), server_zone=settings.TIME_ZONE,
                         unlock_url=self.url("unlock", obj.pk), delete_url=self.url("delete", obj.pk))
        return super().context(**extra)


class AccountUnlockView(AccountPage):
    """Lifts the sign-in lockout of an account, from every address (POST)."""

    def post(self, request, pk):
        user = get_object_or_404(self.get_queryset(), pk=pk)
        addresses = unlock(user.username)
        audit.record(request, Action.UPDATE, obj=user, before={"locked": True}, after={"locked": False},
                     unlocked=addresses)
        messages.success(request, f"The sign-in lockout of {user.username} is lifted." if addresses
                         else f"{user.username} was not locked out.")
        return HttpResponseRedirect(self.url("edit", user.pk))


class AccountDeleteView(AccountPage, ObjectDeleteView):
    audit_exclude = ("password",)

    def get_object(self, **kwargs):
        user = super().get_object(**kwargs)
        if user.pk == self.request.user.pk:
            raise PermissionDenied("You cannot delete the account you are signed in with.")
        if user.is_superuser and not get_user_model().objects.filter(is_superuser=True).exclude(pk=user.pk).exists():
            raise PermissionDenied(f"{user.username} is the last superuser: make another one first.")
        return user

    def context(self, **extra) -> dict:
        if "cancel_url" in extra and extra.get("object") is not None:
            extra["cancel_url"] = reverse("accounts:account_edit", args=[extra["object"].pk])
        return super().context(**extra)
