"""The one validation path for sign-in accounts: the web pages and `calltally account`
use these forms, so neither can set up an account the other would refuse."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.db import transaction

from calltally.directory.models import CostCenter, Person
from calltally.sites.models import Site

from .models import Account, Role


class AccountForm(forms.Form):
    """An account's name, role and what the role is about. ``instance``: the user to change."""

    username = forms.CharField(max_length=150, help_text="What the account signs in with.")
    email = forms.EmailField(required=False)
    role = forms.ChoiceField(choices=Role.choices)
    person = forms.ModelChoiceField(
        Person.objects.all(), to_field_name="username", required=False,
        help_text="The directory person this account is (by username; a new account is linked to the person "
                  "with its username when none is picked). A user sees this person's calls.",
    )
    sites = forms.ModelMultipleChoiceField(
        Site.objects.all(), to_field_name="code", required=False, help_text="The sites a site administrator runs.",
    )
    cost_center = forms.ModelChoiceField(
        CostCenter.objects.all(), to_field_name="code", required=False,
        help_text="A manager sees this cost center and everything below it.",
    )
    ldap = forms.BooleanField(required=False, label="Signs in with LDAP",
                              help_text="The directory (LDAP) checks the password instead of CallTally.")
    active = forms.BooleanField(required=False, initial=True)

    def __init__(self, data=None, files=None, *, instance=None, scope=None, **kwargs):
        # ``scope``: the signed-in account's, when a web page makes the form (the pages are for
        # administrators, who may set anything; the CLI runs as the machine's administrator).
        self.instance = instance
        self.scope = scope
        if instance is not None and "initial" not in kwargs:
            account = instance.account
            kwargs["initial"] = {
                "username": instance.username, "email": instance.email, "role": account.role,
                "person": account.person.username if account.person else None,
                "sites": [site.code for site in account.sites.all()],
                "cost_center": account.cost_center.code if account.cost_center else None,
                "ldap": account.ldap, "active": instance.is_active,
            }
        super().__init__(data, files, **kwargs)

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        users = get_user_model().objects.filter(username=username)
        if self.instance is not None:
            users = users.exclude(pk=self.instance.pk)
        if users.exists():
            raise ValidationError(f"An account named {username!r} exists already.")
        return username

    def clean(self):
        data = super().clean()
        role = data.get("role")
        if self.instance is None and not data.get("person") and data.get("username") and "person" not in self.errors:
            # Linked by username: a new account named like a directory person is that person,
            # unless another one was picked.
            data["person"] = Person.objects.filter(username=data["username"]).first()
        if role == Role.SITE_ADMIN and not data.get("sites"):
            self.add_error("sites", "A site administrator needs at least one site.")
        if role == Role.USER and not data.get("person"):
            self.add_error("person", "A user sees their own calls: name the directory person the account is.")
        if role == Role.MANAGER and not data.get("cost_center"):
            person = data.get("person")
            if person is None or not CostCenter.objects.filter(manager=person).exists():
                self.add_error("cost_center", "A manager needs a cost center, or a person who manages one.")
        if self.instance is not None and self.instance.is_superuser and role and role != Role.ADMINISTRATOR:
            self.add_error("role", "A superuser is always an administrator.")
        return data

    @transaction.atomic
    def save(self, password: str | None = None, must_change_password: bool | None = None):
        """Create or change the account; returns the user. A new account without a password
        gets none that works (an LDAP account, or one whose password is set later)."""
        data = self.cleaned_data
        users = get_user_model()
        user = self.instance or users(username=data["username"])
        user.username, user.email, user.is_active = data["username"], data.get("email") or "", data["active"]
        if self.instance is None and password is None:
            user.set_unusable_password()
        if password is not None:
            user.set_password(password)
        user.save()
        account, _ = Account.objects.get_or_create(user=user)
        account.role = data["role"]
        account.person = data.get("person")
        account.cost_center = data.get("cost_center")
        account.ldap = bool(data.get("ldap"))
        if must_change_password is not None:
            account.must_change_password = must_change_password
        account.save()
        account.sites.set(data.get("sites") or [])
        # The user caches the account the post-save signal made with the default role.
        user.account = account
        return user


def check_password(password: str, user=None) -> None:
    """Django's password rules (length, common passwords, likeness to the name); raises
    ValidationError with what is wrong."""
    password_validation.validate_password(password, user)


class AccountPageForm(AccountForm):
    """The accounts page's form: :class:`AccountForm` (the CLI's, so both accept and refuse the
    same accounts) and the password an administrator sets.

    A new account gets the password typed here and must change it at first sign-in, as one made
    with ``calltally account add``; on an existing account a password typed here resets it, and
    the account must choose a new one at its next sign-in. An LDAP account needs none.
    """

    password1 = forms.CharField(label="Password", required=False, strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                                help_text="The account must change it at first sign-in.")
    password2 = forms.CharField(label="Password again", required=False, strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def __init__(self, *args, editor=None, **kwargs):
        # ``editor``: the signed-in user, who may not take their own administration away.
        self.editor = editor
        super().__init__(*args, **kwargs)
        # Boxes to tick rather than a list that needs Ctrl to pick several.
        sites = self.fields["sites"]
        sites.widget = forms.CheckboxSelectMultiple()
        sites.widget.choices = sites.choices
        if self.instance is not None:
            self.fields["password1"].label = "New password"
            self.fields["password1"].help_text = ("Leave empty to keep the password. A new one must be changed "
                                                  "at the next sign-in.")
            self.fields["password2"].label = "New password again"

    def clean(self):
        data = super().clean()
        first, second = data.get("password1") or "", data.get("password2") or ""
        if first != second:
            self.add_error("password2", "The two passwords differ.")
        elif first:
            probe = self.instance or get_user_model()(username=data.get("username") or "")
            try:
                check_password(first, probe)
            except ValidationError as exc:
                self.add_error("password1", exc)
        elif self.instance is None and not data.get("ldap"):
            self.add_error("password1", "A new account needs a password (or signs in with LDAP).")
        editor = self.editor
        if editor is not None and self.instance is not None and self.instance.pk == editor.pk:
            if data.get("role") and data["role"] != Role.ADMINISTRATOR:
                self.add_error("role", "You cannot take your own administrator role away: ask another administrator.")
            if "active" in data and not data["active"]:
                self.add_error("active", "You cannot deactivate the account you are signed in with.")
        return data

    def save(self, password=None, must_change_password=None):
        password = self.cleaned_data.get("password1") or None
        # Whoever chose this password is not the account: it must choose its own.
        return super().save(password=password, must_change_password=True if password else None)
