"""``/api/accounts/`` (administrators only): through the accounts page's form, the one `calltally
account` validates with. ``password`` sets a password the account must change at its next sign-in."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from rest_framework import serializers

from calltally.accounts.forms import AccountPageForm
from calltally.accounts.views import AccountDeleteView, AccountEditView, account_snapshot
from calltally.api.resources import FormResource, documented

from .serializers import AccountSerializer

WRITE = {"password": serializers.CharField(required=False, write_only=True,
                                           help_text="A new password; the account must change it at its next "
                                                     "sign-in. A new account needs one unless it signs in with LDAP.")}


@documented(AccountPageForm, "Account", AccountSerializer, extra=WRITE, skip=("password1", "password2"))
class AccountViewSet(FormResource):
    serializer_class = AccountSerializer
    form_class = AccountPageForm
    policy_class = AccountEditView
    delete_policy_class = AccountDeleteView
    field_names = {"password": "password1"}

    queryset = get_user_model().objects.none()

    def make_form(self, data, instance):
        return AccountPageForm(data, None, instance=instance, scope=self.scope, editor=self.request.user)

    def form_data(self, instance, given):
        data = super().form_data(instance, given)
        data["password2"] = data.get("password1") or ""
        return data

    def current_values(self, instance):
        values = super().current_values(instance)
        values.pop("password1", None)
        values.pop("password2", None)
        return values

    def snapshot(self, user):
        return account_snapshot(user)

    def refusal(self, user) -> str:
        # The accounts page's own refusals, in its words.
        if user.pk == self.request.user.pk:
            return "You cannot delete the account you are signed in with."
        if user.is_superuser and not get_user_model().objects.filter(is_superuser=True).exclude(pk=user.pk).exists():
            return f"{user.username} is the last superuser: make another one first."
        return ""
